from __future__ import annotations

from pathlib import Path

from statbot.testing import ChatDriver


async def test_dataset_over_the_session_limit_is_refused_in_words(tmp_path: Path) -> None:
    csv = tmp_path / "wide.csv"
    csv.write_text("a,b\n" + "".join(f"{i},{i * 2.5}\n" for i in range(20_000)))
    async with ChatDriver(tmp_path / "var", max_dataframe_size_mb=0.1) as chat:
        await chat.send("/train")
        said = "\n".join(r.text for r in await chat.upload(csv))
        assert "0.1 MB" in said and "MB" in said, said
        assert (await chat.state())[1] == "data"  # still at the data step, usable

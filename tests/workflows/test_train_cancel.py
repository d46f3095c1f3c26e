"""/cancel while a model trains kills the job's process and says so (issue #4)."""

from __future__ import annotations

from pathlib import Path

from statbot.engine.replies import Reply, ReplyKind
from statbot.jobs.base import JobStatus
from statbot.testing import ChatDriver


def big_csv(path: Path) -> Path:
    from sklearn.datasets import make_classification

    x, y = make_classification(n_samples=20_000, n_features=20, random_state=0)
    import pandas as pd

    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(x.shape[1])])
    frame["label"] = y
    frame.to_csv(path, index=False)
    return path


def text(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


async def test_cancel_kills_the_training_job(tmp_path: Path) -> None:
    async with ChatDriver(tmp_path / "var", jobs=True) as chat:
        await chat.send("/train")
        await chat.upload(big_csv(tmp_path / "big.csv"))
        await chat.press("Looks right")
        await chat.send("label")
        await chat.press("Done")
        await chat.send("auto")
        await chat.press("Train")

        def running(replies: list[Reply]) -> bool:
            return any(r.kind is ReplyKind.PROGRESS and (r.fraction or 0) > 0 for r in replies)

        await chat.wait_for(running, seconds=60)
        job_id = next(r.progress_id for r in chat.replies if r.kind is ReplyKind.PROGRESS)
        assert job_id is not None
        said = text(await chat.send("/cancel"))
        assert "stopped the training job" in said
        info = await chat.services.jobs.status(job_id)
        assert info is not None and info.status is JobStatus.CANCELLED
        assert chat.services.models.list(chat.key.user_id) == []
        assert await chat.state() == (None, None) or (await chat.state())[0] is None

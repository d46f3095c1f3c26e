"""Write the real conversations into docs/USER_GUIDE.md.

Runs each workflow through :class:`statbot.testing.ChatDriver` — the real engine, real
workflows, a real local job runner training in a subprocess — on scikit-learn's bundled iris
data, and puts each transcript between its markers in the guide::

    <!-- transcript:train -->
    ...generated...
    <!-- /transcript:train -->

Usage: ``.venv/bin/python scripts/user_guide.py [--output docs/USER_GUIDE.md]``. Text outside the
markers is kept as written. Ids, dates and library versions come from the run.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from statbot.engine.events import EventKind, Payment
from statbot.engine.replies import STARS, Reply
from statbot.testing import ChatDriver

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "USER_GUIDE.md"
SECTIONS = (
    "start",
    "train",
    "predict",
    "stats",
    "explore",
    "import",
    "models",
    "kb",
    "buy",
    "back",
    "cancel",
    "quota",
    "forget",
)
_BLOCK = re.compile(r"(<!-- transcript:(\w+) -->\n).*?(<!-- /transcript:\2 -->)", re.S)


def _trained(replies: list[Reply]) -> bool:
    return any(
        "Model trained" in r.text or "Model saved" in r.text or "training failed" in r.text
        for r in replies
    )


def _write_data(folder: Path) -> tuple[Path, Path]:
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    frame.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]
    frame["species"] = frame["species"].map({0: "setosa", 1: "versicolor", 2: "virginica"})
    iris, new = folder / "iris.csv", folder / "new_flowers.csv"
    frame.to_csv(iris, index=False)
    frame.drop(columns=["species"]).iloc[::30].to_csv(new, index=False)
    return iris, new


def _write_export(folder: Path) -> Path:
    """A spreadsheet export: two title lines above the header, amounts in dollars with
    thousands separators, store numbers and zip codes (made here, no download)."""
    import numpy as np

    rng = np.random.default_rng(11)
    lines = ["Sales export - Q1 2024", "(amounts in USD)", "region,store,revenue,zip"]
    for i in range(24):
        store = 101 + i % 4
        revenue = 900 + 150 * (store - 100) + rng.normal(0, 120)
        region = ("North", "South")[store % 2]
        lines.append(f'{region},{store},"${revenue:,.2f}",0{2134 + store}')
    path = folder / "sales_q1.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def conversations(work: Path) -> dict[str, str]:
    """Every section's transcript, from one user's conversation in order."""
    iris, new = _write_data(work)
    out: dict[str, str] = {}
    async with ChatDriver(work / "data", jobs=True) as chat:

        async def section(name: str, steps: Callable[[], Awaitable[object]]) -> None:
            mark = chat.mark()
            await steps()
            out[name] = chat.transcript(mark)

        async def start() -> None:
            await chat.send("/start")
            await chat.send("/help")

        async def train() -> None:
            await chat.send("/train")
            await chat.upload(iris)
            await chat.press("Looks right")
            await chat.send("specis")
            await chat.send("species")
            await chat.press("Done")
            await chat.send("random forest")
            await chat.press("Train")
            await chat.wait_for(_trained, 180)

        async def predict() -> None:
            await chat.send("/predict")
            await chat.press("latest")
            await chat.upload(new)

        async def stats() -> None:
            await chat.send("/stats")
            await chat.upload(iris)
            await chat.press("Correlation")
            await chat.press("Done")
            await chat.press("Another analysis")
            await chat.press("Test")
            await chat.send("petal_length")
            await chat.send("species")
            await chat.press("Another analysis")
            await chat.send("regression")
            await chat.send("petal_width")
            await chat.send("petal_length")
            await chat.press("Done")

        async def explore() -> None:
            await chat.send("/explore")
            await chat.press("Use iris.csv")
            await chat.send("sepal_width, species")

        async def import_() -> None:
            await chat.send("/stats")
            await chat.upload(_write_export(work))
            await chat.press("Header is on another row")
            await chat.press("3: region")
            await chat.press("Looks right")
            await chat.send("treat store as category")
            await chat.press("Describe")
            await chat.send("revenue, store")
            await chat.press("Done")

        async def models() -> None:
            await chat.send("/models")
            await chat.send("1")
            await chat.press("Rename")
            await chat.send("iris species")
            await chat.press("Download")
            await chat.press("Back to list")
            await chat.send("/cancel")

        async def kb() -> None:
            await chat.send("what is a p-value?")
            await chat.send("/kb_get cramers-v")
            await chat.send("/kb_search hetroscedasticity")
            await chat.send("/kb_stats")
            await chat.send("/cancel")

        async def buy() -> None:
            await chat.send("/buy")
            invoice = (await chat.press("10 credits"))[0]
            meta = invoice.meta
            stars, payload = int(meta["amount"]), str(meta["payload"])
            await chat.pay_event(
                EventKind.PRE_CHECKOUT, Payment(STARS, stars, payload, query_id="q1")
            )
            await chat.pay_event(
                EventKind.PAYMENT, Payment(STARS, stars, payload, charge_id="stxGUIDE1")
            )
            await chat.send("/balance")

        async def back() -> None:
            await chat.send("/stats")
            await chat.press("Use iris.csv")
            await chat.press("Test")
            await chat.send("/back")
            await chat.send("/help")

        async def cancel() -> None:
            await chat.send("/cancel")
            await chat.send("/cancel")

        async def quota() -> None:
            await chat.send("/quota")

        async def forget() -> None:
            await chat.send("/forget")
            await chat.press("No, keep it")
            await chat.send("/forget")
            await chat.press("Yes, delete everything")
            await chat.send("/models")

        for name, steps in (
            ("start", start),
            ("train", train),
            ("predict", predict),
            ("stats", stats),
            ("explore", explore),
            ("models", models),
            ("kb", kb),
            ("buy", buy),
            ("back", back),
            ("cancel", cancel),
            ("import", import_),  # after the sections that use the last dataset (iris)
            ("quota", quota),
            ("forget", forget),
        ):
            await section(name, steps)
    return out


def fill(template: str, transcripts: dict[str, str]) -> str:
    """Replace each marked block's body with its transcript (as a text code block)."""
    missing = [name for name in SECTIONS if f"<!-- transcript:{name} -->" not in template]
    if missing:
        raise SystemExit(f"the guide has no markers for: {', '.join(missing)}")

    def body(match: re.Match[str]) -> str:
        text = transcripts[match.group(2)].replace("```", "'''")
        return f"{match.group(1)}```text\n{text}\n```\n{match.group(3)}"

    return _BLOCK.sub(body, template)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=GUIDE, help="the guide to update")
    args = parser.parse_args(argv)
    template = args.output.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="statbot-guide-") as work:
        transcripts = asyncio.run(conversations(Path(work)))
    args.output.write_text(fill(template, transcripts), encoding="utf-8")
    sys.stdout.write(f"wrote {len(transcripts)} transcripts into {args.output}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

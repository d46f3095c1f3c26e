"""Issue 9: the first run works on the defaults. ``statbot run`` with no STATBOT_* setting but
the ports (and the server folders where a test needs them), from the folder it was started in:
the default relative data dir ``var`` must reach the job workers as a path that exists."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from statbot.sandbox.client import SandboxClient
from tests.support.first_run import PAGE_LINE, FirstRun, first_run
from tests.support.sandbox_user import do, iris_csv, press_label, wait_for_text

pytestmark = pytest.mark.timeout(400)

COLUMNS = "sepal_length,sepal_width,petal_length,petal_width,species"
SPEC = (
    "sepal_length:float, sepal_width:float, petal_length:float, petal_width:float, species:category"
)


def iris_with_plain_names() -> bytes:
    _header, _, body = iris_csv().decode().partition("\n")
    return f"{COLUMNS}\n{body}".encode()


async def wait_ready(run: FirstRun) -> None:
    for _ in range(200):
        if await asyncio.to_thread(run.ready):
            await asyncio.sleep(0.5)  # anything printed at start-up is out by now
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"never ready:\n{run.output()}")


async def train_to_the_end(client: SandboxClient, *, typed: str = "random forest") -> str:
    """From the schema step to a trained model; returns the report's text."""
    chat = await do(client, press_label(client, await client.chat(), "Looks right"))
    chat = await do(client, client.send("species"))
    chat = await do(client, press_label(client, chat, "Done"))
    chat = await do(client, client.send(typed))
    await press_label(client, chat, "Train")
    chat = await wait_for_text(client, "Model trained", within=180)
    return next(m.text or "" for m in chat.bot_messages if "Model trained" in (m.text or ""))


async def test_train_on_the_defaults(tmp_path: Path) -> None:
    with first_run(tmp_path) as run:
        await wait_ready(run)
        lines = [line for line in run.output().splitlines() if line.strip()]
        assert PAGE_LINE.search(lines[-1]), f"the page address is not last: {lines[-3:]}"
        assert sum(1 for line in lines if PAGE_LINE.search(line)) == 1
        async with SandboxClient(run.url) as client:
            await do(client, client.send("/train"))
            chat = await do(client, client.upload(iris_csv(), "iris.csv"))
            assert "Column types" in (chat.bot_messages[-1].text or "")
            report = await train_to_the_end(client)
        assert "predicting *species*" in report or "species" in report
        assert "stopped unexpectedly" not in run.output()
        assert list((tmp_path / "var").rglob("*.skops")), "the model is in ./var"
        assert run.stop() == 0


async def test_server_path_train_load_now_and_deferred(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "iris.csv").write_bytes(iris_with_plain_names())
    # A relative folder, as an operator would write it in .env next to the checkout.
    with first_run(tmp_path, STATBOT_LOCAL_PATH_ROOTS="data") as run:
        async with SandboxClient(run.url) as client:
            await do(client, client.send("/train"))
            chat = await do(client, client.send("./iris.csv"))
            assert "load it now" in (chat.bot_messages[-1].text or "")
            chat = await do(client, press_label(client, chat, "Load now"))
            assert "Column types" in (chat.bot_messages[-1].text or "")
            await train_to_the_end(client)

            await do(client, client.send("/train"))
            chat = await do(client, client.send("./iris.csv"))
            chat = await do(client, press_label(client, chat, "Defer loading"))
            chat = await do(client, client.send(SPEC))
            assert "read when training starts" in "".join(
                m.text or "" for m in chat.bot_messages[-2:]
            )
            chat = await do(client, client.send("species"))
            chat = await do(client, press_label(client, chat, "Done"))
            chat = await do(client, client.send("logistic"))
            await press_label(client, chat, "Train")
            chat = await wait_for_text(client, "Model trained", within=180, count=2)
            assert "logistic" in (chat.bot_messages[-1].text or "") or any(
                "logistic" in (m.text or "") for m in chat.bot_messages[-8:]
            )
        assert len(list((tmp_path / "var").rglob("*.skops"))) == 2
        assert run.stop() == 0

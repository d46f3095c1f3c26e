"""Issue 9, the restart drill: start on the defaults, converse, SIGTERM, start again (same
folder, same sandbox): the same user continues mid-/train with one message, and the job
table, the models and the page's history are intact. Before this, a restarted sandbox began
its update ids at 1 again and the stored session dropped them as duplicates: no answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from statbot.sandbox.client import SandboxClient
from tests.ops.procs import http_get
from tests.support.first_run import first_run
from tests.support.sandbox_user import do, iris_csv, press_label, wait_for_text

pytestmark = pytest.mark.timeout(400)


def jobs_of(port: int) -> dict[str, int]:
    code, body = http_get(port, "/status")
    assert code == 200, body
    jobs: dict[str, int] = json.loads(body)["jobs"]
    return jobs


async def test_restart_mid_train(tmp_path: Path) -> None:
    with first_run(tmp_path) as run:
        async with SandboxClient(run.url) as client:
            await do(client, client.send("/train"))
            chat = await do(client, client.upload(iris_csv(), "iris.csv"))
            chat = await do(client, press_label(client, chat, "Looks right"))
            chat = await do(client, client.send("species"))
            chat = await do(client, press_label(client, chat, "Done"))
            chat = await do(client, client.send("random forest"))
            await press_label(client, chat, "Train")
            await wait_for_text(client, "Model trained", within=180)

            await do(client, client.send("/train"))
            chat = await do(client, press_label(client, await client.chat(), "Use iris.csv"))
            chat = await do(client, press_label(client, chat, "Looks right"))
            chat = await do(client, client.send("species"))
            assert "learn from" in (chat.bot_messages[-1].text or "")
            before = await client.chat()
        jobs_before = jobs_of(run.health_port)
        assert jobs_before.get("succeeded") == 1, jobs_before
        assert run.stop() == 0
        first_url = run.url

        run.start()
        assert run.url == first_url
        async with SandboxClient(run.url) as client:
            history = await client.chat()
            old = [(m.message_id, m.text) for m in before.bot_messages]
            assert [(m.message_id, m.text) for m in history.bot_messages][: len(old)] == old
            chat = await do(client, client.send("all"))  # the one message: features answered
            assert "Which model" in (chat.bot_messages[-1].text or ""), chat.bot_messages[-1]
            chat = await do(client, client.send("logistic"))
            await press_label(client, chat, "Train")
            await wait_for_text(client, "Model trained", within=180, count=2)
        assert jobs_of(run.health_port).get("succeeded") == 2
        assert len(list((tmp_path / "var").rglob("*.skops"))) == 2
        assert "as a duplicate" not in run.output()
        assert run.stop() == 0

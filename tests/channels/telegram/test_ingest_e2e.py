"""The ingest saga's metrics (issue 14) on the real bot's /metrics: uploads through the sandbox
over HTTP, a failed one kept in staging and swept after its TTL by the app's own sweep loop."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from statbot.app import StatbotApp
from statbot.sandbox.server import RunningSandbox
from tests.channels.telegram.conftest import BotInSandbox, bot_settings
from tests.support.sandbox_user import do

GOOD = ("x,y,label\n" + "".join(f"{i},{i % 5},{'ab'[i % 2]}\n" for i in range(30))).encode()
JUNK = b"\x00\x01\x02 binary junk \xff\xfe" * 10


@pytest.fixture
async def bot(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[BotInSandbox]:
    settings = bot_settings(sandbox.api_url, tmp_path / "data", cleanup_interval_seconds=0.2)
    app = StatbotApp(settings)
    async with app:
        yield BotInSandbox(sandbox, app)


async def scrape(app: StatbotApp) -> str:
    assert app.health is not None
    url = f"http://127.0.0.1:{app.health.bound_port}/metrics"
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        assert resp.status == 200
        return await resp.text()


def value(body: str, line: str) -> float:
    for row in body.splitlines():
        if row.startswith(line + " "):
            return float(row.rsplit(" ", 1)[1])
    raise AssertionError(f"{line} not in /metrics")


async def test_ingest_failures_compensations_and_cleanups_on_metrics(bot: BotInSandbox) -> None:
    client, app = bot.client, bot.app
    await do(client, client.send("/stats"))
    await do(client, client.upload(JUNK, "junk.csv"))  # fails at validate: staging kept
    body = await scrape(app)
    assert value(body, 'statbot_saga_failures_total{saga="ingest",step="validate"}') == 1
    assert value(body, 'statbot_saga_compensations_total{saga="ingest",step="stage"}') == 1
    assert value(body, 'statbot_staging_uploads{state="failed"}') == 1
    assert value(body, "statbot_staging_bytes") >= len(JUNK)

    chat = await do(client, client.upload(GOOD, "good.csv"))  # stored: its staging removed
    assert any("good.csv" in (m.text or "") for m in chat.bot_messages)
    body = await scrape(app)
    assert value(body, 'statbot_staging_cleanups_total{outcome="success"}') == 1
    assert value(body, 'statbot_staging_uploads{state="in_progress"}') == 0
    assert value(body, 'statbot_staging_cleanups_total{outcome="failed_expired"}') == 0

    [failed] = list((app.data_dir / "staging").rglob("*.failed"))
    old = time.time() - 2 * 3600  # past the failed TTL (an hour)
    os.utime(failed, (old, old))
    expired = 'statbot_staging_cleanups_total{outcome="failed_expired"}'
    async with asyncio.timeout(20):  # the app's sweep loop runs every 0.2 s here
        while value(body := await scrape(app), expired) == 0:  # noqa: ASYNC110 (polls HTTP)
            await asyncio.sleep(0.1)
    assert value(body, expired) == 1
    assert not failed.exists()
    assert value(body, 'statbot_staging_uploads{state="failed"}') == 0
    assert value(body, "statbot_staging_bytes") == 0

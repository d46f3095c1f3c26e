"""The real bot on the Redis session store (a real redis-server on 127.0.0.1): a conversation
survives a restart of the bot with its state in Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from statbot.app import StatbotApp
from statbot.sandbox.server import RunningSandbox
from tests.channels.telegram.conftest import bot_settings
from tests.engine.stores.conftest import redis_url as _redis_url_fixture
from tests.support.sandbox_user import do, iris_csv, press_label


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _redis_url_fixture.__wrapped__(tmp_path_factory)  # type: ignore[attr-defined]


async def test_conversation_continues_across_restart_on_redis(
    sandbox: RunningSandbox, tmp_path: Path, redis_url: str
) -> None:
    settings = bot_settings(sandbox.api_url, tmp_path / "data", session_store=redis_url)
    client = sandbox.client
    async with StatbotApp(settings) as app:
        assert app.store is not None and app.store.name == "redis"
        await do(client, client.send("/train"))
        chat = await do(client, client.upload(iris_csv(), "iris.csv"))
        chat = await do(client, press_label(client, chat, "Looks right"))
        assert "predict (the target)" in (chat.bot_messages[-1].text or "")
    async with StatbotApp(settings):
        chat = await do(client, client.send("species"))  # the same step, after the restart
        assert "learn from" in (chat.bot_messages[-1].text or "")

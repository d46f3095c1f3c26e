"""Expiry → grace → deletion takes the session's stored datasets with it (DESIGN promise 4)."""

from __future__ import annotations

import time

from tests.channels.telegram.conftest import BotInSandbox
from tests.support.sandbox_user import do, iris_csv


async def test_deleted_session_takes_its_datasets(bot: BotInSandbox) -> None:
    client = bot.client
    await do(client, client.send("/train"))
    await do(client, client.upload(iris_csv(), "iris.csv"))
    data_dir = bot.app.data_dir
    stored = list((data_dir / "datasets").rglob("*.parquet"))
    assert len(stored) == 1
    manager = bot.app.manager
    later = time.time() + 2 * 3600  # past the 60-minute idle timeout: into the grace period
    assert (await manager.sweep(now=later))["to_grace"] == 1
    assert stored[0].exists(), "still resumable in the grace period"
    much_later = later + 2 * 24 * 3600  # past the grace period: deleted
    assert (await manager.sweep(now=much_later))["deleted"] == 1
    assert not stored[0].exists()

"""The scale tier's sandbox: the Bot API emulator in the test's loop, its token the replicas'
(tests/support/replicas.py), retrying a failed webhook delivery after 0.2 s (a killed replica's
connection) instead of Telegram's minutes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from statbot.sandbox import RunningSandbox, run_sandbox
from statbot.sandbox.state import SandboxConfig
from tests.support.loadbalancer import require_haproxy
from tests.support.replicas import TOKEN


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    require_haproxy()
    async with run_sandbox(token=TOKEN, config=SandboxConfig(webhook_retry_seconds=0.2)) as sb:
        yield sb

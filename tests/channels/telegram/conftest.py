"""The real bot (StatbotApp: PTB client, our ingress and sender, the engine, the workflows)
against the sandbox Bot API emulator over real HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from statbot.app import StatbotApp
from statbot.config import Settings, load_settings
from statbot.sandbox.client import SandboxClient
from statbot.sandbox.server import RunningSandbox, run_sandbox
from statbot.sandbox.state import DEFAULT_TOKEN


def bot_settings(api_url: str, data_dir: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_token": DEFAULT_TOKEN,
        "telegram_api_url": api_url,
        "data_dir": data_dir,
        "health_port": 0,
        "session_store": "sqlite",
        "job_concurrency": 1,
    }
    return load_settings(**{**values, **extra})


@dataclass
class BotInSandbox:
    sandbox: RunningSandbox
    app: StatbotApp

    @property
    def client(self) -> SandboxClient:
        return self.sandbox.client


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    async with run_sandbox() as running:
        yield running


@pytest.fixture
async def bot(sandbox: RunningSandbox, tmp_path: Path) -> AsyncIterator[BotInSandbox]:
    app = StatbotApp(bot_settings(sandbox.api_url, tmp_path / "data"))
    async with app:
        yield BotInSandbox(sandbox, app)


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def chromium() -> Path:
    """Debian's chromium for the page tests (test_browser_*.py); Playwright downloads none."""
    if not CHROMIUM.exists():
        pytest.fail("needs Debian's chromium (/usr/bin/chromium): scripts/install-test-system.sh")
    return CHROMIUM

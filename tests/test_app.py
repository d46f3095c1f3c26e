from __future__ import annotations

from pathlib import Path

import pytest

from statbot.app import StatbotApp
from statbot.config import load_settings
from statbot.errors import ConfigError


async def test_unavailable_job_backend_is_refused_not_ignored(tmp_path: Path) -> None:
    settings = load_settings(
        telegram_token="1:x",
        telegram_api_url="http://127.0.0.1:9",
        data_dir=tmp_path,
        jobs="temporal",
    )
    app = StatbotApp(settings, health=False)
    with pytest.raises(ConfigError) as info:
        await app.initialize()
    assert info.value.setting == "STATBOT_JOBS"
    await app.shutdown()

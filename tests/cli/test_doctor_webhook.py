"""`statbot doctor`'s webhook check (issue 14): STATBOT_WEBHOOK_URL and STATBOT_WEBHOOK_SECRET
agree with each other and with what Telegram accepts (https, its four ports, the secret's
alphabet), before the bot tries setWebhook."""

from __future__ import annotations

import pytest

from statbot.cli.doctor import Report, check_webhook
from statbot.config import load_settings

TOKEN = "123456:SANDBOX"


@pytest.mark.parametrize(
    ("env", "level", "says"),
    [
        ({"webhook_url": "https://bot.example.org/hook"}, "fail", "STATBOT_WEBHOOK_SECRET is not"),
        ({"webhook_url": "http://bot.example.org/hook", "webhook_secret": "abc"}, "fail",
         "only to https:// URLs"),
        ({"webhook_url": "https://bot.example.org:9000/hook", "webhook_secret": "abc"}, "fail",
         "only to ports 443, 80, 88 and 8443, not 9000"),
        ({"webhook_url": "https://bot.example.org/hook", "webhook_secret": "a b"}, "fail",
         "may hold only A-Z"),
        ({"webhook_secret": "abc"}, "warn", "the bot polls and the secret is unused"),
        ({"webhook_url": "https://bot.example.org:8443/hook", "webhook_secret": "abc",
          "webhook_port": "9443"}, "ok", "the bot listens on 127.0.0.1:9443/hook"),
    ],
)  # fmt: skip
def test_webhook_settings_must_agree(env: dict[str, str], level: str, says: str) -> None:
    lines: list[str] = []
    report = Report(lines.append)
    check_webhook(load_settings(telegram_token=TOKEN, **env), report)
    [said] = lines
    assert said.startswith({"ok": "[ok]", "warn": "[warn]", "fail": "[FAIL]"}[level]), said
    assert says in said, said
    assert report.failures == (level == "fail")

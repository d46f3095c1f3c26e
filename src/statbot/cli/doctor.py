"""``statbot doctor``: every engine the settings name, checked from this host (issue 14).

One line a check — ``[ok]``, ``[warn]`` or ``[FAIL]``, what was checked, and a sentence an
operator can act on — then a summary; the exit code is 1 when a check failed (a warning is
something to fix, not a bot that cannot run). Checks, in order: the settings, the disk, the
session store and the catalog database (:mod:`.doctor_stores`), the jobs (local: the work
folder; Temporal: :mod:`.doctor_temporal`), Telegram (``getMe``, and what Telegram knows of the
webhook) and the webhook settings. Nothing is changed: no migration, no
registration; a bot need not be running (and may be: everything here is read-only).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from statbot.config import Settings

Level = Literal["ok", "warn", "fail"]
_TAG = {"ok": "[ok]", "warn": "[warn]", "fail": "[FAIL]"}
MIN_FREE_GIB = 1.0
WEBHOOK_PORTS = (443, 80, 88, 8443)  # the only ports Telegram delivers webhooks to
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # setWebhook's secret_token


class Report:
    """Collects the checks' lines; ``failures`` decides the exit code."""

    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo
        self.failures = 0
        self.warnings = 0

    def __call__(self, level: Level, what: str, detail: str) -> None:
        self.failures += level == "fail"
        self.warnings += level == "warn"
        self.echo(f"{_TAG[level]} {what}: {detail}")

    def summary(self) -> str:
        if self.failures:
            return f"{self.failures} check(s) failed, {self.warnings} warning(s)"
        return f"all checks passed, {self.warnings} warning(s)"


def check_disk(settings: Settings, report: Report) -> None:
    data_dir = Path(settings.data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        _probe_write(data_dir)
        free = shutil.disk_usage(data_dir).free / 2**30
    except OSError as exc:
        report("fail", "disk", f"cannot write under {data_dir}: {exc}")
        return
    if free < MIN_FREE_GIB:
        report(
            "fail",
            "disk",
            f"only {free:.1f} GiB free under {data_dir}: uploads, datasets "
            "and the stores will fail to write; free space or move STATBOT_DATA_DIR",
        )
    else:
        report("ok", "disk", f"{free:.1f} GiB free under {data_dir}")


def _probe_write(folder: Path) -> None:
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".doctor-"):
        pass


async def check_jobs(settings: Settings, report: Report) -> None:
    if settings.jobs == "temporal":
        from statbot.cli.doctor_temporal import check_temporal

        await check_temporal(settings, report)
        return
    folder = Path(settings.data_dir) / "jobs"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _probe_write(folder)
    except OSError as exc:
        report("fail", "jobs", f"local runner: cannot write its work folder {folder}: {exc}")
        return
    report(
        "ok",
        "jobs",
        f"local runner, {settings.job_concurrency} job slot(s), work folder {folder} writable",
    )


async def check_telegram(settings: Settings, report: Report) -> None:
    if not settings.token:
        report(
            "ok",
            "telegram",
            "no token: `statbot run` serves the local sandbox on "
            f"127.0.0.1:{settings.sandbox_port} instead of Telegram",
        )
        return
    from telegram.error import TelegramError

    from statbot.channels.telegram.channel import build_bot
    from statbot.logs import RedactingFilter

    bot = build_bot(settings)
    try:
        async with bot:
            me = await bot.get_me()
            hook = await bot.get_webhook_info() if settings.webhook_url else None
    except TelegramError as exc:
        # PTB's InvalidToken quotes the token in clear; the terminal is no place for it either.
        detail = RedactingFilter((settings.token,)).redact(str(exc))
        report("fail", "telegram", f"getMe at {settings.telegram_api_url} failed: {detail}")
        return
    report("ok", "telegram", f"token valid for @{me.username} at {settings.telegram_api_url}")
    if hook is None:
        return
    if hook.url and hook.url != settings.webhook_url:
        report(
            "warn",
            "telegram webhook",
            f"Telegram delivers to {hook.url}, not to "
            "STATBOT_WEBHOOK_URL; the bot sets its own when it starts",
        )
    elif hook.last_error_message:
        report(
            "warn",
            "telegram webhook",
            f"Telegram's last delivery failed: "
            f"{hook.last_error_message} ({hook.pending_update_count} update(s) waiting)",
        )


def check_webhook(settings: Settings, report: Report) -> None:
    """STATBOT_WEBHOOK_URL and STATBOT_WEBHOOK_SECRET agree with each other and Telegram."""
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
    url = settings.webhook_url
    if not url:
        if secret:
            report(
                "warn",
                "webhook",
                "STATBOT_WEBHOOK_SECRET is set but STATBOT_WEBHOOK_URL is "
                "not: the bot polls and the secret is unused",
            )
        return
    if not settings.token:
        report(
            "warn",
            "webhook",
            "STATBOT_WEBHOOK_URL is set without a token: the sandbox is polled, the webhook unused",
        )
        return
    parts = urlsplit(url)
    official = settings.telegram_api_url.startswith("https://api.telegram.org")
    problems = []
    if not secret:
        problems.append(
            "STATBOT_WEBHOOK_SECRET is not set (the bot refuses to start a webhook "
            "anyone could post to)"
        )
    elif not _SECRET.match(secret):
        problems.append("STATBOT_WEBHOOK_SECRET may hold only A-Z, a-z, 0-9, _ and - (1-256)")
    if official and parts.scheme != "https":
        problems.append(f"Telegram delivers only to https:// URLs, not {parts.scheme}://")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if official and port not in WEBHOOK_PORTS:
        problems.append(f"Telegram delivers only to ports 443, 80, 88 and 8443, not {port}")
    if problems:
        report("fail", "webhook", "; ".join(problems))
        return
    report(
        "ok",
        "webhook",
        f"Telegram posts to {url} with the secret; the bot listens on "
        f"{settings.webhook_listen}:{settings.webhook_port}{parts.path or '/'} (the proxy "
        "in front forwards there)",
    )


async def run_checks(settings: Settings, report: Report) -> None:
    from statbot.cli.doctor_stores import check_catalog, check_store, store_name

    report(
        "ok",
        "settings",
        f"mode={settings.mode}, store={store_name(settings.session_store)},"
        f" jobs={settings.jobs}, data dir {settings.data_dir}",
    )
    check_disk(settings, report)
    await check_store(settings, report)
    await asyncio.to_thread(check_catalog, settings, report)
    await check_jobs(settings, report)
    await check_telegram(settings, report)
    check_webhook(settings, report)

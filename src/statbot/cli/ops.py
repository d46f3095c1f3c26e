"""Operator commands: run, start, stop, restart, status, doctor."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

commands = typer.Typer()


if TYPE_CHECKING:
    from statbot.config import Settings

Report = Callable[[bool, str, str], None]


def _settings() -> Settings:
    from statbot.config import load_settings
    from statbot.errors import ConfigError

    try:
        return load_settings()
    except ConfigError as exc:
        typer.echo(f"statbot: invalid setting {exc}", err=True)
        raise typer.Exit(2) from exc


@commands.command()
def run() -> None:
    """Run the bot in the foreground until SIGTERM/SIGINT (drains in-flight work, exits 0)."""
    from statbot.logs import setup_logging

    settings = _settings()
    secrets = tuple(s for s in (settings.token,) if s)
    setup_logging(settings.log_level, secrets)
    if settings.mode == "sandbox":
        from statbot.sandboxed import run_with_sandbox

        code = asyncio.run(run_with_sandbox(settings))
        raise typer.Exit(code)
    lock = None
    if settings.mode == "polling" and settings.token:
        # Take the lock before anything heavy is imported: a second instance must be told
        # at once (issue #6: under 2 s), not after loading the whole bot.
        from statbot.ops.lock import InstanceLock, InstanceLockedError

        lock = InstanceLock.for_token(Path(settings.data_dir), settings.token)
        try:
            lock.acquire()
        except InstanceLockedError as exc:
            typer.echo(f"statbot: {exc}", err=True)
            raise typer.Exit(5) from exc
    from statbot.app import run_app

    raise typer.Exit(asyncio.run(run_app(settings, lock=lock)))


@commands.command()
def start() -> None:
    """Start the bot in the background (PID file and log file under the data dir)."""
    from statbot.ops.process import Paths, start_background

    settings = _settings()
    paths = Paths.under(Path(settings.data_dir))
    try:
        pid = start_background(paths)
    except RuntimeError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"statbot started (PID {pid}); log: {paths.log_file}")


@commands.command()
def stop(timeout: float = typer.Option(30.0, help="seconds to wait")) -> None:
    """Stop the background bot (SIGTERM, waits for a graceful exit, then reports)."""
    from statbot.ops.process import Paths
    from statbot.ops.process import stop as stop_process

    settings = _settings()
    ok, message = stop_process(Paths.under(Path(settings.data_dir)), timeout)
    typer.echo(message, err=not ok)
    raise typer.Exit(0 if ok else 1)


@commands.command()
def restart(timeout: float = typer.Option(30.0, help="seconds to wait for the stop")) -> None:
    """Stop, then start again."""
    from statbot.ops.process import Paths, start_background
    from statbot.ops.process import stop as stop_process

    settings = _settings()
    paths = Paths.under(Path(settings.data_dir))
    ok, message = stop_process(paths, timeout)
    typer.echo(message)
    if not ok:
        raise typer.Exit(1)
    pid = start_background(paths)
    typer.echo(f"statbot started (PID {pid}); log: {paths.log_file}")


@commands.command()
def status() -> None:
    """Report whether the bot runs (exit 0) or not (exit 3), from /status and the lock."""
    import json

    from statbot.ops.lock import InstanceLock
    from statbot.ops.process import EXIT_NOT_RUNNING, EXIT_RUNNING, Paths, fetch_status, read_pid

    settings = _settings()
    pid = read_pid(Paths.under(Path(settings.data_dir)))
    live = fetch_status(settings.health_port)
    lock_held = False
    if settings.token:
        lock_held = InstanceLock.for_token(
            Path(settings.data_dir), settings.token
        ).is_held_elsewhere()
    if live is not None:
        typer.echo(json.dumps({**live, "lock_held": lock_held}, indent=2))
        raise typer.Exit(EXIT_RUNNING)
    if pid is not None or lock_held:
        typer.echo(f"statbot process {pid or '?'} exists but its health server does not answer")
        raise typer.Exit(EXIT_RUNNING)
    typer.echo("statbot is not running")
    raise typer.Exit(EXIT_NOT_RUNNING)


@commands.command()
def doctor() -> None:
    """Check settings, the token (getMe), the stores and the disk."""
    settings = _settings()
    problems = 0

    def report(ok: bool, what: str, detail: str) -> None:
        nonlocal problems
        problems += 0 if ok else 1
        typer.echo(f"[{'ok' if ok else 'FAIL'}] {what}: {detail}")

    report(True, "settings", f"mode={settings.mode}, store={settings.session_store}")
    data_dir = Path(settings.data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(data_dir).free / 2**30
        report(free > 1.0, "disk", f"{free:.1f} GiB free under {data_dir}")
    except OSError as exc:
        report(False, "disk", str(exc))
    # report() counts failures itself: `problems += asyncio.run(...)` would add to the value
    # read before the checks ran and lose every failure they reported.
    asyncio.run(_doctor_async(settings, report))
    raise typer.Exit(0 if problems == 0 else 1)


async def _doctor_async(settings: Settings, report: Report) -> None:
    from statbot.engine.stores import open_store_for

    try:
        store = open_store_for(settings)
        await store.open()
        counts = await store.counts()
        await store.close()
        report(True, "session store", f"{store.name}, {counts.sessions} sessions")
    except Exception as exc:
        report(False, "session store", f"{type(exc).__name__}: {exc}")
    if not settings.token:
        report(True, "telegram", "no token: local sandbox mode")
        return
    from telegram.error import TelegramError

    from statbot.channels.telegram.channel import build_bot
    from statbot.logs import RedactingFilter

    bot = build_bot(settings)
    try:
        async with bot:
            me = await bot.get_me()
        report(True, "telegram", f"token valid for @{me.username} at {settings.telegram_api_url}")
    except TelegramError as exc:
        # PTB's InvalidToken quotes the token in clear; the terminal is no place for it either.
        detail = RedactingFilter((settings.token,)).redact(str(exc))
        report(False, "telegram", f"getMe failed: {detail}")

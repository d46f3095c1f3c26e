"""Operator commands: run, start, stop, restart, status, doctor."""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

commands = typer.Typer()


if TYPE_CHECKING:
    from statbot.config import Settings
    from statbot.ops.process import Target


def _settings() -> Settings:
    from statbot.config import load_settings
    from statbot.errors import ConfigError

    try:
        return load_settings()
    except ConfigError as exc:
        typer.echo(f"statbot: invalid setting {exc}", err=True)
        raise typer.Exit(2) from exc


def _running_settings() -> Settings:
    """The settings the bot runs with: in sandbox mode it polls (and locks) with the sandbox's
    own token (statbot.sandboxed), so stop/status look for that lock."""
    from statbot.sandboxed import sandboxed_settings

    settings = _settings()
    if settings.mode == "sandbox":
        return sandboxed_settings(settings, settings.telegram_api_url)
    return settings


@commands.command()
def run() -> None:
    """Run the bot in the foreground until SIGTERM/SIGINT (drains in-flight work, exits 0)."""
    from statbot.logs import setup_logging

    settings = _settings()
    secrets = tuple(s for s in (settings.token,) if s)
    setup_logging(settings.log_level, secrets, settings.log_format)
    if settings.mode == "sandbox":
        from statbot.sandboxed import run_with_sandbox

        raise typer.Exit(_serve(run_with_sandbox(settings)))
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

    raise typer.Exit(_serve(run_app(settings, lock=lock)))


def _serve(main: Coroutine[Any, Any, int]) -> int:
    """Run the bot; a port someone else listens on is a sentence, not a traceback (issue 15:
    `statbot start` shows the log's last lines, and DEPLOY.md quotes this one)."""
    try:
        return asyncio.run(main)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise
        logging.getLogger("statbot.cli").critical(
            "statbot cannot start: %s — another process listens on that port "
            "(STATBOT_HEALTH_PORT, or STATBOT_WEBHOOK_PORT in webhook mode)",
            exc,
        )
        return 1


@commands.command()
def start(timeout: float = typer.Option(60.0, help="seconds to wait until ready")) -> None:
    """Start the bot in the background and wait until /readyz answers 200 or it exits.

    PID file and log under <data dir>/run/; the log is rotated at every start (statbot.log.1 …
    .3 keep the three before). Exit 0 once ready; 1 when it exited, is not ready in time or
    already runs."""
    from statbot.ops.process import Target

    _start(Target.for_settings(_running_settings()), timeout)


def _start(target: Target, timeout: float) -> None:
    from statbot.ops.process import start as start_process

    log_file = target.paths.log_file
    started = start_process(target, timeout)
    if started.state == "ready":
        typer.echo(f"statbot running, PID {started.pid}, ready; log: {log_file}")
        return
    if started.state == "already running":
        typer.echo(f"statbot is already running (PID {started.pid}, {started.detail})", err=True)
    elif started.state == "exited":
        typer.echo(
            f"statbot (PID {started.pid}) exited with code {started.exit_code} before it was "
            f"ready; the last lines of {log_file}:\n{started.detail}",
            err=True,
        )
    else:
        typer.echo(
            f"statbot (PID {started.pid}) is running but not ready after {timeout:g} s "
            f"({started.detail}); it keeps trying, see {log_file} or `statbot status`",
            err=True,
        )
    raise typer.Exit(1)


@commands.command()
def stop(timeout: float = typer.Option(30.0, help="seconds to wait")) -> None:
    """Stop the bot however it was started (statbot start, statbot run, systemd): SIGTERM to the
    PID its instance lock, health server or PID file names; waits for a graceful exit."""
    from statbot.ops.process import Target
    from statbot.ops.process import stop as stop_process

    ok, message = stop_process(Target.for_settings(_running_settings()), timeout)
    typer.echo(message, err=not ok)
    raise typer.Exit(0 if ok else 1)


@commands.command()
def restart(
    timeout: float = typer.Option(30.0, help="seconds to wait for the stop"),
    ready_timeout: float = typer.Option(60.0, help="seconds to wait until ready again"),
) -> None:
    """Stop, then start again and wait until ready."""
    from statbot.ops.process import Target
    from statbot.ops.process import stop as stop_process

    target = Target.for_settings(_running_settings())
    ok, message = stop_process(target, timeout)
    typer.echo(message, err=not ok)
    if not ok:
        raise typer.Exit(1)
    _start(target, ready_timeout)


@commands.command()
def status() -> None:
    """Report whether the bot runs (exit 0) or not (exit 3), however it was started: from its
    health server's /status, its instance lock and the PID file."""
    import json

    from statbot.ops.process import EXIT_NOT_RUNNING, EXIT_RUNNING, Target, fetch_status, find_bot

    target = Target.for_settings(_running_settings())
    found = find_bot(target)
    live = fetch_status(target.health_port) if target.health_port else None
    lock_held = target.lock is not None and target.lock.is_held_elsewhere()
    if live is not None:
        via = found.via if found is not None else "health server"
        typer.echo(json.dumps({**live, "lock_held": lock_held, "found_by": via}, indent=2))
        raise typer.Exit(EXIT_RUNNING)
    if found is not None or lock_held:
        pid = found.pid if found is not None else "?"
        via = found.via if found is not None else "instance lock"
        typer.echo(
            f"statbot (PID {pid}, found by its {via}) runs, but its health server on port "
            f"{target.health_port} does not answer (starting, stopping or stuck)"
        )
        raise typer.Exit(EXIT_RUNNING)
    typer.echo("statbot is not running")
    raise typer.Exit(EXIT_NOT_RUNNING)


@commands.command()
def doctor() -> None:
    """Check every engine the settings name — the disk, the session store, the catalog, the jobs
    (local or Temporal), Telegram and the webhook settings — one line each: ok, warn or FAIL.
    Exit 1 when a check failed. Changes nothing; run it on each host."""
    from statbot.cli.doctor import Report, run_checks

    settings = _settings()
    report = Report(typer.echo)
    asyncio.run(run_checks(settings, report))
    typer.echo(report.summary())
    raise typer.Exit(1 if report.failures else 0)

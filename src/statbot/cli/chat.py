"""``statbot chat``: drive any workflow from this terminal, on the configured session store.

The console is a durable channel: with the default SQLite store under ``STATBOT_DATA_DIR`` a
restarted ``statbot chat`` continues the conversation where it stopped (unapplied lines are
replayed, unshown replies are shown).
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

commands = typer.Typer()


if TYPE_CHECKING:
    from statbot.config import Settings


def console_user_id() -> int:
    """The OS user's id (1 where there is none), so each account has its own conversation."""
    getuid = getattr(os, "getuid", None)
    return int(getuid()) if getuid is not None else 1


@commands.command()
def chat(
    out: Annotated[
        Path | None,
        typer.Option(help="folder for images and documents (default: DATA_DIR/console/output)"),
    ] = None,
    verbose: Annotated[bool, typer.Option(help="log engine activity to stderr")] = False,
) -> None:
    """Talk to statbot in this terminal: numbered choices, file paths for uploads."""
    from statbot.config import load_settings
    from statbot.errors import ConfigError
    from statbot.logs import setup_logging

    try:
        settings = load_settings()
    except ConfigError as exc:
        typer.echo(f"statbot: invalid setting {exc}", err=True)
        raise typer.Exit(2) from exc
    secrets = tuple(s for s in (settings.token,) if s)
    setup_logging("INFO" if verbose else "WARNING", secrets, settings.log_format)
    from statbot.ops.lock import InstanceLock, InstanceLockedError

    out_dir = out or Path(settings.data_dir) / "console" / "output"
    folder = Path(settings.data_dir) / "console"
    folder.mkdir(parents=True, exist_ok=True)
    # Two chats of one user would number their lines alike and drop each other's as duplicates.
    lock = InstanceLock(folder / f"chat-{console_user_id()}.lock")
    try:
        lock.acquire()
    except InstanceLockedError as exc:
        who = f" (PID {exc.holder_pid})" if exc.holder_pid else ""
        typer.echo(
            f"statbot chat: another chat{who} is already open for this user on "
            f"{settings.data_dir}; use that one or quit it first.",
            err=True,
        )
        raise typer.Exit(1) from exc
    from statbot.errors import AccessError

    try:
        asyncio.run(run_chat(settings, sys.stdin, sys.stdout, out_dir=out_dir))
    except AccessError as exc:  # the catalog: unreachable, or migrated by a newer statbot
        typer.echo(f"statbot chat: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        lock.release()


async def run_chat(settings: Settings, stdin: TextIO, stdout: TextIO, *, out_dir: Path) -> None:
    """Store → workflows → manager → jobs → console loop. Shutdown in the app's order: no new
    lines, finish in-flight events and show their replies, stop supervising jobs (they resume
    on the next start), close the store."""
    from statbot.channels.console.channel import ConsoleChannel, stdin_lines
    from statbot.errors import JobError
    from statbot.wiring import build_core

    data_dir = Path(settings.data_dir)
    channel = ConsoleChannel(
        user_id=console_user_id(),
        data_dir=data_dir,
        out_dir=out_dir,
        out=stdout,
        tty=stdout.isatty(),
    )
    core = build_core(settings, deliver=channel.deliver)
    store, manager = core.store, core.manager
    await store.open()
    try:
        channel.greet(await channel.resume(store))
        await manager.start()  # replays unapplied lines, shows replies not shown before
        try:
            await core.start_jobs()
        except JobError as exc:  # e.g. `statbot run` on the same data dir owns the runner
            channel.renderer.lines([f"(Background jobs are unavailable here: {exc}.)"])
        await manager.drain()
        await channel.run(stdin_lines(stdin), manager)
    finally:
        await manager.stop(settings.shutdown_grace_seconds)
        await core.stop_jobs()
        await store.close()
        core.close()

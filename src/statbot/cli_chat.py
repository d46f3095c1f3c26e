"""``statbot chat``: drive any workflow from this terminal, on the configured session store.

The console is a durable channel: with the default SQLite store under ``STATBOT_DATA_DIR`` a
restarted ``statbot chat`` continues the conversation where it stopped (unapplied lines are
replayed, unshown replies are shown).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer

from statbot.cli import app

if TYPE_CHECKING:
    from statbot.config import Settings


def console_user_id() -> int:
    """The OS user's id (1 where there is none), so each account has its own conversation."""
    getuid = getattr(os, "getuid", None)
    return int(getuid()) if getuid is not None else 1


@app.command()
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
    setup_logging("INFO" if verbose else "WARNING", tuple(s for s in (settings.token,) if s))
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
    try:
        asyncio.run(run_chat(settings, sys.stdin, sys.stdout, out_dir=out_dir))
    finally:
        lock.release()


async def run_chat(settings: Settings, stdin: TextIO, stdout: TextIO, *, out_dir: Path) -> None:
    """Store → workflows → manager → jobs → console loop. Shutdown in the app's order: no new
    lines, finish in-flight events and show their replies, stop supervising jobs (they resume
    on the next start), close the store."""
    from statbot.channels.console.channel import ConsoleChannel, stdin_lines
    from statbot.engine.manager import EngineConfig, StateManager
    from statbot.engine.stores import open_store_for
    from statbot.errors import JobError
    from statbot.jobs.local import LocalJobRunner
    from statbot.workflows import default_registry
    from statbot.workflows.services import Services

    data_dir = Path(settings.data_dir)
    store = open_store_for(settings)
    await store.open()
    user_id = console_user_id()
    channel = ConsoleChannel(
        user_id=user_id, data_dir=data_dir, out_dir=out_dir, out=stdout, tty=stdout.isatty()
    )
    services = Services(settings=settings, data_dir=data_dir)
    manager = StateManager(
        store, default_registry(), services=services, config=EngineConfig.from_settings(settings)
    )
    jobs = LocalJobRunner.from_settings(settings, emit=manager.submit)
    manager.set_deliverer(channel.deliver)

    async def forget(uid: int) -> None:
        """/forget: what the app's hook deletes (jobs, datasets, models, uploads, results)."""
        if services.jobs is not None:
            await jobs.delete_user(uid)
        await asyncio.to_thread(services.datasets.delete_user, uid)
        await asyncio.to_thread(services.models.delete_user, uid)
        await forget_files(data_dir, uid)

    manager.add_forget_hook(forget)
    try:
        channel.greet(await channel.resume(store))
        await manager.start()  # replays unapplied lines, shows replies not shown before
        try:
            await jobs.start()
            services.jobs = jobs
        except JobError as exc:  # e.g. `statbot run` on the same data dir owns the runner
            channel.renderer.lines([f"(Background jobs are unavailable here: {exc}.)"])
        await manager.drain()
        await channel.run(stdin_lines(stdin), manager)
    finally:
        await manager.stop(settings.shutdown_grace_seconds)
        if services.jobs is not None:
            await jobs.stop()
        await store.close()


async def forget_files(data_dir: Path, user_id: int) -> None:
    """/forget: the user's staged uploads, results and console menu go with their sessions."""

    def remove() -> None:
        for folder in (data_dir / "staging" / str(user_id), data_dir / "results" / str(user_id)):
            shutil.rmtree(folder, ignore_errors=True)
        (data_dir / "console" / f"menu-{user_id}.json").unlink(missing_ok=True)

    await asyncio.to_thread(remove)

"""``statbot sandbox``: the local Telegram stand-in with its web chat page."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

import typer

commands = typer.Typer()


@commands.command()
def sandbox(
    host: str = typer.Option("127.0.0.1", help="address to bind (keep it local)"),
    port: int = typer.Option(8765, help="port for the Bot API, the control API and the page"),
    token: list[str] | None = typer.Option(  # noqa: B008 - typer's idiom
        None, help="bot token(s) the emulator accepts (default 123456:SANDBOX); repeatable"
    ),
    rate_limit: float = typer.Option(30.0, help="bot messages per second per chat before a 429"),
    state_dir: Path | None = typer.Option(  # noqa: B008 - typer's idiom
        None,
        "--state-dir",
        help="keep chats, files and update ids in this folder across restarts "
        "(default: in memory, gone at exit)",
    ),
) -> None:
    """Run the Bot API emulator and web chat (no Telegram needed) until Ctrl-C or SIGTERM."""
    from statbot.logs import setup_logging
    from statbot.sandbox.server import run_sandbox
    from statbot.sandbox.state import DEFAULT_TOKEN, SandboxConfig

    setup_logging("INFO")
    tokens = token or [DEFAULT_TOKEN]
    kept = state_dir.resolve() if state_dir is not None else None
    if kept is not None:
        try:
            kept.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            typer.echo(f"statbot sandbox: cannot keep state in {kept}: {exc}", err=True)
            raise typer.Exit(1) from exc

    async def serve() -> None:
        config = SandboxConfig(rate_limit_per_chat=rate_limit)
        try:
            context = run_sandbox(
                host=host,
                port=port,
                token=tokens,
                config=config,
                state_dir=kept,
            )
            async with context as running:
                typer.echo(f"open {running.page_url}")
                typer.echo(f"STATBOT_TELEGRAM_API_URL={running.api_url}")
                typer.echo(f"bot token(s): {', '.join(tokens)}")
                if kept is not None:
                    typer.echo(f"state kept in {kept}")
                stop = asyncio.Event()
                # SIGTERM (a service manager, `kill`) stops as cleanly as Ctrl-C: the final
                # snapshot of --state-dir is written on the way out.
                with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows
                    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
                await stop.wait()
        except OSError as exc:
            typer.echo(f"statbot sandbox: cannot listen on {host}:{port}: {exc}", err=True)
            raise typer.Exit(1) from exc
        except ValueError as exc:
            typer.echo(f"statbot sandbox: {exc}", err=True)
            raise typer.Exit(2) from exc

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
    typer.echo("sandbox stopped")

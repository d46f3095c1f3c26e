"""``statbot worker``: a Temporal worker for statbot's jobs (STATBOT_JOBS=temporal, issue 14).

Runs the job workflows and their activities (training in its worker subprocess) on
``STATBOT_TEMPORAL_TASK_QUEUE``, up to ``STATBOT_JOB_CONCURRENCY`` jobs at once, with the same
data folder as the bot (a shared volume when it runs on another machine). Start as many as the
machines allow; a killed worker's job is retried by Temporal on another. SIGTERM or Ctrl-C stops
it: its running jobs are handed back to Temporal, which retries them on the next worker.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer

commands = typer.Typer()


@commands.command()
def worker(
    job_module: list[str] | None = typer.Option(  # noqa: B008 - typer's way to declare options
        None,
        "--job-module",
        help="A job module to serve besides the built-in ones (dotted name or .py path); "
        "may be given more than once.",
    ),
) -> None:
    """Run a Temporal worker for statbot's jobs until stopped (needs STATBOT_JOBS=temporal's
    extra: pip install 'statbot[temporal]')."""
    from statbot.config import load_settings
    from statbot.errors import ConfigError, JobError
    from statbot.jobs.kinds import DEFAULT_MODULES
    from statbot.logs import setup_logging

    try:
        settings = load_settings()
    except ConfigError as exc:
        typer.echo(f"statbot: invalid setting {exc}", err=True)
        raise typer.Exit(2) from exc
    setup_logging(settings.log_level, (), settings.log_format)
    try:
        from statbot.jobs.temporal.worker import run_worker
    except ImportError as exc:
        typer.echo(f"statbot worker needs the temporal extra: {exc}", err=True)
        raise typer.Exit(2) from exc
    modules = (*DEFAULT_MODULES, *(str(Path(m)) if m.endswith(".py") else m
                                   for m in job_module or ()))  # fmt: skip
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    try:
        asyncio.run(run_worker(settings, modules))
    except JobError as exc:
        typer.echo(f"statbot worker: {exc}", err=True)
        raise typer.Exit(1) from exc

"""statbot's command line (typer). Heavy modules are imported inside commands, never here,
so that ``statbot --help`` stays fast and does not load pandas or scikit-learn."""

from __future__ import annotations

import sys

import typer

from statbot import __version__

app = typer.Typer(
    name="statbot",
    help="statbot: statistics and machine learning on your own data, through a guided chat.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """statbot: statistics and machine learning on your own data, through a guided chat."""


@app.command()
def version() -> None:
    """Print statbot's version."""
    typer.echo(__version__)


# Sub-command groups live in their own modules; each registers itself on `app` on import.
# Keep these imports light: the modules import pandas/sklearn only inside their commands.
def _register() -> None:
    import importlib

    for module in (
        "statbot.cli_analyze",
        "statbot.cli_analyze_ml",  # train/predict on the analyze group (after cli_analyze)
        "statbot.cli_chat",
        "statbot.cli_ops",
        "statbot.cli_sandbox",
    ):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


_register()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()

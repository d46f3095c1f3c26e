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
    # A traceback that shows local variables could print a token or a user's data values.
    pretty_exceptions_show_locals=False,
)


@app.callback()
def _root() -> None:
    """statbot: statistics and machine learning on your own data, through a guided chat."""


@app.command()
def version() -> None:
    """Print statbot's version."""
    typer.echo(__version__)


# Explicit registration: each command module defines its commands on its own Typer, merged here.
# A missing module is an ImportError, never silently a missing command. The modules import
# pandas/sklearn only inside their commands, so this stays light.
from statbot.cli import analyze, analyze_ml, chat, db, kb, ops, sandbox, worker  # noqa: E402
from statbot.cli.common import with_file_options  # noqa: E402

analyze.commands.add_typer(analyze_ml.commands)
for _group in (analyze.commands, analyze_ml.commands):
    for _command in _group.registered_commands:  # --header-row and --html on every analysis
        if _command.callback is not None:
            _command.callback = with_file_options(_command.callback)
app.add_typer(analyze.commands, name="analyze")
app.add_typer(kb.commands, name="kb")
app.add_typer(db.commands, name="db")
for _module in (chat, ops, sandbox, worker):
    app.add_typer(_module.commands)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()

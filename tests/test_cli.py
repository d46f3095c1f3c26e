from __future__ import annotations

import subprocess
import sys


def test_help_does_not_import_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from statbot.cli import app\n"
        "result = CliRunner().invoke(app, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "heavy = [m for m in ('pandas', 'sklearn', 'statsmodels', 'matplotlib', 'scipy')"
        " if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"statbot --help imported {out.stdout.strip()}"


def test_version_command() -> None:
    from typer.testing import CliRunner

    from statbot import __version__
    from statbot.cli import app

    result = CliRunner().invoke(app, ["version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == __version__


def test_every_command_module_is_registered() -> None:
    """Issue 10: explicit registration — every module of statbot/cli/ that defines commands
    shows them in the root app (a module nobody registers is a test failure, not a silent
    missing command)."""
    import pkgutil

    import typer

    import statbot.cli as cli

    names = {c.name or c.callback.__name__ for c in cli.app.registered_commands}
    for group in cli.app.registered_groups:
        names.update(
            c.name or c.callback.__name__ for c in group.typer_instance.registered_commands
        )
        for sub in group.typer_instance.registered_groups:
            names.update(c.callback.__name__ for c in sub.typer_instance.registered_commands)
    for info in pkgutil.iter_modules(cli.__path__):
        module = __import__(f"statbot.cli.{info.name}", fromlist=["commands"])
        commands = getattr(module, "commands", None)
        if isinstance(commands, typer.Typer):
            defined = {c.name or c.callback.__name__ for c in commands.registered_commands}
            assert defined and defined <= names, (info.name, defined - names)


def test_tracebacks_never_show_local_variables() -> None:
    """A crash of `statbot run` must not print locals (a token, a user's values) to the log."""
    import statbot.cli as cli

    assert cli.app.pretty_exceptions_show_locals is False

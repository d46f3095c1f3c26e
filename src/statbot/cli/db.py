"""``statbot db upgrade|downgrade REV|current``: the catalog database's migrations (issue 12).

The catalog is ``<data_dir>/catalog.sqlite`` unless ``STATBOT_DATABASE_URL`` names another
database. ``statbot run`` and ``statbot chat`` upgrade it by themselves at start; these commands
are for an operator who wants to do it first (after a backup), look where it stands, or go back
to an older revision before running an older statbot. Every command prints the database's URL
without its password, its revision and the newest revision this code knows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from statbot.access.catalog import Catalog

commands = typer.Typer(
    name="db", help="The catalog database: migrate it, or show its revision.", no_args_is_help=True
)


def _open() -> Catalog:
    from statbot.access.catalog import Catalog
    from statbot.config import load_settings
    from statbot.errors import ConfigError

    try:
        settings = load_settings()
    except ConfigError as exc:
        typer.echo(f"statbot: invalid setting {exc}", err=True)
        raise typer.Exit(2) from exc
    return Catalog.from_settings(settings)


def _where(catalog: Catalog) -> None:
    from statbot.access.catalog import redact

    current = catalog.current()
    head = catalog.head()
    typer.echo(f"database: {redact(catalog.url)}")
    typer.echo(f"revision: {current or '(empty: never migrated)'}")
    state = "up to date" if current == head else "behind" if catalog.known(current) else "NEWER"
    typer.echo(f"head:     {head} ({state})")


def _run(action: str, revision: str | None = None) -> None:
    from statbot.errors import AccessError

    catalog = _open()
    try:
        if action == "upgrade":
            catalog.upgrade(revision or "head")
        elif action == "downgrade":
            assert revision is not None
            catalog.downgrade(revision)
        _where(catalog)
    except AccessError as exc:  # unreachable, or newer than this code: a sentence, exit 1
        typer.echo(f"statbot db {action}: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        catalog.close()


@commands.command()
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision (default: newest).")] = "head",
) -> None:
    """Migrate the catalog forward (what `statbot run` does at start). Refuses a database that a
    newer statbot migrated."""
    _run("upgrade", revision)


@commands.command()
def downgrade(
    revision: Annotated[
        str, typer.Argument(help="Target revision, e.g. 0001, or 'base' for an empty database.")
    ],
) -> None:
    """Migrate the catalog back to REVISION. Tables and columns newer than REVISION are dropped
    with their rows: take a backup first (docs/DEPLOY.md)."""
    _run("downgrade", revision)


@commands.command()
def current() -> None:
    """Show the catalog's URL (without its password), its revision and the newest known."""
    _run("current")

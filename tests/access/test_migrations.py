"""Every migration up and down, from an empty and from a populated database, on SQLite and
PostgreSQL (issue 12).

The chain is walked revision by revision. At each revision every table the schema has then
gets a row (values made from the reflected column types, so a migration another helper adds is
covered without editing this file); after upgrading to head, and after every downgrade step back
to base, each row is still there in every table the revision keeps. Rows are identified by
their primary key. A migration that moves rows on purpose checks that in its own test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory

from statbot.access.catalog import Catalog
from tests.access.test_catalog import _drift

Key = tuple[Any, ...]


def _chain(catalog: Catalog) -> list[str]:
    """Revisions from the first to head (the chain must stay linear: one head)."""
    script = ScriptDirectory.from_config(catalog._config(None))
    heads = script.get_heads()
    assert len(heads) == 1, f"the migrations have {len(heads)} heads: {heads} (fix down_revision)"
    return [r.revision for r in reversed(list(script.walk_revisions("base", "heads")))]


def _tables(catalog: Catalog) -> sa.MetaData:
    metadata = sa.MetaData()
    metadata.reflect(catalog.engine)
    metadata.remove(metadata.tables["alembic_version"])
    return metadata


def _value(column: sa.Column[Any], seed: int, parents: dict[str, dict[str, Any]]) -> Any:
    for fk in column.foreign_keys:  # the row of the same seed in the referenced table
        return parents[fk.column.table.name][fk.column.name]
    kind = column.type
    if isinstance(kind, sa.Boolean):
        return seed % 2 == 0
    if isinstance(kind, sa.Integer):
        return seed
    if isinstance(kind, sa.Float | sa.Numeric):
        return float(seed) + 0.5
    if isinstance(kind, sa.JSON):
        return {"seed": seed}
    if isinstance(kind, sa.DateTime):
        return dt.datetime(2026, 1, 1) + dt.timedelta(seconds=seed)
    if isinstance(kind, sa.Date):
        return dt.date(2026, 1, 1) + dt.timedelta(days=seed)
    if isinstance(kind, sa.String | sa.Text):
        text = f"r{seed}"
        length = getattr(kind, "length", None)
        return text[:length] if length else text
    if isinstance(kind, sa.LargeBinary):
        return f"r{seed}".encode()
    raise AssertionError(f"no test value for {column.table.name}.{column.name}: {kind!r}")


def _populate(catalog: Catalog, seed: int) -> dict[str, Key]:
    """One row in every table the schema has now; returns each row's primary key."""
    metadata = _tables(catalog)
    keys: dict[str, Key] = {}
    rows: dict[str, dict[str, Any]] = {}
    with catalog.engine.begin() as connection:
        for table in metadata.sorted_tables:  # parents before children
            row = {c.name: _value(c, seed, rows) for c in table.columns}
            connection.execute(table.insert().values(row))
            rows[table.name] = row
            keys[table.name] = tuple(row[c.name] for c in table.primary_key.columns)
    return keys


def _missing(catalog: Catalog, inserted: list[tuple[str, dict[str, Key]]]) -> list[str]:
    """Rows inserted earlier that are gone from a table the schema still has."""
    metadata = _tables(catalog)
    gone = []
    with catalog.engine.connect() as connection:
        for revision, keys in inserted:
            for name, key in keys.items():
                table = metadata.tables.get(name)
                if table is None:
                    continue  # the table itself went with a downgrade
                found = {tuple(r) for r in connection.execute(_select_keys(table))}
                if key not in found:
                    gone.append(f"{name} {key} (inserted at {revision})")
    return gone


def _forget_dropped(
    catalog: Catalog, inserted: list[tuple[str, dict[str, Key]]]
) -> list[tuple[str, dict[str, Key]]]:
    """A table a downgrade dropped took its rows along: upgrading again makes it empty."""
    names = set(_tables(catalog).tables)
    return [(rev, {t: k for t, k in keys.items() if t in names}) for rev, keys in inserted]


def _select_keys(table: sa.Table) -> sa.Select[Any]:
    return sa.select(*table.primary_key.columns)


def test_up_and_down_from_an_empty_database(catalog_url: str) -> None:
    catalog = Catalog(catalog_url)
    try:
        chain = _chain(catalog)
        for revision in chain:
            catalog.upgrade(revision)
            assert catalog.current() == revision
        assert _drift(catalog) == []
        for previous in reversed(["base", *chain[:-1]]):
            catalog.downgrade(previous)
            assert catalog.current() == (None if previous == "base" else previous)
        assert set(sa.inspect(catalog.engine).get_table_names()) <= {"alembic_version"}
        catalog.upgrade()
        assert catalog.current() == chain[-1]
        assert _drift(catalog) == []
    finally:
        catalog.close()


def test_up_and_down_from_a_populated_database(catalog_url: str) -> None:
    catalog = Catalog(catalog_url)
    try:
        chain = _chain(catalog)
        inserted: list[tuple[str, dict[str, Key]]] = []
        # Populate at each revision, then move one step up: the rows must survive every step.
        for index, revision in enumerate(chain):
            catalog.upgrade(revision)
            inserted.append((revision, _populate(catalog, 1000 + index)))
            assert _missing(catalog, inserted) == []
        assert _drift(catalog) == []
        # Back down, one revision at a time: whatever a revision keeps keeps its rows.
        for previous in reversed(chain[:-1]):
            catalog.downgrade(previous)
            assert catalog.current() == previous
            assert _missing(catalog, inserted) == [], previous
            inserted = _forget_dropped(catalog, inserted)
            seed = 5000 + len(inserted)
            inserted.append((f"{previous} (after downgrade)", _populate(catalog, seed)))
        # And up again to head over the rows written at the older revisions.
        catalog.upgrade()
        assert catalog.current() == chain[-1]
        assert _missing(catalog, inserted) == []
        assert _drift(catalog) == []
        catalog.downgrade("base")
        assert catalog.current() is None
    finally:
        catalog.close()


@pytest.mark.parametrize("seed", [7])
def test_the_generated_rows_are_checked(catalog: Catalog, seed: int) -> None:
    """The helper above notices a lost row (so the tests above can fail)."""
    keys = _populate(catalog, seed)
    assert _missing(catalog, [("head", keys)]) == []
    with catalog.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM ledger"))
    assert _missing(catalog, [("head", keys)]) == [f"ledger {keys['ledger']} (inserted at head)"]


def test_replicas_starting_at_once_migrate_once(catalog_url: str) -> None:
    """N replicas started together on one empty catalog (DEPLOY's scaled-out setup): each runs
    the migrations at start; one migrates, the others wait for it and find the database at head
    (issue 14). Without a lock the others fail on tables that appeared meanwhile."""
    import subprocess
    import sys

    code = "import sys; from statbot.access.catalog import Catalog; Catalog(sys.argv[1]).upgrade()"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, catalog_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=120)[0].decode(errors="replace") for p in procs]
    failed = [out[-1500:] for p, out in zip(procs, outputs, strict=True) if p.returncode != 0]
    assert not failed, failed
    catalog = Catalog(catalog_url)
    try:
        assert catalog.current() == catalog.head()
        assert not _drift(catalog)
    finally:
        catalog.close()

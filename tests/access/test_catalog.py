"""The catalog database: migrations are the schema, the models agree with them, and a database
newer than the code is refused (issue 12)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from statbot.access.catalog import Catalog, CatalogVersionError, database_url, normalise_url
from statbot.access.models import Base, LedgerEntry, User
from statbot.config import Settings


def _drift(cat: Catalog) -> list[Any]:
    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        # Indexes and unique constraints are defined in the migrations only (issue 12).
        return type_ not in ("index", "unique_constraint")

    with cat.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include}
        )
        return list(compare_metadata(context, Base.metadata))


def test_migrating_an_empty_database_gives_the_models_schema(catalog: Catalog) -> None:
    assert catalog.current() == catalog.head()
    assert _drift(catalog) == []
    tables = set(sa.inspect(catalog.engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_a_model_change_without_a_migration_is_drift(catalog: Catalog) -> None:
    extra = sa.Column("nickname", sa.String(32), nullable=True)
    table = Base.metadata.tables["users"]
    table.append_column(extra)
    try:
        diffs = _drift(catalog)
    finally:
        table._columns.remove(extra)  # restore the shared metadata for the other tests
    assert any(d[0] == "add_column" and d[3].name == "nickname" for d in diffs), diffs


def test_downgrade_to_base_and_up_again(catalog: Catalog) -> None:
    with catalog.session() as s:
        s.add(User(id=1, name="a", role="owner", first_seen=1.0, last_seen=1.0))
    catalog.downgrade("base")
    assert catalog.current() is None
    assert "users" not in sa.inspect(catalog.engine).get_table_names()
    catalog.upgrade()
    assert catalog.current() == catalog.head()
    assert _drift(catalog) == []


def test_the_ledger_key_is_unique(catalog: Catalog) -> None:
    def entry() -> LedgerEntry:
        return LedgerEntry(
            key="purchase:ch_1", user_id=7, at=1.0, kind="purchase", credits=10, stars=50
        )

    with catalog.session() as s:
        s.add(entry())
    with pytest.raises(sa.exc.IntegrityError), catalog.session() as s:
        s.add(entry())
    with catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(LedgerEntry)) == 1


def test_a_database_newer_than_the_code_is_refused(catalog: Catalog) -> None:
    with catalog.engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    with pytest.raises(CatalogVersionError) as caught:
        catalog.upgrade()
    assert "newer statbot" in str(caught.value)
    assert caught.value.revision == "9999_future"


def test_the_default_url_is_a_file_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    assert database_url(settings) == f"sqlite:///{tmp_path / 'catalog.sqlite'}"
    url = "postgresql://u:p@127.0.0.1:5432/statbot"
    assert database_url(Settings(data_dir=tmp_path, database_url=url)).startswith(
        "postgresql+psycopg://"
    )
    assert normalise_url("sqlite:///x") == "sqlite:///x"

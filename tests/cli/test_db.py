"""``statbot db upgrade|downgrade|current`` on SQLite and PostgreSQL (issue 12): each prints the
URL without its password, the revision and the head; a database newer than the code, or one that
cannot be reached, is a sentence and exit 1, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from statbot.access.catalog import Catalog
from statbot.cli import app

PASSWORD = "s3cret-pw"


def _with_password(url: str) -> str:
    # The test server trusts loopback connections, so a password in the URL is accepted and
    # ignored: what matters here is that no output shows it.
    return url.replace("://statbot@", f"://statbot:{PASSWORD}@")


def _db(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, url: str, *args: str) -> tuple[int, str]:
    monkeypatch.chdir(tmp_path)  # no stray .env / statbot.toml
    monkeypatch.setenv("STATBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STATBOT_DATABASE_URL", _with_password(url))
    result = CliRunner().invoke(app, ["db", *args])
    assert "Traceback" not in result.output
    assert PASSWORD not in result.output
    return result.exit_code, result.output


def _field(output: str, name: str) -> str:
    for line in output.splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"no {name!r} line in:\n{output}")


def test_current_upgrade_downgrade(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, catalog_url: str
) -> None:
    head = Catalog(catalog_url).head()
    code, out = _db(monkeypatch, tmp_path, catalog_url, "current")
    assert code == 0, out
    assert _field(out, "revision").startswith("(empty")
    assert _field(out, "head") == f"{head} (behind)"
    if "postgresql" in catalog_url:
        assert "***" in _field(out, "database")

    code, out = _db(monkeypatch, tmp_path, catalog_url, "upgrade")
    assert code == 0, out
    assert _field(out, "revision") == head
    assert _field(out, "head") == f"{head} (up to date)"
    catalog = Catalog(catalog_url)
    try:
        assert catalog.current() == head
        assert "users" in sa.inspect(catalog.engine).get_table_names()
    finally:
        catalog.close()

    code, out = _db(monkeypatch, tmp_path, catalog_url, "downgrade", "0001")
    assert code == 0, out
    assert _field(out, "revision") == "0001"

    code, out = _db(monkeypatch, tmp_path, catalog_url, "downgrade", "base")
    assert code == 0, out
    assert _field(out, "revision").startswith("(empty")
    catalog = Catalog(catalog_url)
    try:
        assert catalog.current() is None
        assert "users" not in sa.inspect(catalog.engine).get_table_names()
    finally:
        catalog.close()


def test_a_database_newer_than_the_code_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, catalog_url: str
) -> None:
    catalog = Catalog(catalog_url)
    try:
        catalog.upgrade()
        with catalog.engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    finally:
        catalog.close()
    code, out = _db(monkeypatch, tmp_path, catalog_url, "current")
    assert code == 0, out
    assert _field(out, "revision") == "9999_future"
    assert "NEWER" in _field(out, "head")
    for args in (("upgrade",), ("downgrade", "base")):
        code, out = _db(monkeypatch, tmp_path, catalog_url, *args)
        assert code == 1, out
        assert "9999_future" in out and "newer statbot" in out
    catalog = Catalog(catalog_url)
    try:
        assert catalog.current() == "9999_future"  # nothing was changed
    finally:
        catalog.close()


def test_an_unreachable_database_is_a_sentence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.support.postgres import free_port

    url = f"postgresql://statbot@127.0.0.1:{free_port()}/statbot"
    code, out = _db(monkeypatch, tmp_path, url, "current")
    assert code == 1, out
    assert "cannot open the catalog database" in out
    assert "STATBOT_DATABASE_URL" in out

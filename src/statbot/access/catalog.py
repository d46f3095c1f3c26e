"""The catalog database: where it is, how it is opened, and its migrations (issue 12).

A SQLite file ``<data_dir>/catalog.sqlite`` by default; PostgreSQL (or any SQLAlchemy URL) when
``STATBOT_DATABASE_URL`` is set. The schema is whatever the Alembic migrations in
``access/alembic/versions/`` make it: :meth:`Catalog.upgrade` applies them, and
:meth:`Catalog.check` refuses a database that a newer statbot has migrated past this code (its
revision is unknown here), with a message an operator can act on.

The API is synchronous (SQLAlchemy's ORM); callers in the event loop run it in a thread
(``asyncio.to_thread``), as they do for the dataset and model files.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statbot.errors import AccessError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Connection, Engine
    from sqlalchemy.orm import Session

    from statbot.config import Settings

log = logging.getLogger(__name__)

CATALOG_FILE = "catalog.sqlite"
SCRIPTS = Path(__file__).resolve().parent / "alembic"


# pg_advisory_xact_lock's key for "a statbot is migrating this database" (any fixed bigint)
MIGRATION_LOCK_KEY = 0x5347_4254_4D49_47


class CatalogVersionError(AccessError):
    """The database was migrated by a newer statbot (a revision this code does not know)."""

    def __init__(self, revision: str, head: str) -> None:
        super().__init__(
            f"the catalog database is at revision {revision!r}, which this statbot does not know "
            f"(its newest is {head!r}): it was upgraded by a newer statbot. Run that version, or "
            "restore a backup taken before the upgrade; statbot will not downgrade it by itself."
        )
        self.revision = revision
        self.head = head


class CatalogUnavailable(AccessError):
    """The catalog database cannot be reached or opened (wrong URL, server down, no access)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            f"cannot open the catalog database {url}: {reason}. Check STATBOT_DATABASE_URL "
            "(unset, statbot uses catalog.sqlite in the data dir) and that the server runs."
        )
        self.url = url


def database_url(settings: Settings) -> str:
    """The catalog's SQLAlchemy URL from settings (driver names filled in)."""
    if settings.database_url:
        return normalise_url(settings.database_url)
    return f"sqlite:///{settings.data_dir / CATALOG_FILE}"


def normalise_url(url: str) -> str:
    """``postgresql://`` → ``postgresql+psycopg://`` (psycopg 3 is the driver statbot ships)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def redact(url: str) -> str:
    """The URL without its password, for logs and messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


class Catalog:
    """An open catalog database. Build with :meth:`from_settings` or a URL; :meth:`close` at the
    end (idempotent)."""

    def __init__(self, url: str, *, data_dir: Path | None = None) -> None:
        from sqlalchemy import create_engine, event

        self.url = normalise_url(url)
        # Where the files of an older statbot are (a job table, dataset and model indexes):
        # :meth:`upgrade` imports them once (statbot.access.legacy). None: nothing to import.
        self.data_dir = data_dir
        if self.url.startswith("sqlite:///"):
            Path(self.url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            self.engine: Engine = create_engine(
                self.url, connect_args={"timeout": 30, "check_same_thread": False}
            )
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            self.engine = create_engine(self.url, pool_pre_ping=True)

    @classmethod
    def from_settings(cls, settings: Settings) -> Catalog:
        return cls(database_url(settings), data_dir=settings.data_dir)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        from sqlalchemy.orm import Session

        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    # migrations ----------------------------------------------------------------------------

    def upgrade(self, revision: str = "head") -> None:
        """Migrate forward to ``revision`` (refusing a database newer than the code), then
        import what an older statbot kept in files of the data dir, if any is left there."""
        from alembic import command

        from statbot.access.legacy import import_data_dir

        self.check()
        with self._migrating() as connection:
            command.upgrade(self._config(connection), revision)
        if self.data_dir is not None:
            import_data_dir(self, self.data_dir)

    def downgrade(self, revision: str) -> None:
        """Migrate back to ``revision`` (``"base"``: nothing left). Refuses a database newer
        than the code: its downgrade steps are in the newer statbot, not here."""
        from alembic import command

        self.check()
        with self._migrating() as connection:
            command.downgrade(self._config(connection), revision)

    def current(self) -> str | None:
        """The database's revision, None for an empty (never migrated) database."""
        from alembic.runtime.migration import MigrationContext

        with self._connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def known(self, revision: str | None) -> bool:
        """Whether this code has ``revision`` among its migrations (None, empty: yes)."""
        from alembic.script import ScriptDirectory
        from alembic.util.exc import CommandError

        if revision is None:
            return True
        try:
            ScriptDirectory.from_config(self._config(None)).get_revision(revision)
        except CommandError:
            return False
        return True

    def head(self) -> str:
        """The newest revision this code knows."""
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(self._config(None)).get_current_head()
        assert head is not None, "statbot ships at least one migration"
        return head

    def check(self) -> None:
        """Raise :class:`CatalogVersionError` when the database is at a revision unknown here."""
        current = self.current()
        if not self.known(current):
            assert current is not None
            raise CatalogVersionError(current, self.head())

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _migrating(self) -> Iterator[Connection]:
        """A connection in one transaction for Alembic. On SQLite, foreign keys are off while it
        runs: a batch migration rebuilds a table (copy, drop, rename), and with them on, the drop
        cascades to the rows that reference the table — downgrading 0002_broadcast_key emptied
        broadcast_recipients (tests/access/test_migrations.py). The pragma is a no-op inside a
        transaction, so it is set before the transaction begins and restored after."""
        with self._migration_lock(), self._connect() as connection:
            if self.is_sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            try:
                with connection.begin():
                    if self.engine.dialect.name == "postgresql":
                        from sqlalchemy import text

                        # held until this transaction ends: the next replica then finds head
                        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                           {"key": MIGRATION_LOCK_KEY})  # fmt: skip
                    yield connection
            finally:
                if self.is_sqlite:
                    connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                    connection.commit()

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        """One process migrates at a time: replicas started together on one empty catalog
        (DEPLOY "Scaled out") would otherwise each create the tables and all but one fail. On
        PostgreSQL a transaction-scoped advisory lock (:meth:`_migrating`); on a SQLite file an
        exclusive ``flock`` of ``<file>.migrating`` beside it, since a SQLite transaction takes
        its write lock only at its first write, after Alembic has read the version."""
        database = self.engine.url.database if self.is_sqlite else None
        if not database or database == ":memory:":
            yield
            return
        import fcntl

        with open(f"{database}.migrating", "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _connect(self) -> Connection:
        """A connection; a database that cannot be reached is a sentence naming it (password
        hidden), not a driver traceback. Errors of the statements run on it pass unchanged."""
        from sqlalchemy.exc import InterfaceError, OperationalError

        try:
            return self.engine.connect()
        except (OperationalError, InterfaceError) as exc:
            lines = str(exc.orig or exc).strip().splitlines()
            raise CatalogUnavailable(redact(self.url), lines[0] if lines else "") from exc

    def _config(self, connection: Connection | None) -> Config:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(SCRIPTS))
        config.attributes["connection"] = connection
        return config


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the health server read while the engine writes; foreign keys are off by
    # default in SQLite and the schema relies on them (quota overrides go with their user).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()

"""A real, throwaway PostgreSQL server on 127.0.0.1 for the catalog tests (issue 12), one per
test session; each test gets its own empty database on it.

The binaries come from Debian's ``postgresql`` package (scripts/install-test-system.sh installs
it; Debian keeps ``initdb`` and ``postgres`` in ``/usr/lib/postgresql/<version>/bin``, off PATH).
PostgreSQL refuses to run as root, so under root (CI) the cluster belongs to the ``postgres``
system user the package creates and the server runs as that user; otherwise as the current
user. The cluster lives in a temporary folder with fsync off, listens on a free loopback port
and on a socket in that folder only, and is stopped by its PID at the end. When PostgreSQL is
missing the tests fail with that instruction instead of being skipped.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.ports import free_port

SUPERUSER = "statbot"
_INSTALL = (
    "PostgreSQL is not installed; the catalog tests need a real server. Install it with "
    "`bash scripts/install-test-system.sh` (Debian package postgresql)."
)


def _bin_dir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(versions[-1]).parent if versions else None


@dataclass
class PostgresServer:
    """A running server: ``url(db)`` for a database on it, ``create_database`` for a new one."""

    port: int
    pid: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url().replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def create_database(self) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.admin(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _owner() -> tuple[int, int] | None:
    """Whom the server runs as: the ``postgres`` user under root, else the caller (None)."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail(
            "running as root, and there is no `postgres` user for the test server (PostgreSQL "
            "refuses root). " + _INSTALL,
            pytrace=False,
        )
    return entry.pw_uid, entry.pw_gid


def _run_as(owner: tuple[int, int] | None) -> dict[str, object]:
    if owner is None:
        return {}
    return {"user": owner[0], "group": owner[1], "extra_groups": []}


def _accepts(port: int) -> bool:
    import psycopg

    try:
        with psycopg.connect(
            f"postgresql://{SUPERUSER}@127.0.0.1:{port}/postgres", connect_timeout=2
        ):
            return True
    except psycopg.OperationalError:
        return False


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    """initdb into a temporary folder, start ``postgres`` on a free loopback port, yield it,
    stop it by its PID (a fast shutdown) and remove the folder."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        pytest.fail(_INSTALL, pytrace=False)
    owner = _owner()
    # Not under pytest's tmp dir: that is private to root (0700), and the server's user must
    # reach its cluster.
    root = Path(tempfile.mkdtemp(prefix="statbot-pg-"))
    data, log_path = root / "data", root / "server.log"
    if owner is not None:
        os.chown(root, *owner)
    env = {**os.environ, "LC_ALL": "C", "TZ": "UTC"}
    initdb = [str(bin_dir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust",
              "-E", "UTF8", "--no-sync", "--no-instructions"]  # fmt: skip
    init = subprocess.run(
        initdb,
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        **_run_as(owner),  # type: ignore[arg-type]
    )
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"initdb failed:\n{init.stdout}\n{init.stderr}", pytrace=False)
    port = free_port()
    log = log_path.open("wb")
    server = [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port),
              "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={root}",
              "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
              "-c", "max_connections=50"]  # fmt: skip
    proc = subprocess.Popen(
        server,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=root,
        **_run_as(owner),  # type: ignore[arg-type]
    )
    try:
        deadline = time.monotonic() + 30
        while not _accepts(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                output = log_path.read_text(errors="replace")
                pytest.fail(f"postgres did not start on port {port}:\n{output}", pytrace=False)
            time.sleep(0.1)
        yield PostgresServer(port=port, pid=proc.pid)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGINT)  # "fast" shutdown: disconnect clients, stop
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a new, empty database on the session's server, dropped after the test."""
    name = postgres_server.create_database()
    try:
        yield postgres_server.url(name)
    finally:
        postgres_server.drop_database(name)

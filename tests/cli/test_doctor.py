"""`statbot doctor` checks each engine (issue 14) against real ones: a redis-server (AOF on and
off, eviction, a wrong password, stopped), the catalog on SQLite and PostgreSQL (at head,
behind, newer than the code, unreachable) and the sandbox standing in for Telegram (getMe,
getWebhookInfo, gone). The webhook settings' rules are in test_doctor_webhook.py (unit tier);
Temporal's checks are in tests/jobs/temporal/test_doctor.py, next to its dev server."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis
import sqlalchemy as sa
from tests.engine.stores.conftest import _free_port
from tests.engine.stores.conftest import redis_url as _redis_url_fixture
from tests.support.doctor import doctor, line

from statbot.access.catalog import Catalog
from statbot.sandbox.server import run_sandbox

TOKEN = "123456:SANDBOX"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _redis_url_fixture.__wrapped__(tmp_path_factory)  # type: ignore[attr-defined]


# the session store ---------------------------------------------------------------------------


def test_redis_with_aof_and_noeviction_is_ok(monkeypatch, tmp_path, redis_url) -> None:
    server = redis.Redis.from_url(redis_url)
    server.config_set("appendonly", "yes")
    server.config_set("appendfsync", "everysec")
    try:
        code, out = doctor(monkeypatch, tmp_path, session_store=redis_url)
    finally:
        server.config_set("appendonly", "no")
    assert code == 0, out
    assert line(out, "session store").startswith("[ok] session store: redis at redis://127.0.0.1")
    version = server.info()["redis_version"]
    assert line(out, "redis") == (
        f"[ok] redis: version {version}, AOF on (appendfsync everysec), maxmemory-policy noeviction"
    )


def test_redis_without_aof_or_with_eviction_is_a_warning(monkeypatch, tmp_path, redis_url) -> None:
    code, out = doctor(monkeypatch, tmp_path, session_store=redis_url)
    assert code == 0, out  # a warning: the bot runs, but a Redis restart would lose work
    assert line(out, "redis").startswith("[warn] redis: version ")
    assert "AOF off" in out and "appendonly yes" in out
    server = redis.Redis.from_url(redis_url)
    server.config_set("appendonly", "yes")
    server.config_set("maxmemory-policy", "allkeys-lru")
    try:
        code, out = doctor(monkeypatch, tmp_path, session_store=redis_url)
    finally:
        server.config_set("maxmemory-policy", "noeviction")
        server.config_set("appendonly", "no")
    assert code == 0, out
    assert "maxmemory-policy allkeys-lru" in line(out, "redis")
    assert "set maxmemory-policy noeviction" in line(out, "redis")


def test_a_redis_that_went_down_fails_the_check(monkeypatch, tmp_path) -> None:
    binary = shutil.which("redis-server")
    assert binary, "redis-server: bash scripts/install-test-system.sh"
    port = _free_port()
    command = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
               "--dir", str(tmp_path), "--requirepass", "right"]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while not _answers(port, "right"):
            assert time.monotonic() < deadline and proc.poll() is None, "redis did not start"
            time.sleep(0.05)
        url = f"redis://:s3cret@127.0.0.1:{port}/0"
        code, out = doctor(monkeypatch, tmp_path, session_store=url)
        assert "[FAIL] session store" in out  # the wrong password: refused, said plainly
        assert "s3cret" not in out
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    code, out = doctor(monkeypatch, tmp_path, session_store=f"redis://127.0.0.1:{port}/0")
    assert code == 1, out
    assert line(out, "session store").startswith("[FAIL] session store: cannot open redis at ")
    assert out.rstrip().endswith("warning(s)") and "check(s) failed" in out


def _answers(port: int, password: str) -> bool:
    try:
        return bool(redis.Redis(port=port, password=password, socket_timeout=1).ping())
    except redis.ConnectionError:
        return False


def test_a_memory_store_is_a_warning(monkeypatch, tmp_path) -> None:
    code, out = doctor(monkeypatch, tmp_path, session_store="memory")
    assert code == 0, out
    assert line(out, "session store").startswith("[warn] session store: in memory")


# the catalog -----------------------------------------------------------------------------------


def test_the_catalog_at_head_behind_and_newer(monkeypatch, tmp_path, catalog_url) -> None:
    catalog = Catalog(catalog_url)
    try:
        catalog.upgrade()
        head = catalog.head()
        code, out = doctor(monkeypatch, tmp_path, database_url=catalog_url)
        assert code == 0, out
        assert line(out, "catalog").endswith(f"migrations at head ({head})")
        assert "password" not in out
        catalog.downgrade("0001")
        code, out = doctor(monkeypatch, tmp_path, database_url=catalog_url)
        assert code == 0, out
        assert line(out, "catalog").startswith("[warn] catalog: ")
        assert f"at revision 0001, behind this statbot's {head}" in out
        assert catalog.current() == "0001"  # the doctor looked, it did not migrate
        catalog.upgrade()
        with catalog.engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
        code, out = doctor(monkeypatch, tmp_path, database_url=catalog_url)
        assert code == 1, out
        assert line(out, "catalog").startswith("[FAIL] catalog: ")
        assert "at revision 9999_future, newer than this statbot" in out
    finally:
        catalog.close()


def test_an_unreachable_catalog_fails_the_check(monkeypatch, tmp_path) -> None:
    url = f"postgresql://statbot:hunter2@127.0.0.1:{_free_port()}/statbot"
    code, out = doctor(monkeypatch, tmp_path, database_url=url)
    assert code == 1, out
    assert line(out, "catalog").startswith("[FAIL] catalog: cannot open the catalog database")
    assert "hunter2" not in out


# Telegram (the sandbox) and the webhook ----------------------------------------------------


async def test_telegram_through_the_sandbox_and_its_webhook(monkeypatch, tmp_path) -> None:
    async with run_sandbox(token=TOKEN) as sandbox:
        env = {
            "session_store": "sqlite",
            "telegram_token": TOKEN,
            "telegram_api_url": sandbox.api_url,
            "webhook_url": "http://127.0.0.1:8443/hook",
            "webhook_secret": "s3cret-token",
        }
        code, out = await asyncio.to_thread(doctor, monkeypatch, tmp_path, **env)
        assert code == 0, out
        assert line(out, "telegram").startswith("[ok] telegram: token valid for @")
        assert line(out, "webhook").startswith("[ok] webhook: Telegram posts to ")
        assert "s3cret-token" not in out and TOKEN not in out
        # Someone pointed the bot's webhook elsewhere (another deployment with this token):
        bot = f"{sandbox.api_url}/bot{TOKEN}"
        await asyncio.to_thread(_post, f"{bot}/setWebhook", url="http://127.0.0.1:9/other")
        code, out = await asyncio.to_thread(doctor, monkeypatch, tmp_path, **env)
        assert code == 0, out
        assert line(out, "telegram webhook").startswith(
            "[warn] telegram webhook: Telegram delivers to http://127.0.0.1:9/other"
        )
    code, out = await asyncio.to_thread(doctor, monkeypatch, tmp_path, **env)
    assert code == 1, out  # the sandbox is gone: Telegram cannot be reached
    assert line(out, "telegram").startswith("[FAIL] telegram: getMe at ")


def _post(endpoint: str, **fields: str) -> None:
    import json
    import urllib.request

    body = json.dumps(fields).encode()
    request = urllib.request.Request(endpoint, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert json.loads(answer.read())["ok"]

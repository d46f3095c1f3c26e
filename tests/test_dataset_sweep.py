"""Issue 15: datasets no session and no unfinished job refers to are removed by the sweep once
older than its grace time — one a step stored and then refused (a one-column file at /train)
stayed until /forget, and those of sessions Redis expired were never removed."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from statbot.engine.stores import open_store
from statbot.engine.stores.sqlite import SqliteStore
from statbot.testing import ChatDriver
from tests.engine.stores.conftest import redis_url as _redis_url_fixture

GRACE = 600.0


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _redis_url_fixture.__wrapped__(tmp_path_factory)  # type: ignore[attr-defined]


def _csv(path: Path, header: str, rows: int) -> Path:
    width = len(header.split(","))
    path.write_text(header + "\n" + "".join(",".join([str(i)] * width) + "\n" for i in range(rows)))
    return path


def _age(data_dir: Path, seconds: float) -> None:
    """Make every stored dataset look ``seconds`` old (the sweep goes by file time)."""
    then = time.time() - seconds
    for parquet in (data_dir / "datasets").rglob("*.parquet"):
        os.utime(parquet, (then, then))


def _stored(data_dir: Path) -> set[str]:
    return {p.stem for p in (data_dir / "datasets").rglob("*.parquet")}


async def test_a_refused_upload_is_swept_what_a_session_uses_stays(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "s.sqlite3")
    async with ChatDriver(tmp_path / "var", store=store) as chat:
        await chat.send("/explore")
        await chat.upload(_csv(tmp_path / "kept.csv", "a,b,c", 12))
        kept = _stored(chat.data_dir)
        await chat.send("/train")
        said = "\n".join(r.text for r in await chat.upload(_csv(tmp_path / "one.csv", "x", 12)))
        assert "only one column" in said
        refused = _stored(chat.data_dir) - kept
        assert len(kept) == 1 and len(refused) == 1
        sweep = chat.core.userdata.sweep_orphans
        assert await sweep(time.time(), GRACE) == 0, "young files are left alone"
        _age(chat.data_dir, 2 * GRACE)
        assert await sweep(time.time(), GRACE) == 1
        assert _stored(chat.data_dir) == kept
        await chat.send("/cancel")
        reply = "\n".join(r.text for r in await chat.send("describe it"))
        assert "Using your last dataset" in reply, reply  # the kept dataset still works
    await store.close()


async def test_datasets_of_sessions_redis_expired_are_swept(tmp_path: Path, redis_url: str) -> None:
    store = open_store(redis_url, session_ttl_seconds=1.0)
    async with ChatDriver(tmp_path / "var", store=store) as chat:
        await chat.send("/explore")
        await chat.upload(_csv(tmp_path / "data.csv", "a,b", 12))
        assert len(_stored(chat.data_dir)) == 1
        _age(chat.data_dir, 2 * GRACE)
        assert await chat.core.userdata.sweep_orphans(time.time(), GRACE) == 0  # in use
        deadline = time.monotonic() + 10
        while await store.load(chat.key) is not None:  # Redis drops the session by its TTL
            assert time.monotonic() < deadline, "the session never expired"
            await asyncio.sleep(0.2)
        assert await chat.core.userdata.sweep_orphans(time.time(), GRACE) == 1
        assert _stored(chat.data_dir) == set()
    await store.close()  # a store the test gave the driver is the test's to close

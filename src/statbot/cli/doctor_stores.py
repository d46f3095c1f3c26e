"""``statbot doctor``'s checks of what statbot stores in: the session store (memory, the
SQLite file, or Redis — reachable, version, AOF, eviction policy) and the catalog database
(reachable; its migrations at head, behind, or newer than this code)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from statbot.cli.doctor import Report
    from statbot.config import Settings

MIN_REDIS = (6, 2)  # XRANGE with an exclusive start, which the inbox reads with


def hide_password(url: str) -> str:
    """``url`` with its password replaced by ``***`` (redis://, postgresql://, …)."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


async def check_store(settings: Settings, report: Report) -> None:
    from statbot.engine.stores import open_store_for

    spec = settings.session_store
    where = {"memory": "in memory", "sqlite": str(settings.sqlite_path)}.get(spec)
    where = where or hide_password(spec)
    try:
        store = open_store_for(settings)
        await store.open()
        try:
            counts = await store.counts()
        finally:
            await store.close()
    except Exception as exc:
        report(
            "fail",
            "session store",
            f"cannot open {store_name(spec)} at {where}: {type(exc).__name__}: {exc}",
        )
        return
    if spec == "memory":
        report(
            "warn",
            "session store",
            "in memory: every conversation is lost when the bot "
            "stops; set STATBOT_SESSION_STORE=sqlite (one host) or a redis:// URL",
        )
        return
    report("ok", "session store", f"{store.name} at {where}, {counts.sessions} session(s)")
    if spec not in ("memory", "sqlite"):
        await check_redis(spec, report)


def store_name(spec: str) -> str:
    return spec if spec in ("memory", "sqlite") else "redis"


async def check_redis(url: str, report: Report) -> None:
    """The Redis server itself: version, persistence (AOF) and eviction policy."""
    import redis.asyncio as aioredis
    from redis.exceptions import RedisError

    client: Any = aioredis.Redis.from_url(url, decode_responses=True, socket_timeout=5)
    try:
        info = await client.info()
        fsync = await _appendfsync(client)
    except RedisError as exc:
        report("fail", "redis", f"cannot read INFO from {hide_password(url)}: {exc}")
        return
    finally:
        await client.aclose()
    version = str(info.get("redis_version", "?"))
    numbers = tuple(int(p) for p in re.findall(r"\d+", version)[:2])
    if numbers < MIN_REDIS:
        report("fail", "redis", f"version {version}: statbot needs Redis 6.2 or newer")
        return
    aof = bool(int(info.get("aof_enabled") or 0))
    policy = str(info.get("maxmemory_policy", "?"))
    detail = (
        f"version {version}, AOF {f'on (appendfsync {fsync})' if aof else 'off'}, "
        f"maxmemory-policy {policy}"
    )
    if not aof:
        report(
            "warn",
            "redis",
            f"{detail}: without AOF a Redis restart loses the conversations "
            "and journaled updates since its last snapshot; set appendonly yes, appendfsync "
            "everysec (docs/RELIABILITY.md)",
        )
    elif policy != "noeviction":
        report(
            "warn",
            "redis",
            f"{detail}: under memory pressure Redis may evict sessions or "
            "the inbox; set maxmemory-policy noeviction",
        )
    else:
        report("ok", "redis", detail)


async def _appendfsync(client: Any) -> str:
    """INFO does not say; CONFIG GET may be refused (a managed Redis): then it is unknown."""
    from redis.exceptions import ResponseError

    try:
        found = await client.config_get("appendfsync")
    except ResponseError:
        return "unknown"
    return str(found.get("appendfsync") or "unknown")


def check_catalog(settings: Settings, report: Report) -> None:
    """The catalog database: reachable, and where its migrations stand against this code."""
    from statbot.access.catalog import CATALOG_FILE, Catalog, database_url, redact
    from statbot.errors import AccessError

    url = database_url(settings)
    if not settings.database_url and not (Path(settings.data_dir) / CATALOG_FILE).exists():
        report(
            "ok",
            "catalog",
            f"{redact(url)} does not exist yet; the bot creates and "
            "migrates it at start (or `statbot db upgrade`)",
        )
        return
    catalog = Catalog(url)
    try:
        current, head = catalog.current(), catalog.head()
        known = catalog.known(current)
    except AccessError as exc:
        report("fail", "catalog", str(exc))
        return
    except Exception as exc:
        report("fail", "catalog", f"cannot read {redact(url)}: {type(exc).__name__}: {exc}")
        return
    finally:
        catalog.close()
    where = f"{catalog.engine.dialect.name} at {redact(url)}"
    if current == head:
        report("ok", "catalog", f"{where}, migrations at head ({head})")
    elif not known:
        report(
            "fail",
            "catalog",
            f"{where} is at revision {current}, newer than this statbot "
            f"(its newest is {head}): a newer statbot upgraded it, and this one will not "
            "start on it; run the newer statbot, or restore the backup from before the "
            "upgrade",
        )
    else:
        report(
            "warn",
            "catalog",
            f"{where} is at revision {current or '(empty)'}, behind this "
            f"statbot's {head}: the bot migrates it at start; `statbot db upgrade` does it "
            "now (back it up first)",
        )

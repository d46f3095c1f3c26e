"""The stored form shared by the durable backends: compact JSON, empty fields left out."""

from __future__ import annotations

import json
from typing import Any

from statbot.engine.errors import DamagedSessionError
from statbot.engine.session import Session

_EMPTY: tuple[object, ...] = ("", [], {})


def dumps(value: Any) -> str:
    """Compact JSON (no spaces, UTF-8 kept as is): the on-disk form of sessions, replies, events."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def session_body(session: Session, version: int) -> str:
    """``session`` as compact JSON with ``version``; None/empty fields are left out because
    ``Session.from_dict`` restores them, which keeps an idle session well under 2 KB."""
    raw = session.to_dict()
    raw["version"] = version
    return dumps({k: v for k, v in raw.items() if v is not None and v not in _EMPTY})


def load_session(body: str, version: int, key: str = "") -> Session:
    """The stored session; :class:`DamagedSessionError` when the record cannot be read."""
    try:
        raw = json.loads(body)
        session = Session.from_dict(raw)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DamagedSessionError(key, version, body, f"{type(exc).__name__}: {exc}") from exc
    session.version = version
    return session

"""The engine's settings, taken from :class:`statbot.config.Settings` once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from statbot.engine.keyed import RETRY_DELAYS


@dataclass(frozen=True, slots=True)
class EngineConfig:
    session_timeout_minutes: float = 60.0
    grace_period_minutes: float = 1440.0
    max_history_messages: int = 50
    cleanup_interval_seconds: float = 60.0
    max_dataframe_size_mb: float = 200.0
    max_commit_retries: int = 5  # stale-version re-applies before an event is left in the inbox
    session_cache_size: int = 10_000  # sessions kept in memory between events (0 = always load)
    # waits between attempts at an event whose application raised (store outage)
    retry_delays: tuple[float, ...] = RETRY_DELAYS
    # a shared store's per-key lease (engine/leases.py): how long a stalled process keeps a key
    lease_seconds: float = 10.0

    @classmethod
    def from_settings(cls, settings: Any) -> EngineConfig:
        """From :class:`statbot.config.Settings` (typed ``Any`` to keep this import light)."""
        return cls(
            session_timeout_minutes=float(settings.session_timeout_minutes),
            grace_period_minutes=float(settings.grace_period_minutes),
            max_history_messages=int(settings.max_history_messages),
            cleanup_interval_seconds=float(settings.cleanup_interval_seconds),
            max_dataframe_size_mb=float(settings.max_dataframe_size_mb),
            lease_seconds=float(settings.lease_seconds),
        )

"""A user's quotas as values, and the refusal when one is reached (issue 12).

Pure: no database, so the job worker (which checks the storage quota when it saves a model)
imports it without SQLAlchemy. :mod:`statbot.access.quotas` reads the values from the settings
(per role) and the catalog (per-user overrides).

Three limits, by the names ``/quota`` and the overrides use: ``storage_mb`` (the user's datasets
and models on disk), ``trainings_per_day`` (free trainings per UTC day; beyond them a training
costs a credit) and ``rows_per_dataset``. ``inf`` is "unlimited".
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from statbot.errors import AccessError

STORAGE, TRAININGS, ROWS = "storage_mb", "trainings_per_day", "rows_per_dataset"
NAMES = (STORAGE, TRAININGS, ROWS)
MB = 1024 * 1024
SEE = "/quota shows your limits."


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits that apply to one user now; ``overridden`` names those set for the user."""

    role: str
    storage_mb: float
    trainings_per_day: float
    rows_per_dataset: float
    overridden: frozenset[str] = field(default_factory=frozenset)

    def get(self, name: str) -> float:
        value: float = getattr(self, name)
        return value

    @property
    def storage_bytes(self) -> float:
        return self.storage_mb * MB


class QuotaExceeded(AccessError):
    """A quota refused an action; ``limit`` names it, ``user_message`` says what to do."""

    def __init__(self, limit: str, user_message: str) -> None:
        super().__init__(f"quota {limit} reached", user_message=user_message)
        self.limit = limit


def storage_full(limit_mb: float, used_bytes: float, what: str) -> QuotaExceeded:
    return QuotaExceeded(
        STORAGE,
        f"Your storage quota is full: your datasets and models use {show_mb(used_bytes)} of "
        f"{show(STORAGE, limit_mb)}, so {what}. Delete models you no longer need (/models) or "
        f"send a smaller file; {SEE}",
    )


def too_many_rows(limit: float, rows: float) -> QuotaExceeded:
    return QuotaExceeded(
        ROWS,
        f"The file has {rows:,.0f} rows; your quota allows {limit:,.0f} rows per dataset, so "
        f"it was not loaded. Send a sample of it, or ask an admin for a larger quota; {SEE}",
    )


def show(name: str, value: float) -> str:
    """A limit's value as /quota prints it."""
    if math.isinf(value):
        return "unlimited"
    if name == STORAGE and not float(value).is_integer():
        return show_mb(value * MB)
    number = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    return f"{number} MB" if name == STORAGE else number


def show_mb(size_bytes: float) -> str:
    mb = size_bytes / MB
    if size_bytes == 0:
        return "0 MB"
    return f"{mb:,.1f} MB" if mb >= 0.1 else f"{size_bytes / 1024:,.0f} KB"


def parse_value(text: str) -> float:
    """What an admin types after ``/quota <user> <name>``: a number ≥ 0 or ``unlimited``."""
    word = text.strip().lower()
    if word in ("unlimited", "inf", "none", "no limit"):
        return math.inf
    try:
        value = float(word.removesuffix("mb").strip().replace(",", "").replace("_", ""))
    except ValueError:
        value = math.nan
    if not value >= 0:
        raise AccessError(
            f"bad quota value {text!r}",
            user_message=f"{text!r} is not a quota: give a number (0 or more), 'unlimited', "
            "or 'default' to go back to the role's.",
        )
    return value


def day_of(at: float) -> str:
    """The UTC day of a UNIX time, ``YYYY-MM-DD`` (the key of the per-day quotas)."""
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d")


def reset_at(at: float) -> float:
    """When the per-day quotas of ``at``'s day reset: the next 00:00 UTC."""
    day = datetime.fromtimestamp(at, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return (day + timedelta(days=1)).timestamp()


def reset_words(at: float) -> str:
    """ "00:00 UTC (in 5 h 12 min)": when the day's quotas reset, seen from ``at``."""
    left = max(0, int(reset_at(at) - at))
    hours, minutes = left // 3600, (left % 3600 + 59) // 60
    if minutes == 60:
        hours, minutes = hours + 1, 0
    span = f"{hours} h {minutes} min" if hours else f"{minutes} min"
    return f"00:00 UTC (in {span})"

"""Suite-wide test settings and the test tiers. Backend fixtures live next to the tests that
use them.

Tiers (issue 10), as pytest markers given here from where a test lives and what it uses, so a
new test lands in a tier without anyone remembering to mark it:

- ``e2e``: the whole bot through the sandbox over real HTTP (tests/e2e/, and the full-stack
  Telegram channel tests);
- ``browser``: headless Chromium drives the sandbox page;
- ``process``: real processes — ``statbot run``/``chat``/``sandbox`` subprocesses, job workers,
  SIGKILL drills, pty sessions;
- ``redis``: a real redis-server (a test using the ``redis_url`` fixture, or run with the
  backend parameter ``"redis"``);
- ``postgres``: a real PostgreSQL server (a test using the ``postgres_url`` fixture, or run with
  the backend parameter ``"postgres"``, as the catalog tests are: tests/support/catalog.py);
- ``temporal``: a real Temporal dev server (tests/jobs/temporal/, issue 14);
- ``scale``: N ``statbot run`` webhook replicas behind HAProxy on redis-server, PostgreSQL and
  Temporal, killed and frozen under load (tests/scale/, issue 14);
- ``unit``: everything else — in-process, fast. ``make test-fast`` runs only these.

``make test`` runs every tier.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Charts render off-screen; no display in CI.
os.environ.setdefault("MPLBACKEND", "Agg")

TESTS = Path(__file__).resolve().parent

# Paths relative to tests/ (a folder ends with "/"), per tier; first match wins, in this order.
TIERS: dict[str, tuple[str, ...]] = {
    # Replicas behind a load balancer on every real engine (issue 14): tests/support/replicas.py.
    "scale": ("scale/",),
    # A real Temporal dev server (issue 14), started once per session by the fixture in
    # tests/jobs/temporal/conftest.py.
    "temporal": ("jobs/temporal/",),
    "browser": (
        "sandbox/test_page.py",
        "sandbox/test_page_restart.py",
        "channels/telegram/test_browser_train.py",
        "channels/telegram/test_browser_buy.py",
    ),
    "e2e": (
        "e2e/",
        "channels/telegram/test_train_predict.py",
        "channels/telegram/test_intents_e2e.py",
        "channels/telegram/test_redis_store_e2e.py",
        "channels/telegram/test_end_to_end.py",
        "channels/telegram/test_channel_edges.py",
        "channels/telegram/test_expiry_data.py",
        "channels/telegram/test_broadcast_e2e.py",
        "channels/telegram/test_buy_e2e.py",
    ),
    "process": (
        "ops/test_process.py",
        "ops/test_token_in_logs.py",
        "engine/test_crash.py",
        "channels/console/test_console_pty.py",
        "channels/console/test_console_train_predict.py",
        "sandbox/test_restart_process.py",
        "sandbox/test_run.py",
        "sandbox/test_cli.py",
        "sandbox/test_package.py",
        "jobs/",
        "workflows/test_train_driver.py",
        "workflows/test_train_cancel.py",
        "workflows/test_quota_training.py",
        "workflows/test_user_guide.py",
        "workflows/test_no_values_in_logs.py",
        "cli/test_db_start.py",
        "cli/test_doctor.py",  # redis-server, PostgreSQL and the sandbox, real (issue 14)
        "workflows/test_payment_crash.py",
    ),
}
MARKERS = ("unit", "process", "e2e", "browser", "redis", "postgres", "temporal", "scale")


def tier_of(path: Path) -> str:
    rel = path.resolve().relative_to(TESTS).as_posix()
    for tier, places in TIERS.items():
        if any(rel.startswith(p) if p.endswith("/") else rel == p for p in places):
            return tier
    return "unit"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = tier_of(Path(str(item.fspath)))
        callspec = getattr(item, "callspec", None)
        on_redis = callspec is not None and "redis" in callspec.params.values()
        if on_redis or "redis_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.redis)
            if tier == "unit":
                tier = "process"  # a redis-server process, not a fast in-process test
        on_postgres = callspec is not None and "postgres" in callspec.params.values()
        if on_postgres or "postgres_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.postgres)
            if tier == "unit":
                tier = "process"  # a postgres server process, not a fast in-process test
        item.add_marker(getattr(pytest.mark, tier))

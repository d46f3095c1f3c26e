"""Quotas: role defaults from the settings, overrides beat them, trainings charged once per job
(free, then a credit), given back once when a training never ran (issue 12)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from statbot.access.catalog import Catalog
from statbot.access.ledger import PURCHASE, Ledger
from statbot.access.limits import ROWS, STORAGE, TRAININGS, QuotaExceeded, reset_words
from statbot.access.models import AuditEntry, TrainingCharge, Usage, User
from statbot.access.quotas import Quotas
from statbot.config import load_settings
from statbot.errors import AccessError

NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC).timestamp()


def add_user(catalog: Catalog, user_id: int, role: str = "analyst", username: str = "") -> None:
    with catalog.session() as s:
        s.add(User(id=user_id, name=f"u{user_id}", username=username or None, role=role,
                   first_seen=1.0, last_seen=1.0))  # fmt: skip


def quotas(catalog: Catalog, clock: list[float] | None = None, **settings: object) -> Quotas:
    now = clock if clock is not None else [NOON]
    return Quotas(catalog, load_settings(**settings), clock=lambda: now[0])


def buy(catalog: Catalog, user_id: int, credits: int) -> None:
    Ledger(catalog).record(key=f"purchase:{user_id}:{credits}", user_id=user_id,
                           kind=PURCHASE, credits=credits, stars=5 * credits)  # fmt: skip


def test_role_defaults_come_from_the_settings(catalog: Catalog) -> None:
    add_user(catalog, 2, "viewer")
    q = quotas(catalog, quota_storage_mb="analyst=300", quota_trainings_per_day={"viewer": 1})
    analyst = q.limits(1)  # never seen: the default role
    assert (analyst.role, analyst.storage_mb, analyst.trainings_per_day) == ("analyst", 300, 20)
    assert analyst.rows_per_dataset == 1_000_000 and not analyst.overridden
    viewer = q.limits(2)
    assert (viewer.storage_mb, viewer.trainings_per_day, viewer.rows_per_dataset) == (
        100,
        1,
        100_000,
    )
    owner = quotas(catalog, owner_ids="1").limits(1)
    assert owner.role == "owner" and math.isinf(owner.storage_mb)


def test_an_override_beats_the_role_default_and_default_removes_it(catalog: Catalog) -> None:
    add_user(catalog, 5)
    q = quotas(catalog)
    q.set_override(1, 5, STORAGE, 50.0)
    q.set_override(1, 5, ROWS, math.inf)
    limits = q.limits(5)
    assert limits.storage_mb == 50.0 and math.isinf(limits.rows_per_dataset)
    assert limits.overridden == {STORAGE, ROWS} and limits.trainings_per_day == 20
    q.set_override(1, 5, STORAGE, None)
    assert q.limits(5).storage_mb == 1_000 and q.limits(5).overridden == {ROWS}
    with catalog.session() as s:
        audit = s.scalars(sa.select(AuditEntry).where(AuditEntry.action == "quota.set")).all()
    assert [(a.actor_id, a.target_id, a.detail["value"]) for a in audit] == [
        (1, 5, 50.0), (1, 5, "unlimited"), (1, 5, "default")
    ]  # fmt: skip


def test_an_override_needs_a_known_user_and_a_known_name(catalog: Catalog) -> None:
    q = quotas(catalog)
    with pytest.raises(AccessError) as caught:
        q.set_override(1, 99, STORAGE, 1.0)
    assert "user 99: they have not written to me yet" in caught.value.user_message
    add_user(catalog, 99)
    with pytest.raises(AccessError) as bad:
        q.set_override(1, 99, "cpu", 1.0)
    assert "storage_mb" in bad.value.user_message
    assert q.overrides(99) == {}


def test_free_trainings_then_credits_then_a_refusal(catalog: Catalog) -> None:
    q = quotas(catalog, quota_trainings_per_day="analyst=2")
    assert not q.start_training(7, "job-1").paid
    assert not q.start_training(7, "job-2").paid
    assert q.trainings_today(7) == 2
    with pytest.raises(QuotaExceeded) as caught:
        q.start_training(7, "job-3")
    message = caught.value.user_message
    assert caught.value.limit == TRAININGS
    assert "used your 2 free training(s) for today" in message and "/buy" in message
    assert "00:00 UTC (in 12 h 0 min)" in message and "you have none" in message
    with catalog.session() as s:
        assert s.get(TrainingCharge, "job-3") is None  # nothing charged by a refusal
    buy(catalog, 7, 2)
    charge = q.start_training(7, "job-3")
    assert charge.paid and charge.balance == 1
    assert Ledger(catalog).balance(7) == 1 and q.trainings_today(7) == 2


def test_a_replayed_start_charges_once(catalog: Catalog) -> None:
    q = quotas(catalog, quota_trainings_per_day="analyst=1")
    buy(catalog, 8, 3)
    first = q.start_training(8, "free")
    assert q.start_training(8, "free") == type(first)("free", False, again=True)
    assert q.trainings_today(8) == 1
    paid = q.start_training(8, "paid")
    again = q.start_training(8, "paid")  # the same Train press applied again
    assert paid.paid and again.paid and again.again
    assert Ledger(catalog).balance(8) == 2
    assert [m.key for m in Ledger(catalog).recent(8)].count("spend:paid") == 1


def test_a_crash_between_the_spend_and_its_row_charges_once(catalog: Catalog) -> None:
    q = quotas(catalog, quota_trainings_per_day="analyst=0")
    buy(catalog, 9, 2)
    Ledger(catalog).spend(9, 1, "job-x")  # the spend committed, then the process died
    charge = q.start_training(9, "job-x")  # the start replayed after the restart
    assert charge.paid and charge.again and Ledger(catalog).balance(9) == 1


def test_a_training_that_never_ran_gives_back_once(catalog: Catalog) -> None:
    q = quotas(catalog, quota_trainings_per_day="analyst=1")
    buy(catalog, 10, 1)
    q.start_training(10, "free")
    q.start_training(10, "paid")
    assert Ledger(catalog).balance(10) == 0 and q.trainings_today(10) == 1
    assert q.give_back("paid", "cancelled before it ran") is True
    assert q.give_back("paid", "again") is False
    assert q.give_back("free", "could not be submitted") is True
    assert q.give_back("nothing", "unknown") is False
    assert Ledger(catalog).balance(10) == 1 and q.trainings_today(10) == 0
    assert Ledger(catalog).find("return:paid") is not None
    # A returned job id stays that one job: starting it again charges nothing.
    assert q.start_training(10, "paid").again and Ledger(catalog).balance(10) == 1


def test_the_day_is_the_utc_day(catalog: Catalog) -> None:
    clock = [datetime(2026, 12, 2, 23, 59, tzinfo=UTC).timestamp()]
    q = quotas(catalog, clock, quota_trainings_per_day="analyst=1")
    q.start_training(11, "late")
    with pytest.raises(QuotaExceeded):
        q.start_training(11, "later")
    assert reset_words(clock[0]) == "00:00 UTC (in 1 min)"
    clock[0] += 120  # 00:01 the next day
    assert not q.start_training(11, "later").paid
    with catalog.session() as s:
        days = s.scalars(sa.select(Usage.day).where(Usage.user_id == 11)).all()
    assert sorted(days) == ["2026-12-02", "2026-12-03"]


def test_viewers_may_not_train_even_with_credits(catalog: Catalog) -> None:
    add_user(catalog, 12, "viewer")
    buy(catalog, 12, 5)
    q = quotas(catalog)
    with pytest.raises(QuotaExceeded) as caught:
        q.start_training(12, "job")
    assert "needs the analyst role; you are a viewer" in caught.value.user_message
    assert Ledger(catalog).balance(12) == 5
    # An override of the free trainings does not make a viewer an analyst.
    q.set_override(1, 12, TRAININGS, 3)
    with pytest.raises(QuotaExceeded):
        q.start_training(12, "job")

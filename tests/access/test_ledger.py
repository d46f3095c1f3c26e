"""The credits ledger: each movement once by its key, balances as sums (issue 12)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from statbot.access.catalog import Catalog
from statbot.access.ledger import PURCHASE, REFUND, Ledger, NotEnoughCredits
from statbot.access.models import AuditEntry


def test_a_purchase_is_credited_once_per_charge_id(catalog: Catalog) -> None:
    ledger = Ledger(catalog, clock=lambda: 100.0)
    args = {"user_id": 7, "kind": PURCHASE, "credits": 10, "stars": 50, "charge_id": "ch_1"}
    assert ledger.record(key="purchase:ch_1", **args) is True
    assert ledger.record(key="purchase:ch_1", **args) is False  # the same update again
    assert ledger.balance(7) == 10
    assert [m.key for m in ledger.recent(7)] == ["purchase:ch_1"]
    with catalog.session() as s:
        actions = s.scalars(sa.select(AuditEntry.action)).all()
    assert actions == ["ledger.purchase"]


def test_spends_are_idempotent_and_cannot_overdraw(catalog: Catalog) -> None:
    ledger = Ledger(catalog)
    ledger.record(key="purchase:ch_2", user_id=8, kind=PURCHASE, credits=2, stars=10)
    assert ledger.spend(8, 1, "job-a") is True
    assert ledger.spend(8, 1, "job-a") is False
    assert ledger.balance(8) == 1
    with pytest.raises(NotEnoughCredits) as caught:
        ledger.spend(8, 2, "job-b")
    assert caught.value.balance == 1 and "/buy" in caught.value.user_message
    assert ledger.balance(8) == 1


def test_a_refund_may_take_the_balance_below_zero_when_allowed(catalog: Catalog) -> None:
    ledger = Ledger(catalog)
    ledger.record(key="purchase:ch_3", user_id=9, kind=PURCHASE, credits=5, stars=25)
    ledger.spend(9, 4, "job-c")
    refund = {"user_id": 9, "kind": REFUND, "credits": -5, "stars": -25, "charge_id": "ch_3"}
    with pytest.raises(NotEnoughCredits):
        ledger.record(key="refund:ch_3", **refund)
    assert ledger.record(key="refund:ch_3", allow_negative=True, actor_id=1, **refund) is True
    assert ledger.balance(9) == -4
    assert ledger.find("refund:ch_3") is not None

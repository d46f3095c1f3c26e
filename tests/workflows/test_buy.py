"""/buy, /balance, /refund and the payment handler (issue 12), on the bot's own engine and a
real catalog file: offers checked at pre-checkout, each payment credited once, forged payments
refused and audited, refunds recorded when Telegram confirms them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from statbot.access.ledger import Ledger
from statbot.access.models import AuditEntry, User
from statbot.engine.events import ConversationKey, EventKind, Payment
from statbot.engine.replies import ReplyKind
from statbot.testing import ChatDriver
from statbot.workflows.payments import BLOCKED, OFFER_GONE, UNMATCHED

ALICE = 1  # the driver's default user
BOB = 2


def payload(credits: int = 10, stars: int = 50, user: int = ALICE) -> str:
    return f"pack:{credits}:{stars}:{user}"


def paid(charge: str = "stx1", **fields: object) -> Payment:
    values: dict[str, object] = {
        "currency": "XTR",
        "total_amount": 50,
        "payload": payload(),
        "charge_id": charge,
        **fields,
    }
    return Payment(**values)  # type: ignore[arg-type]


@pytest.fixture
async def chat(tmp_path: Path) -> AsyncIterator[ChatDriver]:
    async with ChatDriver(tmp_path / "var") as driver:
        yield driver


def ledger(chat: ChatDriver) -> Ledger:
    assert chat.services.catalog is not None
    return Ledger(chat.services.catalog)


def audit(chat: ChatDriver) -> list[tuple[str, dict[str, object]]]:
    from sqlalchemy import select

    assert chat.services.catalog is not None
    with chat.services.catalog.session() as s:
        return [
            (a.action, dict(a.detail))
            for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]


def set_user(
    chat: ChatDriver, user_id: int, *, role: str = "analyst", blocked: bool = False
) -> None:
    assert chat.services.catalog is not None
    with chat.services.catalog.session() as s:
        s.merge(User(id=user_id, name="u", role=role, blocked=blocked, first_seen=0, last_seen=0))


async def test_buy_offers_the_packs_and_sends_the_invoice_of_the_one_picked(
    chat: ChatDriver,
) -> None:
    replies = await chat.send("/buy")
    assert [o.label for o in replies[-1].options] == ["10 credits — 50 ⭐", "50 credits — 200 ⭐"]
    replies = await chat.press("50 credits")
    invoice = replies[0]
    assert invoice.kind is ReplyKind.INVOICE
    assert invoice.meta == {
        "title": "50 credits",
        "payload": payload(50, 200),
        "currency": "XTR",
        "amount": 200,
    }
    assert await chat.state() == (None, None)  # done; paying happens outside any step
    await chat.send("/buy")
    assert (await chat.send("1"))[0].meta["amount"] == 50  # typed number


async def test_pre_checkout_answers_yes_only_for_an_offer_still_valid(chat: ChatDriver) -> None:
    def checkout(**fields: object) -> Payment:
        values: dict[str, object] = {
            "currency": "XTR",
            "total_amount": 50,
            "payload": payload(),
            "query_id": "Q",
            **fields,
        }
        return Payment(**values)  # type: ignore[arg-type]

    answer = (await chat.pay_event(EventKind.PRE_CHECKOUT, checkout()))[-1]
    assert answer.kind is ReplyKind.CHECKOUT and answer.meta == {
        "query_id": "Q",
        "ok": True,
        "error": "",
    }
    refused = {
        "price changed": checkout(total_amount=40, payload=payload(10, 40)),
        "wrong amount": checkout(total_amount=49),
        "not ours": checkout(payload="someone-else"),
        "other user": checkout(payload=payload(user=BOB)),
        "currency": checkout(currency="USD"),
    }
    for name, query in refused.items():
        answer = (await chat.pay_event(EventKind.PRE_CHECKOUT, query))[-1]
        assert answer.meta == {"query_id": "Q", "ok": False, "error": OFFER_GONE}, name
    set_user(chat, ALICE, blocked=True)
    answer = (await chat.pay_event(EventKind.PRE_CHECKOUT, checkout()))[-1]
    assert answer.meta["ok"] is False and answer.meta["error"] == BLOCKED
    reasons = [d["reason"] for a, d in audit(chat) if a == "payment.checkout_refused"]
    assert len(reasons) == 6 and "user blocked" in reasons and "pack no longer offered" in reasons


@pytest.fixture
async def chat_on_each_catalog(tmp_path: Path, catalog_url: str) -> AsyncIterator[ChatDriver]:
    async with ChatDriver(tmp_path / "var", database_url=catalog_url) as driver:
        yield driver


async def test_a_payment_is_credited_once_however_often_it_arrives(
    chat_on_each_catalog: ChatDriver,
) -> None:
    """On SQLite and on PostgreSQL (catalog_url): the ledger's unique key on both."""
    chat = chat_on_each_catalog
    replies = await chat.pay_event(EventKind.PAYMENT, paid())
    assert "10 credits* added" in replies[-1].text and "balance: *10*" in replies[-1].text
    again = await chat.pay_event(EventKind.PAYMENT, paid())  # a duplicate (new update id)
    assert "credited already" in again[-1].text and "*10*" in again[-1].text
    assert ledger(chat).balance(ALICE) == 10
    assert [m.kind for m in ledger(chat).recent(ALICE)] == ["purchase"]
    assert [a for a, _ in audit(chat)] == ["ledger.purchase"]
    # A payment is honoured even if the pack was withdrawn after its pre-checkout.
    replies = await chat.pay_event(
        EventKind.PAYMENT, paid("stx2", total_amount=40, payload=payload(10, 40))
    )
    assert ledger(chat).balance(ALICE) == 20


async def test_forged_payments_are_refused_and_audited(chat: ChatDriver, tmp_path: Path) -> None:
    forged = {
        "payload not ours": paid("f1", payload="gift:1000"),
        "amount 5, the pack costs 50": paid("f2", total_amount=5),
        "currency USD, not XTR": paid("f3", currency="USD"),
        "another user's invoice": paid("f4", payload=payload(user=BOB)),
    }
    for reason, payment in forged.items():
        assert (await chat.pay_event(EventKind.PAYMENT, payment))[-1].text == UNMATCHED
        assert ledger(chat).balance(ALICE) == 0, reason
    refused = [(d["reason"], d["charge_id"]) for a, d in audit(chat) if a == "payment.refused"]
    assert refused == [(reason, p.charge_id) for reason, p in forged.items()]
    # Alice's real charge sent again as Bob's: not credited to Bob.
    await chat.pay_event(EventKind.PAYMENT, paid("stx-alice"))
    async with ChatDriver(
        tmp_path / "var", key=ConversationKey("test", BOB, BOB), first_update_id=1000
    ) as bob:
        stolen = paid("stx-alice", payload=payload(user=BOB))
        assert (await bob.pay_event(EventKind.PAYMENT, stolen))[-1].text == UNMATCHED
        assert ledger(bob).balance(BOB) == 0 and ledger(bob).balance(ALICE) == 10
        assert audit(bob)[-1][1]["reason"] == "another user's charge"


async def test_balance_shows_the_balance_and_the_latest_lines(chat: ChatDriver) -> None:
    assert "balance: *0* credits" in (await chat.send("/balance"))[-1].text
    await chat.pay_event(EventKind.PAYMENT, paid())
    text = (await chat.send("/balance"))[-1].text
    assert "*10* credits" in text and "purchase +10, 50 ⭐" in text
    assert "Only an admin" in (await chat.send("/balance 2"))[-1].text


async def test_an_admin_refund_is_recorded_once_when_telegram_confirms_it(
    tmp_path: Path,
) -> None:
    async with ChatDriver(tmp_path / "var", owner_ids=(ALICE,)) as chat:
        await chat.pay_event(EventKind.PAYMENT, paid())
        async with ChatDriver(
            tmp_path / "var", key=ConversationKey("test", BOB, BOB), first_update_id=1000
        ) as bob:
            refused = (await bob.send("/refund stx1"))[-1].text
            assert "needs the admin role" in refused  # the role gate
        assert "Usage" in (await chat.send("/refund nope"))[-1].text
        replies = await chat.send("/refund stx1")
        assert replies[0].kind is ReplyKind.REFUND
        assert replies[0].meta == {"user_id": ALICE, "charge_id": "stx1"}
        assert ledger(chat).balance(ALICE) == 10  # not until Telegram confirms
        refusal = await chat.pay_event(
            EventKind.REFUND_RESULT, paid(), text="Bad Request: CHARGE_NOT_FOUND"
        )
        assert "refused the refund" in refusal[-1].text and ledger(chat).balance(ALICE) == 10
        done = await chat.pay_event(EventKind.REFUND_RESULT, paid())
        assert "is refunded" in done[-1].text and ledger(chat).balance(ALICE) == 0
        update = await chat.pay_event(EventKind.REFUND, paid())  # the refunded_payment update
        assert "refunded to you" in update[-1].text and ledger(chat).balance(ALICE) == 0
        assert "refunded already" in (await chat.send("/refund stx1"))[-1].text
        actions = [a for a, _ in audit(chat)]
        assert actions.count("ledger.refund") == 1 and "refund.requested" in actions
        assert "refund.refused" in actions


async def test_a_payment_waits_in_the_inbox_while_the_catalog_is_down(
    chat: ChatDriver, tmp_path: Path
) -> None:
    """Stars already paid are never consumed with an apology: while the ledger cannot be
    written the event stays in the inbox and is retried, and credited once it can."""
    import asyncio

    from sqlalchemy import create_engine

    catalog = chat.services.catalog
    assert catalog is not None
    working = catalog.engine
    catalog.engine = create_engine(f"sqlite:///{tmp_path / 'gone' / 'nowhere.sqlite'}")
    pending = asyncio.create_task(chat.pay_event(EventKind.PAYMENT, paid("stx9")))
    await asyncio.sleep(0.6)  # the first retries (0.05 s, 0.25 s) meet the outage
    assert not pending.done()
    catalog.engine = working
    replies = await asyncio.wait_for(pending, 30)
    assert "10 credits* added" in replies[-1].text
    assert not any("went wrong" in r.text for r in replies)
    assert ledger(chat).balance(ALICE) == 10

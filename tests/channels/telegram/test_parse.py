from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from statbot.channels.telegram.parse import Callback, parse_update, split_command
from statbot.engine.events import ConversationKey, Event, EventKind, Payment


def _msg(update_id: int = 7, **message: Any) -> dict[str, Any]:
    base = {
        "message_id": 1,
        "date": 1_700_000_000,
        "chat": {"id": 42, "type": "private"},
        "from": {"id": 42, "is_bot": False, "first_name": "A"},
    }
    base.update(message)
    return {"update_id": update_id, "message": base}


def test_text_command_and_upload() -> None:
    text = parse_update(_msg(text="hello"))
    assert isinstance(text, Event) and text.kind is EventKind.TEXT and text.text == "hello"
    assert text.event_id == "u7" and text.key.chat_id == 42 and text.key.user_id == 42
    cmd = parse_update(_msg(text="/Train@StatBot price  rf"), bot_username="statbot")
    assert isinstance(cmd, Event) and cmd.kind is EventKind.COMMAND
    assert (cmd.text, cmd.args) == ("train", "price  rf")
    doc = parse_update(
        _msg(document={"file_id": "F1", "file_name": "a.csv", "file_size": 10}, caption="train it")
    )
    assert isinstance(doc, Event) and doc.kind is EventKind.UPLOAD
    assert doc.upload is not None and doc.upload.file_id == "F1" and doc.text == "train it"


def test_command_for_another_bot_is_ignored() -> None:
    assert parse_update(_msg(text="/start@otherbot"), bot_username="statbot") is None
    assert split_command("/") is None and split_command("/a-b") is None


def test_callback() -> None:
    update = {
        "update_id": 9,
        "callback_query": {
            "id": "q1",
            "from": {"id": 5},
            "data": "o:3",
            "message": {"message_id": 77, "chat": {"id": 5}},
        },
    }
    cb = parse_update(update)
    assert isinstance(cb, Callback)
    assert (cb.message_id, cb.data, cb.query_id, cb.update_id) == (77, "o:3", "q1", 9)


def test_unsupported_updates_are_none() -> None:
    assert parse_update({"update_id": 1, "edited_message": {}}) is None
    assert parse_update({"update_id": "x"}) is None
    assert parse_update([1, 2]) is None
    assert parse_update(_msg(text=None)) is None
    assert parse_update(_msg(chat={"id": True})) is None


PAID = {
    "currency": "XTR",
    "total_amount": 50,
    "invoice_payload": "pack:10:50",
    "telegram_payment_charge_id": "stx1",
    "provider_payment_charge_id": "",
}


def test_payments_become_payment_events() -> None:
    query = {
        "id": "Q1",
        "from": {"id": 42, "is_bot": False, "first_name": "A"},
        "currency": "XTR",
        "total_amount": 50,
        "invoice_payload": "pack:10:50",
    }
    checkout = parse_update({"update_id": 8, "pre_checkout_query": query})
    assert isinstance(checkout, Event) and checkout.kind is EventKind.PRE_CHECKOUT
    assert checkout.key == ConversationKey("telegram", 42, 42) and checkout.event_id == "u8"
    assert checkout.payment == Payment("XTR", 50, "pack:10:50", query_id="Q1")
    paid = parse_update(_msg(9, successful_payment=PAID))
    assert isinstance(paid, Event) and paid.kind is EventKind.PAYMENT
    assert paid.payment is not None and paid.payment.charge_id == "stx1"
    assert paid.payment.total_amount == 50 and paid.payment.payload == "pack:10:50"
    refunded = parse_update(_msg(10, refunded_payment=PAID))
    assert isinstance(refunded, Event) and refunded.kind is EventKind.REFUND
    assert Event.from_dict(refunded.to_dict()) == refunded  # journaled and read back whole


def test_payments_missing_what_identifies_them_are_none() -> None:
    assert parse_update(_msg(successful_payment={**PAID, "telegram_payment_charge_id": ""})) is None
    assert parse_update(_msg(successful_payment={**PAID, "total_amount": "50"})) is None
    no_id = {"from": {"id": 42}, "currency": "XTR", "total_amount": 5, "invoice_payload": "p"}
    assert parse_update({"update_id": 3, "pre_checkout_query": no_id}) is None
    assert parse_update({"update_id": 3, "pre_checkout_query": {**no_id, "id": "Q"}}) is not None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
keys = st.sampled_from(
    [
        "update_id",
        "message",
        "callback_query",
        "chat",
        "from",
        "id",
        "text",
        "document",
        "file_id",
        "file_name",
        "file_size",
        "data",
        "date",
        "message_id",
        "caption",
        "pre_checkout_query",
        "successful_payment",
        "refunded_payment",
        "currency",
        "total_amount",
        "invoice_payload",
        "telegram_payment_charge_id",
    ]
)
update_like = st.recursive(
    st.dictionaries(keys, json_values, max_size=6),
    lambda children: st.dictionaries(keys, children | json_values, max_size=6),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(update_like)
def test_generated_updates_never_raise(raw: dict[str, Any]) -> None:
    result = parse_update(raw)
    assert result is None or isinstance(result, Event | Callback)
    if isinstance(result, Event):
        Event.from_dict(result.to_dict())  # and what comes out is journal-able


def test_the_sender_is_carried_and_survives_the_inbox() -> None:
    """Name, @username and language ride on the Event (issue 12: a user row on first contact);
    an inbox entry stored before these fields existed reads back without them."""
    sender = {
        "id": 42,
        "first_name": "Ada",
        "last_name": "L",
        "username": "ada",
        "language_code": "en",
    }
    event = parse_update(_msg(text="/start", **{"from": sender}))
    assert isinstance(event, Event)
    assert (event.name, event.username, event.language) == ("Ada L", "ada", "en")
    assert Event.from_dict(event.to_dict()) == event
    old = event.to_dict()
    for name in ("name", "username", "language"):
        old.pop(name)
    assert Event.from_dict(old).name == ""
    plain = parse_update(_msg(text="x"))
    assert isinstance(plain, Event) and "username" not in plain.to_dict()  # stored only when set
    press = parse_update(
        {
            "update_id": 9,
            "callback_query": {
                "id": "q1",
                "from": sender,
                "data": "o:3",
                "message": {"message_id": 77, "chat": {"id": 42}},
            },
        }
    )
    assert isinstance(press, Callback) and press.sender["username"] == "ada"

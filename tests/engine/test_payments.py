"""Payment events (issue 12) pass the conversation's steps: answered whatever step it is in."""

from __future__ import annotations

from statbot.engine import (
    Context,
    ConversationKey,
    Dispatcher,
    Event,
    EventKind,
    ReplyKind,
    Session,
    WorkflowRegistry,
)
from statbot.engine import texts as engine_texts
from statbot.engine.events import Payment
from statbot.engine.replies import Reply

from .conftest import counter, survey

KEY = ConversationKey("test", 7, 7)
CHECKOUT = Payment("XTR", 50, "pack:10:50", query_id="Q1")
PAID = Payment("XTR", 50, "pack:10:50", charge_id="stx1")


async def mid_survey(dispatcher: Dispatcher) -> Session:
    session = Session(KEY)
    await dispatcher.apply(session, Event.from_update(KEY, 1, EventKind.COMMAND, text="survey"))
    await dispatcher.apply(session, Event.from_update(KEY, 2, EventKind.TEXT, text="Ann"))
    assert (session.workflow, session.state) == ("survey", "colour")
    return session


async def test_without_a_payment_handler_a_checkout_is_refused_at_once() -> None:
    dispatcher = Dispatcher(WorkflowRegistry([survey()]))
    session = await mid_survey(dispatcher)
    event = Event.from_update(KEY, 3, EventKind.PRE_CHECKOUT, payment=CHECKOUT)
    out = await dispatcher.apply(session, event)
    assert [r.kind for r in out.replies] == [ReplyKind.CHECKOUT]
    assert out.replies[0].meta == {
        "query_id": "Q1",
        "ok": False,
        "error": engine_texts.PAYMENTS_OFF,
    }
    assert (session.workflow, session.state) == ("survey", "colour")  # not moved


async def test_the_payment_handler_answers_and_the_conversation_stays_where_it_was() -> None:
    seen: list[tuple[EventKind, str | None]] = []

    async def payments(ctx: Context) -> None:
        seen.append((ctx.event.kind, ctx.workflow_name))
        assert ctx.event.payment is not None
        if ctx.event.kind is EventKind.PRE_CHECKOUT:
            ctx.reply(Reply.checkout(ctx.event.payment.query_id, ok=True))
        else:
            ctx.reply(f"Thanks for {ctx.event.payment.total_amount} stars.")

    dispatcher = Dispatcher(WorkflowRegistry([survey(), counter()], payments=payments))
    session = await mid_survey(dispatcher)
    menu = session.menu
    out = await dispatcher.apply(
        session, Event.from_update(KEY, 3, EventKind.PRE_CHECKOUT, payment=CHECKOUT)
    )
    assert out.replies == [Reply.checkout("Q1", ok=True)]
    out = await dispatcher.apply(
        session, Event.from_update(KEY, 4, EventKind.PAYMENT, payment=PAID)
    )
    assert [r.text for r in out.replies] == ["Thanks for 50 stars."]
    assert seen == [(EventKind.PRE_CHECKOUT, None), (EventKind.PAYMENT, None)]
    assert (session.workflow, session.state, session.menu) == ("survey", "colour", menu)
    out = await dispatcher.apply(session, Event.from_update(KEY, 5, EventKind.TEXT, text="red"))
    assert session.state == "confirm"  # the survey goes on as if nothing happened


async def test_a_failing_payment_handler_refuses_the_checkout_and_keeps_the_payment() -> None:
    async def broken(ctx: Context) -> None:
        raise RuntimeError("ledger unreachable")

    dispatcher = Dispatcher(WorkflowRegistry([survey()], payments=broken))
    session = await mid_survey(dispatcher)
    out = await dispatcher.apply(
        session, Event.from_update(KEY, 3, EventKind.PRE_CHECKOUT, payment=CHECKOUT)
    )
    assert out.replies == [Reply.checkout("Q1", ok=False, error=engine_texts.PAYMENT_FAILED)]
    out = await dispatcher.apply(
        session, Event.from_update(KEY, 4, EventKind.PAYMENT, payment=PAID)
    )
    assert out.failed and [r.kind for r in out.replies] == [ReplyKind.TEXT]
    assert session.state == "colour"


async def test_payments_pass_the_gates_that_refuse_everything_else() -> None:
    class Closed:
        async def admit(self, session: Session, event: Event) -> list[Reply] | None:
            return [Reply.say("refused")]

    async def payments(ctx: Context) -> None:
        ctx.reply("credited")

    dispatcher = Dispatcher(WorkflowRegistry([survey()], payments=payments))
    dispatcher.gates.append(Closed())
    session = Session(KEY)
    out = await dispatcher.apply(session, Event.from_update(KEY, 1, EventKind.TEXT, text="hi"))
    assert [r.text for r in out.replies] == ["refused"]
    out = await dispatcher.apply(
        session, Event.from_update(KEY, 2, EventKind.PAYMENT, payment=PAID)
    )
    assert [r.text for r in out.replies] == ["credited"]  # Stars already paid: never dropped

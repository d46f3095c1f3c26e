"""Payment events (issue 12): routed past the conversation's steps, to the registry's handler.

A user can press Pay on an invoice sent long ago, in the middle of /train; the payment must be
answered (a pre-checkout within Telegram's 10 s) and credited whatever step the conversation is
in, and it must not move that conversation. So :class:`~statbot.engine.events.EventKind`
``PRE_CHECKOUT``, ``PAYMENT`` and ``REFUND`` go to ``WorkflowRegistry.payments`` (the buy
workflow's handler), which replies without changing the session's workflow or state.
"""

from __future__ import annotations

import logging

from statbot.engine import texts
from statbot.engine.errors import RetryLater
from statbot.engine.events import Event, EventKind
from statbot.engine.replies import Reply
from statbot.engine.session import Session
from statbot.engine.states import HandlerFailed, Outcome, StateRunner
from statbot.engine.workflow import Context

log = logging.getLogger(__name__)


async def route_payment(runner: StateRunner, session: Session, event: Event, out: Outcome) -> None:
    """Hand a payment event to the registry's payment handler; without one, refuse to sell."""
    handler = runner.registry.payments
    query_id = event.payment.query_id if event.payment is not None else ""
    if handler is None:
        if event.kind is EventKind.PRE_CHECKOUT and query_id:
            out.replies.append(Reply.checkout(query_id, ok=False, error=texts.PAYMENTS_OFF))
        else:
            log.error(
                "%s event %s for %s and no payment handler", event.kind, event.event_id, session.key
            )
        return
    ctx = Context(session, event, None, runner.services, history_limit=runner.history_limit)
    try:
        await handler(ctx)
    except RetryLater:
        raise  # not consumed: the applier leaves the event in the inbox
    except Exception as exc:
        log.error(
            "payment handler failed on %s (%s) for %s",
            event.event_id,
            event.kind,
            session.key,
            exc_info=exc,
        )
        if event.kind is EventKind.PRE_CHECKOUT and query_id:
            # Refuse now rather than leave the user's Pay spinning until Telegram gives up.
            out.replies.append(Reply.checkout(query_id, ok=False, error=texts.PAYMENT_FAILED))
            return
        raise HandlerFailed(exc) from exc
    out.replies.extend(ctx.replies)

"""The payment handler (issue 12): pre-checkout answers, crediting, refunds — each exactly once.

Runs for PRE_CHECKOUT, PAYMENT, REFUND and REFUND_RESULT events whatever step the conversation
is in (``engine/payments.py``). Crediting goes through the ledger keyed by Telegram's
``telegram_payment_charge_id`` (``purchase:<id>``, unique in the database), so a payment update
delivered twice, or replayed after a crash between the journal and the session commit, credits
once; a refund is ``refund:<id>`` the same way, recorded when Telegram confirms it (the
``refunded_payment`` update or our refund call's result, whichever comes first).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from statbot.engine.events import EventKind, Payment
from statbot.engine.replies import Reply
from statbot.engine.workflow import Context
from statbot.workflows.offers import audit, is_blocked, pack_of, refusal

if TYPE_CHECKING:
    from statbot.access.catalog import Catalog
    from statbot.access.ledger import Ledger

log = logging.getLogger(__name__)

OFFER_GONE = (
    "This offer is no longer available; nothing was charged. Send /buy for the current packs."
)
BLOCKED = "Your account is blocked, so I cannot sell you credits; nothing was charged."
UNMATCHED = (
    "I could not match this payment to an offer of mine, so no credits were added. "
    "Please contact the bot's operator."
)


def catalog_of(ctx: Context) -> Catalog:
    catalog: Catalog | None = getattr(ctx.services, "catalog", None)
    if catalog is None:
        raise RuntimeError("payments need the catalog (services.catalog)")
    return catalog


def ledger_of(ctx: Context) -> Ledger:
    from statbot.access.ledger import Ledger

    return Ledger(catalog_of(ctx))


async def on_payment(ctx: Context) -> None:
    payment = ctx.event.payment
    if payment is None:
        return
    from sqlalchemy.exc import OperationalError

    from statbot.engine.errors import RetryLater

    kind = ctx.event.kind
    if kind is EventKind.PRE_CHECKOUT:
        await _checkout(ctx, payment)
        return
    try:
        if kind is EventKind.PAYMENT:
            await _credit(ctx, payment)
        elif kind is EventKind.REFUND:
            await _refunded(ctx, payment, confirmed_by="update")
        elif kind is EventKind.REFUND_RESULT:
            await _refund_result(ctx, payment)
    except OperationalError as exc:
        # Stars already paid must reach the ledger: with the catalog unreachable the event
        # stays in the inbox and is retried (then on the next start), never consumed with an
        # apology and lost.
        raise RetryLater(f"catalog unreachable while recording {kind}") from exc


async def _checkout(ctx: Context, payment: Payment) -> None:
    user = ctx.event.key.user_id
    catalog = catalog_of(ctx)
    why = refusal(payment, user, ctx.services.settings, checkout=True)
    error = OFFER_GONE
    if why is None and await ctx.run_blocking(is_blocked, catalog, user, ctx.services.settings):
        why, error = "user blocked", BLOCKED
    if why is not None:
        await ctx.run_blocking(
            audit,
            catalog,
            user,
            "payment.checkout_refused",
            user,
            reason=why,
            stars=payment.total_amount,
        )
        log.warning("pre-checkout of user %s refused: %s", user, why)
    ctx.reply(Reply.checkout(payment.query_id, ok=why is None, error=error if why else ""))


async def _credit(ctx: Context, payment: Payment) -> None:
    from statbot.access.ledger import PURCHASE

    user = ctx.event.key.user_id
    catalog, ledger = catalog_of(ctx), ledger_of(ctx)
    key = f"{PURCHASE}:{payment.charge_id}"
    earlier = await ctx.run_blocking(ledger.find, key)
    why = refusal(payment, user, ctx.services.settings, checkout=False)
    if why is None and earlier is not None and earlier.user_id != user:
        why = "another user's charge"
    found = pack_of(payment.payload)
    if why is not None or found is None:
        await ctx.run_blocking(
            audit,
            catalog,
            user,
            "payment.refused",
            user,
            reason=why,
            charge_id=payment.charge_id,
            stars=payment.total_amount,
        )
        log.warning("payment update of user %s not credited: %s", user, why)
        ctx.reply(UNMATCHED)
        return
    pack, _buyer = found
    recorded = await ctx.run_blocking(
        lambda: ledger.record(
            key=key,
            user_id=user,
            kind=PURCHASE,
            credits=pack.credits,
            stars=payment.total_amount,
            charge_id=payment.charge_id,
            detail={"pack": [pack.credits, pack.stars]},
        )
    )
    balance = await ctx.run_blocking(ledger.balance, user)
    if recorded:
        ctx.reply(f"Thank you! *{pack.credits} credits* added. Your balance: *{balance}* credits.")
    else:
        ctx.reply(f"This payment was credited already. Your balance: *{balance}* credits.")


async def _refunded(ctx: Context, payment: Payment, *, confirmed_by: str) -> bool:
    """Record the refund of ``payment.charge_id`` once; True when recorded now."""
    from statbot.access.ledger import PURCHASE, REFUND

    ledger = ledger_of(ctx)
    purchase = await ctx.run_blocking(ledger.find, f"{PURCHASE}:{payment.charge_id}")
    if purchase is None:
        await ctx.run_blocking(
            audit,
            catalog_of(ctx),
            ctx.event.key.user_id,
            "refund.unknown",
            None,
            charge_id=payment.charge_id,
            by=confirmed_by,
        )
        return False
    recorded = await ctx.run_blocking(
        lambda: ledger.record(
            key=f"{REFUND}:{payment.charge_id}",
            user_id=purchase.user_id,
            kind=REFUND,
            credits=-purchase.credits,
            stars=-purchase.stars,
            charge_id=payment.charge_id,
            actor_id=ctx.event.key.user_id,
            allow_negative=True,
            detail={"confirmed_by": confirmed_by},
        )
    )
    if confirmed_by == "update" and ctx.event.key.user_id == purchase.user_id:
        balance = await ctx.run_blocking(ledger.balance, purchase.user_id)
        ctx.reply(
            f"{purchase.stars} ⭐ were refunded to you and {purchase.credits} credits "
            f"taken back. Your balance: *{balance}* credits."
        )
    return bool(recorded)


async def _refund_result(ctx: Context, payment: Payment) -> None:
    error = ctx.event.text
    if error and "ALREADY_REFUNDED" not in error.upper():
        await ctx.run_blocking(
            audit,
            catalog_of(ctx),
            ctx.event.key.user_id,
            "refund.refused",
            None,
            charge_id=payment.charge_id,
            error=error,
        )
        ctx.reply(f"Telegram refused the refund of `{payment.charge_id}`: {error}")
        return
    await _refunded(ctx, payment, confirmed_by="call")
    done = "was refunded already" if error else "is refunded"
    ctx.reply(f"The payment `{payment.charge_id}` {done}; the ledger records it.")

"""/buy, /balance and /refund (issue 12): credit packs for Telegram Stars, and the ledger.

/buy offers the packs of ``Settings.credit_packs``; picking one sends its invoice (the payment
itself is answered by ``workflows/payments.py``). /balance shows the balance and the latest
ledger lines (an admin may add a user id). /refund <charge id> (admins) asks Telegram to give
a payment back; the ledger records the refund when Telegram confirms it.
"""

from __future__ import annotations

import time

from statbot.engine.replies import Option, Reply
from statbot.engine.workflow import Context, Handler, State, Workflow
from statbot.workflows.offers import Pack, is_admin, packs
from statbot.workflows.payments import catalog_of, ledger_of

NO_PACKS = "There is nothing to buy at the moment."
ADMINS_ONLY = "Only an admin can do that."


async def enter_buy(ctx: Context) -> None:
    offered = packs(ctx.services.settings)
    if not offered:
        ctx.reply(NO_PACKS)
        ctx.finish()
        return
    options = [Option(f"{p.credits}:{p.stars}", p.label) for p in offered]
    ctx.reply(Reply.ask("Credits pay for trainings beyond your free quota. Pick a pack:", options))


async def on_buy(ctx: Context) -> None:
    offered = packs(ctx.services.settings)
    picked = ctx.event.choice or ctx.event.text.strip()
    pack: Pack | None = None
    if picked.isdigit() and 1 <= int(picked) <= len(offered):
        pack = offered[int(picked) - 1]
    else:
        pack = next((p for p in offered if picked in (f"{p.credits}:{p.stars}", p.label)), None)
    if pack is None:
        ctx.reply("Pick one of the packs (or type its number), or /cancel.")
        return
    user = ctx.event.key.user_id
    ctx.reply(
        Reply.invoice(
            f"{pack.credits} credits",
            f"{pack.credits} statbot credits: one training each beyond your free quota.",
            pack.payload(user),
            pack.stars,
        ),
        "Press *Pay* under the invoice to buy it with Telegram Stars.",
    )
    ctx.finish()


async def enter_balance(ctx: Context) -> None:
    user = ctx.event.key.user_id
    args = ctx.event.args.strip()
    if args:
        if not args.isdigit() or not await ctx.run_blocking(
            is_admin, catalog_of(ctx), ctx.services.settings, user
        ):
            ctx.reply(ADMINS_ONLY if args.isdigit() else "Usage: /balance [user id]")
            ctx.finish()
            return
        user = int(args)
    ledger = ledger_of(ctx)
    balance = await ctx.run_blocking(ledger.balance, user)
    recent = await ctx.run_blocking(ledger.recent, user, 10)
    whose = "Your balance" if user == ctx.event.key.user_id else f"Balance of {user}"
    lines = [f"{whose}: *{balance}* credits."]
    for move in recent:
        when = time.strftime("%Y-%m-%d", time.gmtime(move.at))
        stars = f", {move.stars} ⭐" if move.stars else ""
        charge = f" `{move.charge_id}`" if move.charge_id and args else ""
        lines.append(f"{when} {move.kind} {move.credits:+d}{stars}{charge}")
    if not recent:
        lines.append("No purchases yet: /buy adds credits.")
    ctx.reply("\n".join(lines))
    ctx.finish()


async def enter_refund(ctx: Context) -> None:
    from statbot.access.ledger import PURCHASE, REFUND

    admin = ctx.event.key.user_id
    catalog = catalog_of(ctx)
    if not await ctx.run_blocking(is_admin, catalog, ctx.services.settings, admin):
        ctx.reply(ADMINS_ONLY)
        ctx.finish()
        return
    charge_id = ctx.event.args.strip()
    ledger = ledger_of(ctx)
    purchase = await ctx.run_blocking(ledger.find, f"{PURCHASE}:{charge_id}") if charge_id else None
    if purchase is None:
        ctx.reply("Usage: /refund <charge id> — a purchase's id, as /balance <user id> lists it.")
    elif await ctx.run_blocking(ledger.find, f"{REFUND}:{charge_id}") is not None:
        ctx.reply(f"The payment `{charge_id}` is refunded already.")
    else:
        from statbot.workflows.offers import audit

        await ctx.run_blocking(
            audit,
            catalog,
            admin,
            "refund.requested",
            purchase.user_id,
            charge_id=charge_id,
            stars=purchase.stars,
        )
        ctx.reply(
            Reply.refund(purchase.user_id, charge_id),
            f"Asking Telegram to refund {purchase.stars} ⭐ to user {purchase.user_id}…",
        )
    ctx.finish()


def _one_step(name: str, description: str, enter: Handler) -> Workflow:
    return Workflow(
        name, name, description, start="show", states=(State("show", on_enter=enter, final=True),)
    )


BUY = Workflow(
    "buy",
    "buy",
    "buy credits with Telegram Stars",
    start="pick",
    states=(State("pick", on_enter=enter_buy, on_event=on_buy, final=True),),
)
BALANCE = _one_step("balance", "your credits and recent purchases", enter_balance)
REFUND = _one_step("refund", "refund a payment (admins)", enter_refund)

"""Credit packs for Telegram Stars (issue 12): the offer an invoice carries, and its checks.

An invoice's payload names the offer exactly — ``pack:<credits>:<stars>:<user id>`` — so that
a payment can be checked on its own: the pack must still be offered (Settings.credit_packs) at
that price when the user presses Pay, the payment must be in Stars, of that amount, by that user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from statbot.engine.events import Payment
from statbot.engine.replies import STARS

if TYPE_CHECKING:
    from statbot.access.catalog import Catalog
    from statbot.config import Settings


@dataclass(frozen=True)
class Pack:
    credits: int
    stars: int

    @property
    def label(self) -> str:
        return f"{self.credits} credits — {self.stars} ⭐"

    def payload(self, user_id: int) -> str:
        return f"pack:{self.credits}:{self.stars}:{user_id}"


def packs(settings: Settings) -> list[Pack]:
    return [Pack(c, s) for c, s in settings.credit_packs if c > 0 and s > 0]


def pack_of(payload: str) -> tuple[Pack, int] | None:
    """The pack and buyer an invoice payload of ours names; None for any other payload."""
    parts = payload.split(":")
    if len(parts) != 4 or parts[0] != "pack" or not all(p.isdigit() for p in parts[1:]):
        return None
    return Pack(int(parts[1]), int(parts[2])), int(parts[3])


def refusal(payment: Payment, payer: int, settings: Settings, *, checkout: bool) -> str | None:
    """Why this payment is not for an offer of ours (None: it is). ``checkout``: also require
    the pack to be offered still, at that price (a payment already made is honoured)."""
    found = pack_of(payment.payload)
    if found is None:
        return "payload not ours"
    pack, buyer = found
    if buyer != payer:
        return "another user's invoice"
    if payment.currency != STARS:
        return f"currency {payment.currency}, not {STARS}"
    if payment.total_amount != pack.stars:
        return f"amount {payment.total_amount}, the pack costs {pack.stars}"
    if checkout and pack not in packs(settings):
        return "pack no longer offered"
    return None


def is_blocked(catalog: Catalog, user_id: int, settings: Settings | None = None) -> bool:
    from statbot.access.roles import Role, role_of

    return role_of(catalog, user_id, settings) is Role.BLOCKED


def is_admin(catalog: Catalog, settings: Settings, user_id: int) -> bool:
    """Owner or admin (STATBOT_OWNER_IDS owners count), as the roles room says."""
    from statbot.access.roles import Role, at_least, role_of

    return at_least(role_of(catalog, user_id, settings), Role.ADMIN)


def audit(catalog: Catalog, actor: int, action: str, target: int | None, **detail: Any) -> None:
    """An audit line (append-only): a refused payment, a refund asked for or refused."""
    from statbot.access.audit import add

    with catalog.session() as s:
        add(s, action, actor=actor, target=target, **detail)

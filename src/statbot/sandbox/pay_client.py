"""What a sandbox user does with Telegram Stars, and what tests read back (issue 12).

A mixin of :class:`~statbot.sandbox.client.SandboxClient`; the endpoints are in
``pay_control.py``.
"""

from __future__ import annotations

from typing import Any


class PaymentActions:
    """Payment calls of the control API; the client provides ``_call``, ``_who``, ``bot_id``."""

    bot_id: int | None

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        raise NotImplementedError

    def _who(self, user_id: int | None) -> dict[str, Any]:
        raise NotImplementedError

    async def pay(self, message_id: int, *, user_id: int | None = None) -> dict[str, Any]:
        """The user presses Pay under the invoice ``message_id``: the bot gets a
        ``pre_checkout_query`` (``update_id``, ``pre_checkout_query_id`` in the answer)."""
        payload = {**self._who(user_id), "message_id": message_id}
        result: dict[str, Any] = await self._call("POST", "/_sandbox/pay", json=payload)
        return result

    async def charges(self) -> list[dict[str, Any]]:
        """The bot's Stars payments: charge id, user_id, total_amount, payload, refunded."""
        query = {"bot_id": str(self.bot_id)} if self.bot_id is not None else {}
        body = await self._call("GET", "/_sandbox/charges", params=query)
        return list(body["charges"])

    async def redeliver(self, update_id: int) -> int:
        """Deliver the earlier update ``update_id`` again (a duplicate, new update_id)."""
        payload = {"bot_id": self.bot_id, "update_id": update_id}
        return int((await self._call("POST", "/_sandbox/redeliver", json=payload))["update_id"])

    async def push_update(self, kind: str, payload: dict[str, Any]) -> int:
        """Push a hand-made update of type ``kind`` (e.g. a forged ``message``)."""
        body = {"bot_id": self.bot_id, "kind": kind, "payload": payload}
        return int((await self._call("POST", "/_sandbox/updates", json=body))["update_id"])

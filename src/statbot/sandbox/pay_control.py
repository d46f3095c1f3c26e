"""The control API's payment endpoints (issue 12): what the page's Pay button and tests use.

POST /_sandbox/pay        {user_id, bot_id, message_id}  the user pays the invoice
                          → {update_id, message_id, pre_checkout_query_id}
GET  /_sandbox/charges?bot_id=   the bot's Stars payments (charge id, user, amount, refunded)
POST /_sandbox/redeliver  {bot_id, update_id}   an earlier update again, as a duplicate
                          (new update_id, same content) → {update_id}
POST /_sandbox/updates    {bot_id, kind, payload}   push a hand-made update (forged payments
                          in fault tests) → {update_id}
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from statbot.sandbox import payments
from statbot.sandbox.control import Control
from statbot.sandbox.users import ControlError


class PaymentControl:
    def __init__(self, control: Control) -> None:
        self.control = control

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/_sandbox/pay", self.pay),
            web.get("/_sandbox/charges", self.charges),
            web.post("/_sandbox/redeliver", self.redeliver),
            web.post("/_sandbox/updates", self.push),
        ]

    async def pay(self, request: web.Request) -> web.Response:
        control = self.control
        body = await control._json(request)
        bot, user = control._bot(body.get("bot_id")), control._user(body.get("user_id"))
        result = payments.pay(control.state, bot, user, int(body["message_id"]))
        return web.json_response(result)

    async def charges(self, request: web.Request) -> web.Response:
        bot = self.control._bot(request.query.get("bot_id"))
        listed = [{"telegram_payment_charge_id": k, **v} for k, v in bot.charges.items()]
        return web.json_response({"charges": listed})

    async def redeliver(self, request: web.Request) -> web.Response:
        body = await self.control._json(request)
        bot = self.control._bot(body.get("bot_id"))
        return web.json_response({"update_id": payments.redeliver(bot, int(body["update_id"]))})

    async def push(self, request: web.Request) -> web.Response:
        body = await self.control._json(request)
        bot = self.control._bot(body.get("bot_id"))
        kind, payload = str(body.get("kind", "")), body.get("payload")
        if not kind or kind == "update_id" or not isinstance(payload, dict):
            raise ControlError("kind (an update type) and payload (an object) are required")
        content: dict[str, Any] = payload
        return web.json_response({"update_id": bot.push_update(kind, content)})

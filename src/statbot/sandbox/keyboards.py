"""``reply_markup`` validation with Telegram's error texts, and per-chat rate limiting."""

from __future__ import annotations

import math
import time
from typing import Any

from statbot.sandbox.params import ApiError, Params, bad_request
from statbot.sandbox.state import Chat

_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def parse_reply_markup(params: Params) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(inline keyboard echoed in the Message, reply keyboard / removal kept for the page)."""
    markup = params.json_("reply_markup", "can't parse reply keyboard markup JSON object")
    if markup is None:
        return None, None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        return {"inline_keyboard": _inline_rows(markup["inline_keyboard"])}, None
    if "keyboard" in markup:
        rows = markup["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise bad_request('field "keyboard" must be an Array of Array')
        texts = [[b if isinstance(b, str) else str(b.get("text", "")) for b in r] for r in rows]
        return None, {**markup, "keyboard": texts}
    if markup.get("remove_keyboard") or markup.get("force_reply"):
        return None, dict(markup)
    raise bad_request('can\'t find field "inline_keyboard"')


def _inline_rows(rows: Any) -> list[list[dict[str, Any]]]:
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad_request('field "inline_keyboard" must be an Array of Array')
    clean: list[list[dict[str, Any]]] = []
    for row in rows:
        out_row: list[dict[str, Any]] = []
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request('can\'t find field "text"')
            actions = [a for a in _BUTTON_ACTIONS if button.get(a) is not None]
            if not actions:
                raise bad_request("text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None:
                size = len(str(data).encode("utf-8"))
                if not 1 <= size <= 64:
                    raise bad_request("BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
                raise bad_request("BUTTON_URL_INVALID")
            out_row.append({k: v for k, v in button.items() if v is not None})
        clean.append(out_row)
    return clean


def check_rate(chat: Chat, per_second: float, count: int = 1) -> None:
    """Raise Telegram's 429 when ``chat`` got more than ``per_second`` messages in 1 s."""
    now = time.monotonic()
    while chat.sends and chat.sends[0] <= now - 1.0:
        chat.sends.popleft()
    allowed = max(1, math.floor(per_second))
    if chat.sends and len(chat.sends) + count > allowed:
        retry_after = max(1, math.ceil(chat.sends[0] + 1.0 - now))
        raise ApiError(
            429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
        )
    chat.sends.extend([now] * count)

"""Bot API request parameters as real clients send them, and Telegram-shaped errors.

Telegram accepts the same parameters in a query string, an ``application/json`` body, an
``application/x-www-form-urlencoded`` body or a ``multipart/form-data`` body. python-telegram-bot
sends url-encoded fields (multipart when files are attached) with every non-string value as a
JSON string; aiogram does the same through aiohttp's ``FormData``; hand-written clients send JSON.
``Params`` hides those differences behind typed getters.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy


class ApiError(Exception):
    """A Bot API error reply: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(what: str) -> ApiError:
    return ApiError(400, f"Bad Request: {what}")


@dataclass(frozen=True)
class Upload:
    """A file sent in a multipart body."""

    data: bytes
    file_name: str
    content_type: str


class Params:
    """The parameters of one Bot API call, whatever encoding the client used."""

    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload]) -> None:
        self._values = values
        self._uploads = uploads

    @classmethod
    async def from_request(cls, request: web.Request) -> Params:
        values: dict[str, Any] = dict(request.query)
        uploads: dict[str, Upload] = {}
        if request.method == "POST" and request.can_read_body:
            ctype = request.content_type
            if ctype == "application/json":
                try:
                    body = await request.json()
                except ValueError as exc:
                    raise bad_request("can't parse JSON request body") from exc
                if not isinstance(body, dict):
                    raise bad_request("JSON request body must be an object")
                values.update(body)
            elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
                form: MultiDictProxy[Any] = await request.post()
                for key, value in form.items():
                    if isinstance(value, web.FileField):
                        uploads[key] = Upload(
                            data=await asyncio.to_thread(value.file.read),
                            file_name=value.filename or key,
                            content_type=value.content_type or "application/octet-stream",
                        )
                    else:
                        values[key] = value
        return cls(values, uploads)

    def has(self, name: str) -> bool:
        return name in self._values or name in self._uploads

    def raw(self, name: str) -> Any:
        return self._values.get(name)

    def str_(self, name: str, default: str | None = None) -> str | None:
        value = self._values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def int_(self, name: str, default: int | None = None) -> int | None:
        value = self._values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise bad_request(f'field "{name}" must be of type Integer')
        try:
            return int(value)
        except (TypeError, ValueError) as exc:
            raise bad_request(f'field "{name}" must be of type Integer') from exc

    def float_(self, name: str, default: float | None = None) -> float | None:
        value = self._values.get(name)
        if value is None or value == "":
            return default
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise bad_request(f'field "{name}" must be of type Number') from exc

    def bool_(self, name: str, default: bool = False) -> bool:
        value = self._values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0", ""):
            return False
        raise bad_request(f'field "{name}" must be of type Boolean')

    def json_(self, name: str, what: str | None = None) -> Any:
        """A structured parameter: already parsed (JSON body) or a JSON string (form bodies)."""
        value = self._values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError as exc:
                raise bad_request(what or f"can't parse {name} JSON object") from exc
        return value

    def upload(self, name: str) -> Upload | None:
        return self._uploads.get(name)

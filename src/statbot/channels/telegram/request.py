"""PTB's HTTPX request object with the number of Bot API calls in flight bounded.

Measured under a burst (300 users at once, docs/PERFORMANCE.md "Burst"): with every
conversation sending at once, hundreds of requests were queued inside httpcore's connection
pool, which re-scans its connections (a ``select`` on each socket) every time a request starts
or ends. That bookkeeping took a third of the bot's CPU, grows with the number of open
connections, and a request left waiting for a connection over PTB's ``pool_timeout`` (1 s) even
failed as a network error and was retried after a back-off. Waiting on a semaphore instead is
cheap and has no timeout, and a few connections kept busy are enough: the Bot API allows
about 30 messages per second per bot, which 4 requests in flight sustain up to a ~130 ms
round trip.

File uploads bypass the bound: one can take a minute, and a few of them must not hold every
text reply back (they get connections of their own from the pool).
"""

from __future__ import annotations

import asyncio
from typing import Any

from telegram.request import HTTPXRequest, RequestData

SEND_CONCURRENCY = 4


class BoundedRequest(HTTPXRequest):  # type: ignore[misc]  # telegram is untyped for mypy
    """At most ``concurrency`` requests without files in httpx at once; the rest wait."""

    def __init__(self, *, concurrency: int = SEND_CONCURRENCY, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> tuple[int, bytes]:
        if request_data is not None and request_data.contains_files:
            return await self._send(url, method, request_data, *args, **kwargs)
        async with self._slots:
            return await self._send(url, method, request_data, *args, **kwargs)

    async def _send(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        result: tuple[int, bytes] = await super().do_request(*args, **kwargs)
        return result

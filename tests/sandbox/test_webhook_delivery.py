"""Webhook delivery as Telegram does it (issue 14): up to ``max_connections`` POSTs at once, one
update in flight per chat (a chat's updates arrive in ``update_id`` order while other chats
overtake a slow one), an update confirmed only by a 2xx, failures retried. Real HTTP both ways:
the sandbox POSTs to an aiohttp server that counts what is in flight."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from statbot.sandbox import RunningSandbox, run_sandbox
from statbot.sandbox.state import SandboxConfig

from .conftest import TOKEN


@dataclass
class Hook:
    """A webhook receiver: records each chat's texts in arrival order and the peak concurrency."""

    delay: float = 0.2
    fail: Callable[[int, str], bool] = lambda chat, text: False
    in_flight: int = 0
    peak: int = 0
    per_chat_in_flight: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    per_chat_peak: int = 0
    received: dict[int, list[str]] = field(default_factory=lambda: defaultdict(list))
    answered: list[str] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        update = await request.json()
        chat, text = update["message"]["chat"]["id"], update["message"]["text"]
        self.in_flight += 1
        self.per_chat_in_flight[chat] += 1
        self.peak = max(self.peak, self.in_flight)
        self.per_chat_peak = max(self.per_chat_peak, self.per_chat_in_flight[chat])
        try:
            self.attempts[text] += 1
            await asyncio.sleep(self.delay)
            if self.fail(chat, text):
                return web.Response(status=500)
            self.received[chat].append(text)
            self.answered.append(text)
            return web.Response(status=200)
        finally:
            self.in_flight -= 1
            self.per_chat_in_flight[chat] -= 1


async def serve(hook: Hook) -> web.AppRunner:
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    hook.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    return runner


@pytest.fixture
async def quick_sandbox() -> AsyncIterator[RunningSandbox]:
    async with run_sandbox(token=TOKEN, config=SandboxConfig(webhook_retry_seconds=0.1)) as sb:
        yield sb


async def set_webhook(sb: RunningSandbox, url: str, **params: Any) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{sb.api_url}/bot{TOKEN}/setWebhook", json={"url": url, **params}) as r,
    ):
        body: dict[str, Any] = await r.json()
    assert body["ok"], body
    return body


async def webhook_info(sb: RunningSandbox) -> dict[str, Any]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{sb.api_url}/bot{TOKEN}/getWebhookInfo") as r,
    ):
        body: dict[str, Any] = await r.json()
    return dict(body["result"])


async def users_writing(sb: RunningSandbox, users: int, messages: int) -> list[int]:
    """``users`` users, each sending ``messages`` numbered texts ``"<user>-<n>"``, interleaved."""
    ids = [await sb.client.add_user(f"user{u}") for u in range(users)]
    for n in range(messages):
        for u, user_id in enumerate(ids):
            await sb.client.send(f"{u}-{n}", user_id=user_id)
    return ids


async def until(check: Callable[[], bool], within: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_parallel_up_to_max_connections_one_per_chat(quick_sandbox: RunningSandbox) -> None:
    hook = Hook(delay=0.15)
    runner = await serve(hook)
    try:
        ids = await users_writing(quick_sandbox, users=8, messages=4)
        await set_webhook(quick_sandbox, hook.url, max_connections=5)
        await until(lambda: len(hook.answered) == 32)
        assert hook.peak == 5  # parallel, and never more than max_connections
        assert hook.per_chat_peak == 1  # one update of a chat in flight at a time
        for u, user_id in enumerate(ids):
            assert hook.received[user_id] == [f"{u}-{n}" for n in range(4)]
        assert (await webhook_info(quick_sandbox))["pending_update_count"] == 0
    finally:
        await runner.cleanup()


async def test_a_failing_chat_is_retried_in_order_while_others_overtake(
    quick_sandbox: RunningSandbox,
) -> None:
    failures = {"0-1": 3}  # user 0's second message is answered 500 three times

    def fail(chat: int, text: str) -> bool:
        if failures.get(text, 0) > 0:
            failures[text] -= 1
            return True
        return False

    hook = Hook(delay=0.02, fail=fail)
    runner = await serve(hook)
    try:
        ids = await users_writing(quick_sandbox, users=3, messages=3)
        await set_webhook(quick_sandbox, hook.url, max_connections=10)
        await until(lambda: len(hook.answered) == 9)
        assert hook.attempts["0-1"] == 4  # retried until a 2xx
        assert all(n == 1 for text, n in hook.attempts.items() if text != "0-1")
        for u, user_id in enumerate(ids):
            assert hook.received[user_id] == [f"{u}-{n}" for n in range(3)]
        # The other chats did not wait for user 0's retries: they finished first.
        assert hook.answered[-2:] == ["0-1", "0-2"]
        info = await webhook_info(quick_sandbox)
        assert info["pending_update_count"] == 0
        assert "500" in info["last_error_message"]
    finally:
        await runner.cleanup()


async def test_unconfirmed_update_stays_queued(quick_sandbox: RunningSandbox) -> None:
    hook = Hook(delay=0.01, fail=lambda chat, text: True)
    runner = await serve(hook)
    try:
        await users_writing(quick_sandbox, users=2, messages=2)
        await set_webhook(quick_sandbox, hook.url)
        await until(lambda: sum(hook.attempts.values()) >= 6)
        assert set(hook.attempts) == {"0-0", "1-0"}  # never past a chat's unconfirmed first
        assert (await webhook_info(quick_sandbox))["pending_update_count"] == 4
    finally:
        await runner.cleanup()

"""The HAProxy config of tests/support/loadbalancer.py does what the replica tests rely on: round
robin; a backend whose /livez stops answering leaves the rotation within ~1-2 s; a POST that
meets a refused connection or a connection closed without an answer is re-sent to another
backend. Backends are small aiohttp servers in this process (real HTTP through real haproxy)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tests.ops.procs import free_port
from tests.support.loadbalancer import Backend, LoadBalancer, load_balancer, require_haproxy


@dataclass
class FakeReplica:
    name: str
    webhook_port: int = field(default_factory=free_port)
    health_port: int = field(default_factory=free_port)
    hits: int = 0
    hang_up: bool = False  # close the connection without an answer
    runners: dict[str, web.AppRunner] = field(default_factory=dict)

    async def _hook(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        if self.hang_up:
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        self.hits += 1
        return web.Response(text=self.name)

    async def _live(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    async def serve(self, what: str) -> None:
        app = web.Application()
        if what == "hook":
            app.router.add_post("/telegram", self._hook)
        else:
            app.router.add_get("/livez", self._live)
        runner = web.AppRunner(app)
        await runner.setup()
        port = self.webhook_port if what == "hook" else self.health_port
        await web.TCPSite(runner, "127.0.0.1", port).start()
        self.runners[what] = runner

    async def close(self, what: str) -> None:
        runner = self.runners.pop(what, None)
        if runner is not None:
            await runner.cleanup()

    @property
    def backend(self) -> Backend:
        return Backend(self.name, self.webhook_port, self.health_port)


@pytest.fixture
async def two(tmp_path: Path) -> AsyncIterator[tuple[LoadBalancer, FakeReplica, FakeReplica]]:
    require_haproxy()
    a, b = FakeReplica("a"), FakeReplica("b")
    for replica in (a, b):
        await replica.serve("hook")
        await replica.serve("live")
    with load_balancer(tmp_path, [a.backend, b.backend]) as balancer:
        await asyncio.sleep(0.6)  # the first checks pass
        yield balancer, a, b
    for replica in (a, b):
        await replica.close("hook")
        await replica.close("live")


async def post_many(balancer: LoadBalancer, count: int) -> list[str]:
    async with aiohttp.ClientSession() as http:
        answers = []
        for n in range(count):
            async with http.post(balancer.url + "/telegram", json={"update_id": n}) as response:
                assert response.status == 200, await response.text()
                answers.append(await response.text())
        return answers


async def test_round_robin(two: tuple[LoadBalancer, FakeReplica, FakeReplica]) -> None:
    balancer, _, _ = two
    answers = await post_many(balancer, 10)
    assert answers.count("a") == answers.count("b") == 5


async def test_a_refused_post_is_sent_to_the_other(
    two: tuple[LoadBalancer, FakeReplica, FakeReplica],
) -> None:
    balancer, a, _ = two
    await a.close("hook")  # its health still answers: haproxy still routes to it
    assert await post_many(balancer, 10) == ["b"] * 10


async def test_a_hang_up_is_sent_to_the_other(
    two: tuple[LoadBalancer, FakeReplica, FakeReplica],
) -> None:
    balancer, a, _ = two
    a.hang_up = True
    assert await post_many(balancer, 10) == ["b"] * 10


async def test_a_dead_health_port_leaves_rotation_quickly(
    two: tuple[LoadBalancer, FakeReplica, FakeReplica],
) -> None:
    balancer, a, _ = two
    await a.close("live")
    await asyncio.sleep(1.5)
    a.hits = 0
    assert await post_many(balancer, 10) == ["b"] * 10
    assert a.hits == 0  # not even tried: out of rotation, not merely retried
    await a.serve("live")
    await asyncio.sleep(1.0)
    assert "a" in await post_many(balancer, 10)  # back in rotation

"""Health server on 127.0.0.1:STATBOT_HEALTH_PORT.

- ``/livez``: the process and its event loop are alive. Never checks dependencies (a down Redis
  must not get the bot restarted in a loop by its supervisor).
- ``/readyz``: every registered check passes; else 503 naming the failing check(s).
- ``/metrics``: Prometheus text exposition.
- ``/status``: JSON with pid, version, mode, uptime_seconds, sessions, jobs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from statbot import __version__
from statbot.ops.metrics import Metrics

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[tuple[bool, str]]]
StatusSource = Callable[[], Awaitable[dict[str, Any]]]
CHECK_TIMEOUT_S = 3.0


class HealthServer:
    def __init__(
        self,
        metrics: Metrics,
        *,
        mode: str,
        host: str = "127.0.0.1",
        port: int = 9876,
        status_source: StatusSource | None = None,
        before_scrape: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.metrics = metrics
        self.mode = mode
        self.host = host
        self.port = port
        self._checks: dict[str, Check] = {}
        self._status_source = status_source
        self._before_scrape = before_scrape
        self._started = time.monotonic()
        self._runner: web.AppRunner | None = None

    def add_check(self, name: str, check: Check) -> None:
        self._checks[name] = check

    @property
    def bound_port(self) -> int:
        if self._runner is None:
            return self.port
        for site in self._runner.sites:
            server = getattr(site, "_server", None)
            if server is not None and server.sockets:
                return int(server.sockets[0].getsockname()[1])
        return self.port

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/livez", self._livez)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/status", self._status)
        return app

    async def start(self) -> None:
        if self._runner is not None:
            return
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.host, self.port).start()
        self._runner = runner
        log.info("health server on http://%s:%d", self.host, self.bound_port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _livez(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def run_checks(self) -> dict[str, tuple[bool, str]]:
        async def one(check: Check) -> tuple[bool, str]:
            try:
                return await asyncio.wait_for(check(), CHECK_TIMEOUT_S)
            except TimeoutError:
                return False, f"timed out after {CHECK_TIMEOUT_S:g} s"
            except Exception as exc:  # a failing check is a result, not a crash
                return False, f"{type(exc).__name__}: {exc}"

        names = list(self._checks)
        results = await asyncio.gather(*(one(self._checks[n]) for n in names))
        return dict(zip(names, results, strict=True))

    async def _readyz(self, _: web.Request) -> web.Response:
        results = await self.run_checks()
        failing = [name for name, (ok, _) in results.items() if not ok]
        body = {
            "status": "ready" if not failing else "not ready",
            "failing": failing,
            "checks": {n: {"ok": ok, "detail": d} for n, (ok, d) in results.items()},
        }
        return web.json_response(body, status=200 if not failing else 503)

    async def _metrics(self, _: web.Request) -> web.Response:
        if self._before_scrape is not None:
            try:
                await self._before_scrape()
            except Exception:
                log.exception("refreshing gauges before a scrape failed")
        return web.Response(
            body=self.metrics.render(),
            headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"},
        )

    async def _status(self, _: web.Request) -> web.Response:
        extra: dict[str, Any] = {}
        if self._status_source is not None:
            try:
                extra = await self._status_source()
            except Exception as exc:
                log.exception("status source failed")
                extra = {"error": f"{type(exc).__name__}: {exc}"}
        body = {
            "pid": os.getpid(),
            "version": __version__,
            "mode": self.mode,
            "uptime_seconds": round(time.monotonic() - self._started, 3),
            "sessions": extra.get("sessions", {}),
            "jobs": extra.get("jobs", {}),
        }
        return web.json_response(body)

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from statbot.ops.health import HealthServer
from statbot.ops.metrics import Metrics


@pytest.fixture
async def server() -> AsyncIterator[HealthServer]:
    metrics = Metrics()

    async def status() -> dict[str, object]:
        return {"sessions": {"active": 2}, "jobs": {"running": 1}}

    srv = HealthServer(metrics, mode="polling", port=0, status_source=status)
    await srv.start()
    try:
        yield srv
    finally:
        await srv.stop()


async def _get(srv: HealthServer, path: str) -> tuple[int, str, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{srv.bound_port}{path}") as resp,
    ):
        return resp.status, resp.headers.get("Content-Type", ""), await resp.text()


async def test_livez_and_status(server: HealthServer) -> None:
    status, _, body = await _get(server, "/livez")
    assert status == 200 and "alive" in body
    status, _, body = await _get(server, "/status")
    assert status == 200
    import json

    data = json.loads(body)
    assert data["mode"] == "polling" and data["sessions"] == {"active": 2}
    assert data["jobs"] == {"running": 1} and data["pid"] > 0 and data["uptime_seconds"] >= 0


async def test_readyz_names_the_failing_check(server: HealthServer) -> None:
    async def ok() -> tuple[bool, str]:
        return True, "fine"

    async def broken() -> tuple[bool, str]:
        raise ConnectionError("redis down")

    server.add_check("store", ok)
    status, _, _ = await _get(server, "/readyz")
    assert status == 200
    server.add_check("telegram", broken)
    status, _, body = await _get(server, "/readyz")
    assert status == 503
    assert '"failing": ["telegram"]' in body and "redis down" in body


async def test_metrics_exposition_is_valid(server: HealthServer, tmp_path: Path) -> None:
    server.metrics.updates_received.inc(3)
    server.metrics.api_errors.labels(code="429").inc()
    server.metrics.handling_seconds.observe(0.02)
    status, ctype, body = await _get(server, "/metrics")
    assert status == 200 and ctype.startswith("text/plain")
    assert "statbot_updates_received_total 3.0" in body
    assert 'statbot_api_errors_total{code="429"} 1.0' in body
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool missing: scripts/install-test-system.sh installs Debian's prometheus")
    result = await asyncio.to_thread(
        subprocess.run,
        [promtool, "check", "metrics"],
        input=body,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

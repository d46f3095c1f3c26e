"""A real redis-server on 127.0.0.1 for the store tests (not fakeredis), one per test session.

CI installs it with scripts/install-test-system.sh (Debian package ``redis-server``); when it is
missing the Redis tests fail with that instruction instead of being skipped.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.ports import free_port as _free_port
from tests.support.redis_server import answers_ping


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail(
            "redis-server is not installed; the Redis store tests need a real server. "
            "Install it with `bash scripts/install-test-system.sh` (Debian package redis-server).",
            pytrace=False,
        )
    workdir: Path = tmp_path_factory.mktemp("redis")
    port = _free_port()
    command = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "",
               "--appendonly", "no", "--dir", str(workdir), "--daemonize", "no"]  # fmt: skip
    log = (workdir / "redis.log").open("wb")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while not answers_ping(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                output = (workdir / "redis.log").read_text(errors="replace")
                pytest.fail(f"redis-server did not start on port {port}:\n{output}", pytrace=False)
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()

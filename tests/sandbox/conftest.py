"""Fixtures: a sandbox on a free loopback port for each test, and small image bytes."""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from statbot.sandbox import RunningSandbox, run_sandbox

TOKEN = "123456:SANDBOX"


def png_bytes(width: int = 4, height: int = 3) -> bytes:
    """A valid RGB PNG of the given size (no image library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\x20\x80\xe0" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


@pytest.fixture
async def sandbox() -> AsyncIterator[RunningSandbox]:
    async with run_sandbox(token=[TOKEN, "654321:OTHER"]) as running:
        yield running


@pytest.fixture
async def alice(sandbox: RunningSandbox) -> int:
    """Alice's chat id, after she has started the bot (bots cannot write first)."""
    users = await sandbox.client.users()
    await sandbox.client.send("/start")
    return int(users[0]["id"])


@pytest.fixture
def chromium() -> Path:
    """Debian's chromium; missing is a failure with instructions, never a skip."""
    from tests.sandbox.test_page import CHROMIUM

    if not CHROMIUM.exists():
        pytest.fail(
            "the browser test needs Debian's chromium at /usr/bin/chromium: "
            "run `bash scripts/install-test-system.sh` (or `apt-get install -y chromium`)"
        )
    return CHROMIUM

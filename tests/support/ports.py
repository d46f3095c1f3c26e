"""Free loopback ports for servers a test starts in another process.

A port the kernel hands out for ``bind(("127.0.0.1", 0))`` lies in its ephemeral range
(``/proc/sys/net/ipv4/ip_local_port_range``), the same range it draws from for every outgoing
connection. Between the moment a test picks such a port and the moment its child process binds it,
any client connection on the machine (a Temporal worker's gRPC, a Redis pool, PostgreSQL) may take
it as its local port, and the child fails with "address already in use" (CI saw it with three
replicas, workers and a Temporal dev server starting at once). Ports here come from below the
ephemeral range, where the kernel never puts a client's end, and a port is handed out at most once
per test run, so two servers of one run never race for the same number either.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST = 10_000
_handed_out: set[int] = set()


def _ephemeral_low() -> int:
    try:
        low = int(_RANGE_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768  # Linux's default
    return low


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A loopback TCP port nobody listens on, outside the ephemeral range, not given before."""
    high = _ephemeral_low() - 1
    if high - _LOWEST < 1_000:  # an odd range setting: fall back to the kernel's choice
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randint(_LOWEST, high)
        if port not in _handed_out and _bindable(port):
            _handed_out.add(port)
            return port
    raise RuntimeError(f"no free loopback port in {_LOWEST}..{high}")

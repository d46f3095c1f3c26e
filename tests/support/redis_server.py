"""Telling that a redis-server answers on 127.0.0.1 (the store tests' server, the replicas')."""

from __future__ import annotations

import socket


def answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False

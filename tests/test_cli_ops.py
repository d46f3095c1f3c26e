"""`statbot doctor`: its exit code reflects every failed check, and it never prints the token."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from statbot.cli import app

TOKEN = "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"


class _Unauthorized(BaseHTTPRequestHandler):
    """Answers every Bot API call like Telegram answers a revoked token."""

    def do_POST(self) -> None:
        body = json.dumps({"ok": False, "error_code": 401, "description": "Unauthorized"})
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    do_GET = do_POST

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def rejecting_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Unauthorized)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _doctor(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> tuple[int, str]:
    monkeypatch.chdir(tmp_path)  # no stray .env / statbot.toml
    monkeypatch.setenv("STATBOT_DATA_DIR", str(tmp_path / "data"))
    for name, value in env.items():
        monkeypatch.setenv(f"STATBOT_{name.upper()}", value)
    result = CliRunner().invoke(app, ["doctor"])
    return result.exit_code, result.output


def test_doctor_passes_on_a_fresh_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    code, output = _doctor(monkeypatch, tmp_path, session_store="sqlite")
    assert code == 0, output
    assert "[FAIL]" not in output


def test_doctor_fails_when_the_session_store_is_unreachable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, output = _doctor(monkeypatch, tmp_path, session_store="redis://127.0.0.1:1/0")
    assert "[FAIL] session store" in output
    assert code == 1, output


def test_doctor_fails_when_temporal_does_not_answer(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tests.support.temporal import free_port

    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    code, output = _doctor(monkeypatch, tmp_path, jobs="temporal", temporal_address=address)
    assert f"[FAIL] temporal at {address}" in output
    assert code == 1, output


def test_doctor_fails_on_a_rejected_token_without_printing_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, rejecting_api: str
) -> None:
    code, output = _doctor(
        monkeypatch,
        tmp_path,
        session_store="memory",
        telegram_token=TOKEN,
        telegram_api_url=rejecting_api,
    )
    assert "[FAIL] telegram" in output
    assert TOKEN not in output
    assert TOKEN.split(":")[1] not in output
    assert code == 1, output

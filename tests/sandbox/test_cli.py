"""`statbot sandbox` serves the emulator, prints the page and API URLs, stops on Ctrl-C."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

STATBOT = Path(sys.executable).parent / "statbot"


def test_statbot_sandbox_serves_page_and_api() -> None:
    proc = subprocess.Popen(
        [str(STATBOT), "sandbox", "--port", "0", "--token", "777:CLI"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        match = re.fullmatch(r"open (http://127\.0\.0\.1:\d+)/\n", first)
        assert match, first
        base = match.group(1)
        assert proc.stdout.readline() == f"STATBOT_TELEGRAM_API_URL={base}\n"
        with urllib.request.urlopen(base + "/", timeout=5) as page:
            assert b"statbot sandbox" in page.read()
        with urllib.request.urlopen(base + "/bot777:CLI/getMe", timeout=5) as response:
            assert json.load(response)["result"]["id"] == 777
    finally:
        proc.send_signal(signal.SIGINT)
        out, _err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "sandbox stopped" in out


def test_bad_token_is_refused() -> None:
    result = subprocess.run(
        [str(STATBOT), "sandbox", "--port", "0", "--token", "not-a-token"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "123456:SECRET" in result.stderr

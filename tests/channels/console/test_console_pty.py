"""`statbot chat` in a pseudo-terminal: a person's whole /describe conversation, end to end.

The real CLI, engine, SQLite store and workflow run in a child process; the test types as a
person would and reads what the terminal shows.
"""

from __future__ import annotations

import csv
import os
import statistics
from pathlib import Path

import pexpect
import pytest
from tests.support.terminal import PROMPT, STATBOT, say, spawn

PRICES = [4.5, 7.25, 3.0, 10.0, 5.5, 8.75]
WEIGHTS = [120, 80, 95, 150, 110, 60]


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "fruit.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "price", "weight"])
        for i, (p, w) in enumerate(zip(PRICES, WEIGHTS, strict=True)):
            writer.writerow([f"fruit{i}", p, w])
    return path


def test_describe_conversation_in_a_terminal(tmp_path: Path, csv_file: Path) -> None:
    child = spawn(tmp_path)
    try:
        say(child, "/help", "/describe — Summary statistics")
        say(child, "/describe", "Send me a CSV file")
        say(
            child,
            str(csv_file),
            "fruit.csv: 6 rows × 3 columns.",
            "Columns: name (other), price (numeric), weight (numeric)",
            "1. [ ] price",
            "2. [ ] weight",
            "3. Done (0 selected)",
        )
        say(child, "1", "1. [x] price", "2. [ ] weight", "3. Done (1 selected)")
        say(child, "weight", "1. [x] price", "2. [x] weight", "3. Done (2 selected)")
        child.sendline("3")
        child.expect_exact("fruit.csv — 2 column(s):")
        child.expect(r"price: count 6, mean ([0-9.]+), std ([0-9.]+), min 3, max 10")
        mean, std = (float(g) for g in child.match.groups())
        assert mean == pytest.approx(statistics.mean(PRICES), rel=1e-5)
        assert std == pytest.approx(statistics.stdev(PRICES), rel=1e-5)
        child.expect(r"weight: count 6, mean ([0-9.]+), std ([0-9.]+), min 60, max 150")
        assert float(child.match.group(1)) == pytest.approx(statistics.mean(WEIGHTS), rel=1e-5)
        child.expect(r"\[document saved to (\S+)\]")
        saved = Path(child.match.group(1))
        child.expect_exact(PROMPT)
        # The conversation is over: a number is now plain text again.
        say(child, "1", "/describe")
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    assert saved.parent == tmp_path / "out"
    with saved.open(newline="") as handle:
        rows = {row["column"]: row for row in csv.DictReader(handle)}
    assert float(rows["price"]["mean"]) == pytest.approx(statistics.mean(PRICES), rel=1e-12)
    assert float(rows["weight"]["std"]) == pytest.approx(statistics.stdev(WEIGHTS), rel=1e-12)
    assert rows["price"]["count"] == "6"


def test_a_restarted_chat_continues_the_conversation(tmp_path: Path, csv_file: Path) -> None:
    child = spawn(tmp_path)
    try:
        say(child, "/describe", "Send me a CSV file")
        say(child, f"upload {csv_file}", "1. [ ] price")
        child.sendeof()  # Ctrl-D
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0

    child = spawn(tmp_path)  # spawn() already read the greeting up to the first prompt
    try:
        assert "Continuing your describe conversation" in (child.before or "")
        assert "1. [ ] price" in (child.before or "")  # the open menu is shown again
        say(child, "2", "2. [x] weight")
        say(child, "done", "weight: count 6", "[document saved to")
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_a_second_chat_of_the_same_user_is_refused(tmp_path: Path) -> None:
    import subprocess

    child = spawn(tmp_path)
    try:
        second = subprocess.run(
            [str(STATBOT), "chat"],
            input="/quit\n",
            capture_output=True,
            text=True,
            env=dict(os.environ, STATBOT_DATA_DIR=str(tmp_path / "var")),
            timeout=60,
            check=False,
        )
        assert second.returncode == 1, second.stderr
        assert "another chat" in second.stderr and "already open" in second.stderr
        say(child, "/help", "/describe")  # the first one is unaffected
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_forget_deletes_the_users_files(tmp_path: Path, csv_file: Path) -> None:
    child = spawn(tmp_path)
    staging = tmp_path / "var" / "staging"
    try:
        say(child, "/describe", "Send me a CSV file")
        say(child, str(csv_file), "1. [ ] price")
        assert any(staging.rglob("fruit.csv"))  # the staged upload
        say(child, "/forget", "Delete everything?", "1. Yes, delete everything")
        say(child, "1", "I deleted everything I kept about you.")
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    assert not any(staging.rglob("fruit.csv"))
    assert not any((tmp_path / "var" / "console").glob("menu-*.json"))

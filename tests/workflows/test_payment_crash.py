"""The payment drill (issue 12): SIGKILL between journaling a successful_payment and the
ledger's commit — just before it, or after it and before the session commit — then restart:
the inbox replays the payment and the user is credited exactly once."""

from __future__ import annotations

import contextlib
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from statbot.access.catalog import Catalog
from statbot.access.ledger import Ledger
from statbot.engine.events import ConversationKey, Event, EventKind, Payment

WORKER = Path(__file__).with_name("payment_worker.py")
KEY = ConversationKey("telegram", 7, 7)
PAYMENT = Payment("XTR", 50, "pack:10:50:7", charge_id="stx-drill")


class Worker:
    def __init__(self, data: Path, delivered: Path, mode: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER), str(data), str(delivered), mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.expect("ready")

    def expect(self, wanted: str) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.strip() == wanted:
                return
        raise AssertionError(f"the worker ended (rc {self.proc.wait(10)}) before {wanted!r}")

    def send(self, event: Event) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(event.to_dict()) + "\n")
        self.proc.stdin.flush()

    def finish(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.expect("bye")
        assert self.proc.wait(20) == 0
        self.close()

    def close(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


@pytest.mark.parametrize("mode", ["kill-before-ledger", "kill-after-ledger"])
def test_a_payment_replayed_after_sigkill_is_credited_once(tmp_path: Path, mode: str) -> None:
    data, delivered = tmp_path / "var", tmp_path / "delivered.jsonl"
    first = Worker(data, delivered, mode)
    first.send(Event.from_update(KEY, 42, EventKind.PAYMENT, payment=PAYMENT))
    first.expect("ack u42")  # journaled: Telegram would not deliver it again
    assert first.proc.wait(20) == -signal.SIGKILL  # died in the handler, before the commit
    first.close()
    assert not delivered.exists() or "added" not in delivered.read_text()

    second = Worker(data, delivered, "run")  # replays the journaled payment
    second.send(Event.from_update(KEY, 43, EventKind.PAYMENT, payment=PAYMENT))  # a duplicate
    second.expect("ack u43")
    second.finish()

    catalog = Catalog(f"sqlite:///{data / 'catalog.sqlite'}")
    try:
        ledger = Ledger(catalog)
        assert ledger.balance(7) == 10
        assert [(m.kind, m.charge_id) for m in ledger.recent(7)] == [("purchase", "stx-drill")]
    finally:
        catalog.close()
    said = [json.loads(line) for line in delivered.read_text().splitlines()]
    by_event = {event_id: text for event_id, _kind, text in said}
    assert set(by_event) == {"u42", "u43"}
    assert "credited already" in by_event["u43"]
    if mode == "kill-before-ledger":
        assert "10 credits* added" in by_event["u42"]  # credited on the replay
    else:
        assert "credited already" in by_event["u42"]  # credited before the kill

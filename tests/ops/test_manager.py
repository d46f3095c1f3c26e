"""`statbot start` rotates its log at every start (issue 15); the real-process tests of
start/stop/restart/status live in test_process.py (the process tier)."""

from __future__ import annotations

from pathlib import Path

from statbot.ops.process import rotate_logs


def test_rotate_logs_keeps_the_three_previous(tmp_path: Path) -> None:
    log = tmp_path / "statbot.log"
    for run in range(1, 6):
        rotate_logs(log)
        log.write_text(f"run {run}\n")
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["statbot.log", "statbot.log.1", "statbot.log.2", "statbot.log.3"]
    assert [log.with_name(n).read_text() for n in names] == [
        "run 5\n",
        "run 4\n",
        "run 3\n",
        "run 2\n",
    ]
    log.write_text("")
    rotate_logs(log)  # an empty log is not worth a slot
    assert log.with_name("statbot.log.1").read_text() == "run 4\n"

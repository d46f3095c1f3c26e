"""docs/USER_GUIDE.md is produced by scripts/user_guide.py from real conversations: the script
runs, every workflow's transcript is there, and the committed guide matches a fresh run (dates,
times and library versions aside)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "USER_GUIDE.md"
SCRIPT = ROOT / "scripts" / "user_guide.py"
BLOCK = re.compile(r"<!-- transcript:(\w+) -->\n(.*?)<!-- /transcript:\1 -->", re.S)


def blocks(text: str) -> dict[str, str]:
    return {name: body for name, body in BLOCK.findall(text)}


def stable(text: str) -> str:
    """What may differ between runs: dates and the library versions on a model's card."""
    text = re.sub(r"\d{4}-\d\d-\d\d(T\d\d:\d\d:\d\d[+\-Z0-9:]*)?", "<date>", text)
    return re.sub(r"Versions: [^\n]*", "Versions: <versions>", text)


def test_the_guide_is_generated_from_real_conversations(tmp_path: Path) -> None:
    output = tmp_path / "USER_GUIDE.md"
    shutil.copyfile(GUIDE, output)
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--output", str(output)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    fresh = blocks(output.read_text(encoding="utf-8"))
    expected = ["start", "train", "predict", "stats", "explore", "models", "kb", "buy", "back"]
    expected += ["cancel", "quota"]
    assert list(fresh) == [*expected[:5], "import", *expected[5:], "forget"]
    for name in expected:
        assert f"> /{name}" in fresh[name], name
    assert "*Model trained*: random forest predicting *species*" in fresh["train"]
    assert "[document: predictions_new_flowers.csv" in fresh["predict"]
    assert "[image: Correlation heatmap]" in fresh["stats"]
    assert "You have no models yet" in fresh["forget"]
    assert "Which row holds the column names?" in fresh["import"]
    assert "--header-row 3 --type store=category --json" in fresh["import"]
    assert "*10 credits* added. Your balance: *10* credits." in fresh["buy"]
    assert "• Trainings today: 1 of 20 free" in fresh["quota"]
    assert "The best match:\n*p-value*" in fresh["kb"] and "Most read:" in fresh["kb"]
    # the line names the file the user sent, not the stored copy; no machine path leaks
    assert "`statbot analyze train iris.csv --target species" in fresh["train"]
    assert str(tmp_path) not in output.read_text()
    committed = blocks(GUIDE.read_text(encoding="utf-8"))
    for name, body in fresh.items():
        assert stable(committed[name]) == stable(body), (
            f"docs/USER_GUIDE.md section {name!r} is out of date: "
            "run .venv/bin/python scripts/user_guide.py"
        )

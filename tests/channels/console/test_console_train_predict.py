"""`statbot chat` in a pseudo-terminal: one whole /train and /predict, as a newcomer would type it.

The real CLI, engine, SQLite store, workflows and the local job runner (training in its own
subprocess) run in a child process; the test types numbers for choices and file paths for
uploads, and reads the report, then the path of the predictions CSV the bot wrote.
"""

from __future__ import annotations

import csv
import random
import re
from pathlib import Path

import pexpect
from tests.support.terminal import PROMPT, say, spawn

HIGH = [(9.5, 9.0, "red"), (8.8, 9.7, "blue"), (9.9, 8.6, "green"), (9.1, 9.4, "red")]
LOW = [(0.4, 0.9, "blue"), (1.1, 0.2, "green"), (0.3, 0.5, "red"), (0.8, 1.2, "blue")]


def write_training_csv(path: Path) -> None:
    """A label that is plainly "high" when x + y is large: any sensible model learns it."""
    rng = random.Random(7)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["x", "y", "colour", "label"])
        for _ in range(80):
            x, y = round(rng.uniform(0, 10), 2), round(rng.uniform(0, 10), 2)
            if abs(x + y - 10) < 1.5:
                continue  # keep a clear margin between the classes
            colour = rng.choice(["red", "green", "blue"])
            writer.writerow([x, y, colour, "high" if x + y > 10 else "low"])


def write_new_csv(path: Path) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["x", "y", "colour"])
        writer.writerows(HIGH + LOW)


def test_train_then_predict_in_a_terminal(tmp_path: Path) -> None:
    train, new = tmp_path / "houses.csv", tmp_path / "new.csv"
    write_training_csv(train)
    write_new_csv(new)
    child = spawn(tmp_path, STATBOT_JOB_CONCURRENCY="1")
    try:
        say(child, "/train", "Let's train a model.")
        say(child, str(train), "houses.csv:", "Column types as I read them", "1. Looks right")
        say(child, "1", "Which column should the model predict", "4. label")
        say(child, "4", "Which columns should it learn from?", "3. [x] colour", "4. Done")
        say(child, "4", "Which model?", "2. logistic regression")
        say(child, "2", "Ready to train logistic regression to predict label", "1. Train")
        child.sendline("1")  # training runs as a job; the bar is redrawn in place meanwhile
        child.expect_exact("Model trained: logistic regression predicting label", timeout=120)
        child.expect(r'Model id ([0-9a-f]+), name "([^"]+)"')
        model_id = child.match.group(1)
        child.expect_exact("Cross-validation (5-fold)")
        child.expect(r"accuracy: ([0-9.]+)")
        assert float(child.match.group(1)) >= 0.8
        child.expect_exact("statbot analyze train ")
        child.expect(r"\[image saved to (\S+)\]")
        chart = Path(child.match.group(1))
        child.expect_exact("Use /predict")
        child.expect_exact(PROMPT)

        say(child, "/predict", "Which model should predict?", "1. latest:")
        say(child, "1", "predicts label from", "Send the new data")
        child.sendline(str(new))
        child.expect_exact("8 predictions of label", timeout=60)
        child.expect(r"\[document saved to (\S+)\]")
        saved = Path(child.match.group(1))
        child.expect_exact(PROMPT)
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0
    assert re.fullmatch(r"[0-9a-f]{8,}", model_id)
    assert chart.parent == tmp_path / "out" and chart.stat().st_size > 0
    assert saved.parent == tmp_path / "out" and saved.suffix == ".csv"
    with saved.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(HIGH) + len(LOW)
    assert [r["prediction"] for r in rows] == ["high"] * len(HIGH) + ["low"] * len(LOW)
    assert [r["x"] for r in rows[:2]] == ["9.5", "8.8"]  # the user's rows, with the column added
    assert any(k.startswith("proba_") for k in rows[0])


def test_control_characters_from_a_file_never_reach_the_terminal(tmp_path: Path) -> None:
    """Column names are the file author's: an escape sequence in one (set the window title,
    clear the screen) is shown harmlessly, not executed by the user's terminal."""
    hostile = tmp_path / "hostile.csv"
    header = "name\x1b]0;pwned\x07,\x1b[2Jscore,\x9b31mlabel"
    rows = "".join(f"item{i},{i % 7},{'ab'[i % 2]}\n" for i in range(30))
    hostile.write_text(header + "\n" + rows, encoding="utf-8")
    child = spawn(tmp_path, STATBOT_JOB_CONCURRENCY="1")
    seen: list[str] = []
    try:
        say(child, "/train", "Let's train a model.")
        seen.append(child.before or "")
        say(child, str(hostile), "Column types as I read them", "1. Looks right")
        seen.append(child.before or "")
        say(child, "1", "Which column should the model predict")
        seen.append(child.before or "")
        child.sendline("/quit")
        child.expect(pexpect.EOF)
        seen.append(child.before or "")
    finally:
        child.close()
    shown = "".join(seen)
    assert "pwned" in shown and "score" in shown, shown  # the names are shown…
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown  # …defused

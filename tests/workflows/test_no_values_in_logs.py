"""No data value reaches a log (issue 15): a file whose column names, cell values and file name
are unique marker strings goes through every workflow, the user types marker text as answers,
and not one marker shows up in any log record at DEBUG (message, arguments, exception text), nor
in the job workers' log files. The transition lines are there, so the logs were not just empty.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

import pandas as pd
import pytest

from statbot.engine.replies import Reply
from statbot.testing import ChatDriver

RUN = secrets.token_hex(3)  # fresh per run: a marker cannot be a constant some code logs


def marker(name: str) -> str:
    return f"mk{RUN}{name}"


# Column names, category values, the file names and the text typed as answers.
X, Y, Z, CLS, GRP = (marker(n) for n in ("xcol", "ycol", "zcol", "clscol", "grpcol"))
CLS_A, CLS_B = marker("clsa"), marker("clsb")
GRP_VALUES = [marker(f"grp{i}") for i in range(3)]
FILE, NEW_FILE = marker("file"), marker("newfile")
TYPED = marker("typed")  # free text the bot does not expect
TYPO = marker("xcl")  # a misspelt column name (the bot suggests the right one)
MODEL_NAME = marker("modelname")
MARKERS = (X, Y, Z, CLS, GRP, CLS_A, CLS_B, *GRP_VALUES, FILE, NEW_FILE, TYPED, TYPO, MODEL_NAME)


def marked_frame(rows: int = 60) -> pd.DataFrame:
    return pd.DataFrame(
        {
            X: [round(1.5 + (i % 11) * 0.75, 2) for i in range(rows)],
            Y: [round(2.0 + (i % 7) * 1.3 + (i % 3) * 0.2, 2) for i in range(rows)],
            Z: [round(10.0 + (i % 5) * 2.1 - (i % 4), 2) for i in range(rows)],
            GRP: [GRP_VALUES[i % 3] for i in range(rows)],
            CLS: [CLS_A if (i % 11) < 5 else CLS_B for i in range(rows)],
        }
    )


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def trained(replies: list[Reply]) -> bool:
    return any("Model trained" in r.text or "training failed" in r.text for r in replies)


def record_texts(record: logging.LogRecord) -> list[str]:
    """Everything of a record a handler could write."""
    texts = [str(record.msg), record.getMessage(), repr(record.args)]
    if record.exc_info:
        texts.append(logging.Formatter().formatException(record.exc_info))
    texts.extend(t for t in (record.exc_text, record.stack_info) if t)
    return texts


def read_logs(folder: Path) -> list[tuple[str, str]]:
    """The job workers' log files (``worker.log`` in each job folder) under ``folder``."""
    return [(str(p), p.read_text(errors="replace")) for p in folder.rglob("*.log") if p.is_file()]


def leaks(texts: list[tuple[str, str]]) -> list[str]:
    return [f"{where}: {text[:300]}" for where, text in texts for m in MARKERS if m in text]


async def test_no_marker_reaches_any_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="statbot")
    data = tmp_path / f"{FILE}.csv"
    marked_frame().to_csv(data, index=False)
    new_rows = tmp_path / f"{NEW_FILE}.csv"
    marked_frame(12).drop(columns=[CLS]).to_csv(new_rows, index=False)

    async with ChatDriver(tmp_path / "var", jobs=True) as chat:
        await chat.send(TYPED)  # idle free text
        # /train, with a real job
        await chat.send("/train")
        assert "I need a data file" in said(await chat.send(TYPED))
        assert "60 rows × 5 columns" in said(await chat.upload(data))
        await chat.press("Looks right")
        assert "Did you mean" in said(await chat.send(TYPO))
        await chat.send(CLS)
        await chat.press("Done")
        assert "Ready to train" in said(await chat.send("logistic"))
        await chat.press("Train")
        report = said(await chat.wait_for(trained, seconds=120))
        assert "Model trained" in report, report
        worker_logs = read_logs(tmp_path / "var")  # before /forget deletes the job folders
        # /models: the card, renamed to a marker
        await chat.send("/models")
        await chat.press(chat.menu().options[0].label)
        await chat.press("Rename")
        assert MODEL_NAME in said(await chat.send(MODEL_NAME))
        await chat.send("/cancel")
        # /predict on new rows
        await chat.send("/predict")
        await chat.send(TYPED)
        await chat.press("latest")
        assert "12 predictions" in said(await chat.upload(new_rows))
        # /stats: describe, correlation, a test, regression
        await chat.send("/stats")
        await chat.upload(data)
        await chat.press("Describe")
        await chat.send(f"{X}, {GRP}")
        await chat.press("Another")
        await chat.press("Correlation")
        await chat.press(Z)  # all ticked; untick one
        assert "Correlations of 2 columns" in said(await chat.press("Done")), chat.transcript()
        await chat.press("Another")
        await chat.press("Test")
        await chat.send(X)
        await chat.send(GRP)
        await chat.press("Another")
        await chat.press("Regression")
        await chat.send(Y)
        await chat.send(f"{X}, {Z}")
        await chat.press("Done")
        # /explore
        await chat.send("/explore")
        await chat.upload(data)
        await chat.send(TYPO)
        await chat.send(f"{X}, {GRP}")
        # /describe
        await chat.send("/describe")
        await chat.upload(data)
        await chat.send(TYPED)
        await chat.send(f"all except {Z}")
        # /forget
        await chat.send("/forget")
        await chat.press("Yes")
        transcript = chat.transcript()

    assert all(m in transcript for m in (X, CLS, FILE, MODEL_NAME)), transcript  # values flowed
    records = caplog.records
    found = leaks([(r.name, t) for r in records for t in record_texts(r)])
    assert worker_logs, "the training job left no worker.log to look in"
    found += leaks(worker_logs + read_logs(tmp_path / "var"))
    assert found == [], "\n".join(found)
    # The logs did cover the conversation: a transition line for every workflow it went through.
    moves = {
        r.args[1]
        for r in records
        if r.name == "statbot.engine.transitions" and isinstance(r.args, tuple)
    }
    assert {"train", "models", "predict", "stats", "explore", "describe"} <= moves, moves

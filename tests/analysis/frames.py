"""Generated tables the model tests train on (made in the test: no downloads)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def mixed_frame(
    n: int, task: str, seed: int = 0, *, freq: str = "D", city_gaps: bool = False
) -> pd.DataFrame:
    """Every column kind a model meets (numeric with gaps, small integers, a category, dates,
    booleans) and a target ``y`` for ``task`` (regression, binary, multiclass) that depends on
    ``x`` and ``city``. ``city_gaps`` leaves every 13th city empty too."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=n),
            "z": rng.integers(0, 5, n),
            "city": rng.choice(["Oslo", "Rome", "Lima"], n),
            "when": pd.date_range("2021-01-01", periods=n, freq=freq),
            "flag": rng.choice([True, False], n),
        }
    )
    frame["x"] = frame["x"].mask(np.arange(n) % 9 == 0)
    if city_gaps:
        frame["city"] = frame["city"].mask(np.arange(n) % 13 == 0)
    signal = frame["x"].fillna(0) * 2 + (frame["city"] == "Oslo") + rng.normal(size=n) * 0.2
    if task == "regression":
        frame["y"] = signal
    elif task == "binary":
        frame["y"] = np.where(signal > 0.4, "yes", "no")
    else:
        frame["y"] = pd.cut(signal, [-99, -0.5, 1.0, 99], labels=["lo", "mid", "hi"]).astype(str)
    return frame

"""scikit-learn's iris table with readable column and class names, as a frame and as a CSV
fixture (``iris_csv``: import it into a test module or a conftest to use it by name)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def iris_frame() -> Any:
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    frame.columns = ["sepal_length", "sepal_width", "petal_length", "petal_width", "species"]
    frame["species"] = frame["species"].map({0: "setosa", 1: "versicolor", 2: "virginica"})
    return frame


@pytest.fixture
def iris_csv(tmp_path: Path) -> Path:
    path = tmp_path / "iris.csv"
    iris_frame().to_csv(path, index=False)
    return path

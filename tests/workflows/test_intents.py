from __future__ import annotations

import pytest

from statbot.workflows.intents import Intent, parse_intent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "train a random forest to predict price",
            Intent("train", {"model": "random forest", "target": "price"}),
        ),
        (
            "Train a model to predict churn from age, plan",
            Intent("train", {"target": "churn", "features": "age, plan"}),
        ),
        (
            "fit logistic regression for survived.",
            Intent("train", {"model": "logistic regression", "target": "survived"}),
        ),
        ("train a gbm", Intent("train", {"model": "gbm"})),
        ("now predict with it", Intent("predict", {"model": "latest"})),
        ("predict using house-prices v2", Intent("predict", {"model": "house-prices v2"})),
        ("describe it", Intent("stats", {"analysis": "describe"})),
        ("analyze it", Intent("stats", {"analysis": "describe"})),
        ("what about correlation?", Intent("stats", {"analysis": "correlation"})),
        ("run a regression", Intent("stats", {"analysis": "regression"})),
        ("is the difference significant?", Intent("stats", {"analysis": "test"})),
        ("show me the data", Intent("explore")),
        ("list models", Intent("models")),
    ],
)
def test_parse(text: str, expected: Intent) -> None:
    assert parse_intent(text) == expected


@pytest.mark.parametrize("text", ["", "hello", "/train", "thanks!", "price"])
def test_no_intent(text: str) -> None:
    assert parse_intent(text) is None

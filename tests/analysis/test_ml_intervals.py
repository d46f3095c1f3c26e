"""Issue 11: regressors' prediction intervals (split-conformal on the out-of-fold residuals),
stored on the card, written by predict, and covering new data as often as they say."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from statbot.analysis.ml import wording
from statbot.analysis.ml.intervals import conformal_quantile
from statbot.analysis.ml.predict import predict_frame
from statbot.analysis.ml.saved import SavedModels
from statbot.analysis.ml.training import train


def _draw(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.normal(size=n), "b": rng.uniform(-2, 2, n)})
    frame["y"] = 3 * frame["a"] - frame["b"] ** 2 + rng.standard_t(5, n)  # heavy-ish tails
    return frame


def test_the_conformal_quantile_is_the_finite_sample_rank() -> None:
    values = np.arange(1.0, 11.0)  # 1..10
    assert conformal_quantile(values, 0.8) == 9.0  # ceil(11 * 0.8) = 9th smallest
    assert conformal_quantile(values, 0.5) == 6.0
    assert math.isinf(conformal_quantile(values, 0.95))  # ceil(11 * .95) = 11 > 10
    assert conformal_quantile(np.array([np.nan, 2.0, 1.0, 3.0]), 0.5) == 2.0


@pytest.mark.parametrize("model", ["ridge", "random forest"])
def test_intervals_cover_new_data_at_the_stated_rate(model, tmp_path) -> None:
    """Bounded: 1,500 training rows, 4,000 new rows from the same distribution. With 4,000
    rows the binomial standard error of a 90% coverage is 0.5 points, so the band of ±3 points
    holds the conformal guarantee's slack (the saved model saw more rows than the fold models)
    and still fails a method that is off by more."""
    result = train(_draw(1500, 1), "y", model=model, cv=5, seed=2)
    intervals = result.intervals
    assert intervals["n_residuals"] == result.n_train and intervals["folds"] == 5
    widths = [intervals["levels"][k]["half_width"] for k in ("0.8", "0.9", "0.95")]
    assert widths == sorted(widths) and widths[0] > 0
    models = SavedModels(tmp_path)
    saved = models.save(1, result, "y model")
    estimator, card = models.load(1, saved.model_id)
    assert card.intervals == intervals  # stored with the model, on its card
    new = _draw(4000, 99)
    for level in (0.8, 0.9, 0.95):
        out = predict_frame(estimator, card, new, level=level)
        inside = (out.frame["prediction_lower"] <= new["y"]) & (
            new["y"] <= out.frame["prediction_upper"]
        )
        assert abs(inside.mean() - level) < 0.03, (model, level, inside.mean())
        assert out.interval["level"] == level
        assert out.scores["interval_coverage"]["share"] == pytest.approx(inside.mean())
    holdout = intervals["levels"]["0.9"]["holdout_coverage"]
    assert 0.8 < holdout < 1.0  # 300 holdout rows: measured at training, shown on the card
    sentence = wording.interval_sentence(card.to_dict())
    assert "90% interval, prediction ± " in sentence and f"{holdout:.1%}" in sentence
    assert "split-conformal on the out-of-fold cross-validation residuals" in sentence


def test_a_level_without_an_interval_is_said_and_no_columns_are_added(tmp_path) -> None:
    result = train(_draw(200, 3), "y", model="linear", cv=3)
    models = SavedModels(tmp_path)
    estimator, card = models.load(1, models.save(1, result, "m").model_id)
    out = predict_frame(estimator, card, _draw(20, 4).drop(columns="y"), level=0.5)
    assert "prediction_lower" not in out.frame.columns and out.interval is None
    assert out.warnings == ["This model has no 50% prediction interval (it has: 80%, 90%, 95%)."]
    assert out.scores is None and out.target_column is None


def test_classifiers_have_no_intervals() -> None:
    frame = _draw(200, 5)
    frame["y"] = np.where(frame["y"] > 0, "up", "down")
    result = train(frame, "y", model="logistic", cv=3)
    assert result.intervals is None

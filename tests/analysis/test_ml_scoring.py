"""Issue 11: when the data given to predict holds the target column, the predictions are scored
against it (metrics, a confusion matrix for classes), in numbers and in the sentences."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets, metrics

from statbot.analysis.ml.predict import predict_frame
from statbot.analysis.ml.saved import SavedModels
from statbot.analysis.ml.scoring import prediction_lines
from statbot.analysis.ml.training import train


@pytest.fixture(scope="module")
def wine_model(tmp_path_factory):
    frame = datasets.load_wine(as_frame=True).frame
    models = SavedModels(tmp_path_factory.mktemp("models"))
    saved = models.save(1, train(frame, "target", model="logistic", cv=3), "wine")
    return models.load(1, saved.model_id)


def test_a_classifier_is_scored_with_a_confusion_matrix(wine_model) -> None:
    estimator, card = wine_model
    frame = datasets.load_wine(as_frame=True).frame.sample(60, random_state=1)
    frame["target"] = frame["target"].astype("float64")  # 0.0 is the class "0", as in training
    frame.iloc[0, frame.columns.get_loc("target")] = np.nan
    frame.iloc[1, frame.columns.get_loc("target")] = 7.0  # a class the model never saw
    out = predict_frame(estimator, card, frame)
    scores = out.scores
    assert out.target_column == "target" and out.warnings == []  # the target is not "extra"
    kept = frame.iloc[2:]
    truth = kept["target"].astype(int).astype(str).to_numpy()
    pred = out.frame["prediction"].iloc[2:].to_numpy()
    assert scores["n_scored"] == 58 and scores["n_rows"] == 60
    assert scores["unscored"] == {"without a value": 1, "with a class the model never saw": 1}
    assert scores["unseen_classes"] == ["7"]
    assert scores["metrics"]["accuracy"] == pytest.approx(metrics.accuracy_score(truth, pred))
    assert scores["metrics"]["balanced_accuracy"] == pytest.approx(
        metrics.balanced_accuracy_score(truth, pred)
    )
    confusion = scores["confusion_matrix"]
    assert confusion["labels"] == ["0", "1", "2"]
    assert (
        confusion["matrix"]
        == metrics.confusion_matrix(truth, pred, labels=["0", "1", "2"]).tolist()
    )
    text = "\n".join(prediction_lines(card, out))
    assert "Scored against the 'target' column of this file (58 rows): accuracy " in text
    assert (
        "Rows not scored: 1 without a value; 1 with a class the model never saw (e.g. '7')." in text
    )
    assert "Confusion matrix (rows: actual, columns: predicted):" in text
    assert "\nactual ↓ predicted →" in text  # a monospace block the channels keep aligned


def test_a_regressor_is_scored_and_its_intervals_counted(tmp_path) -> None:
    frame = datasets.load_diabetes(as_frame=True).frame
    models = SavedModels(tmp_path)
    estimator, card = models.load(
        1, models.save(1, train(frame, "target", model="ridge", cv=3), "d").model_id
    )
    new = frame.sample(100, random_state=2).rename(columns={"target": " Target "})
    new[" Target "] = new[" Target "].astype(object)
    new.iloc[0, new.columns.get_loc(" Target ")] = "n/a"
    out = predict_frame(estimator, card, new)
    assert out.target_column == " Target "
    y = new[" Target "].iloc[1:].astype(float).to_numpy()
    pred = out.frame["prediction"].iloc[1:].to_numpy()
    assert out.scores["metrics"]["r2"] == pytest.approx(metrics.r2_score(y, pred))
    assert out.scores["metrics"]["mae"] == pytest.approx(metrics.mean_absolute_error(y, pred))
    width = out.interval["half_width"]
    assert out.scores["interval_coverage"]["inside"] == int(np.sum(np.abs(y - pred) <= width))
    text = "\n".join(prediction_lines(card, out))
    assert "Rows not scored: 1 not a number." in text
    assert "The intervals held " in text and "Each has a 90% prediction interval" in text


def test_without_the_target_column_nothing_is_scored(wine_model) -> None:
    estimator, card = wine_model
    frame = datasets.load_wine(as_frame=True).frame.drop(columns="target").head(10)
    out = predict_frame(estimator, card, frame)
    assert out.scores is None and out.target_column is None
    assert not any("Scored" in line for line in prediction_lines(card, out))


def test_a_target_column_with_nothing_usable_is_said(wine_model) -> None:
    estimator, card = wine_model
    frame = datasets.load_wine(as_frame=True).frame.head(10)
    frame["target"] = np.nan
    out = predict_frame(estimator, card, frame)
    assert out.scores is None
    assert "fewer than 2 of its values can be compared" in prediction_lines(card, out)[-1]

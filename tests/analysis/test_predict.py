"""Prediction against a saved model's card (statbot.analysis.ml.predict): every mismatch is
reported in words, and the output is the input plus prediction / proba_<class> columns."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from statbot.analysis.ml.predict import predict_frame
from statbot.analysis.ml.saved import SavedModels
from statbot.analysis.ml.training import train
from statbot.errors import ModelError


def _frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, n).astype("float64"),
            "city": rng.choice(["Oslo", "Rome", "Lima"], n),
            "joined": pd.date_range("2020-01-01", periods=n, freq="D"),
            "member": rng.choice([True, False], n),
        }
    )
    score = (frame["age"] - 50) / 10 + (frame["city"] == "Oslo") * 2 + rng.normal(size=n) * 0.3
    frame["churn"] = np.where(score > 0.5, "yes", "no")
    frame["spend"] = score * 100 + 1000
    return frame


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    models = SavedModels(tmp_path_factory.mktemp("models"))
    frame = _frame(200)
    classifier = train(frame.drop(columns="spend"), "churn", model="logistic", cv=3)
    regressor = train(frame.drop(columns="churn"), "spend", model="ridge", cv=3)
    c = models.save(1, classifier, "churn model")
    r = models.save(1, regressor, "spend model")
    return models.load(1, c.model_id), models.load(1, r.model_id)


def test_clean_data_gets_predictions_and_probabilities(saved) -> None:
    (estimator, card), _ = saved
    new = _frame(40, seed=3).drop(columns=["churn", "spend"])
    result = predict_frame(estimator, card, new)
    assert result.warnings == []
    assert list(result.frame.columns) == [
        *new.columns,
        "prediction",
        "proba_no",
        "proba_yes",
    ]
    np.testing.assert_allclose(result.frame[["proba_no", "proba_yes"]].sum(axis=1), 1.0)
    assert set(result.frame["prediction"]) <= {"yes", "no"}
    expected = np.where(result.frame["proba_yes"] > 0.5, "yes", "no")
    assert (result.frame["prediction"] == expected).all()
    pd.testing.assert_frame_equal(result.frame[new.columns], new)
    back = pd.read_csv(io.BytesIO(result.to_csv_bytes()))
    assert len(back) == 40 and "proba_yes" in back.columns


def test_regression_predictions(saved) -> None:
    _, (estimator, card) = saved
    new = _frame(30, seed=4)
    result = predict_frame(estimator, card, new.drop(columns=["spend", "churn"]))
    assert "prediction" in result.frame.columns
    assert not any(c.startswith("proba_") for c in result.frame.columns)
    error = np.abs(result.frame["prediction"] - new["spend"])
    assert float(error.mean()) < 60


def test_missing_column_is_an_error_naming_it(saved) -> None:
    (estimator, card), _ = saved
    new = _frame(10).drop(columns=["churn", "spend", "city"])
    with pytest.raises(ModelError) as caught:
        predict_frame(estimator, card, new)
    message = caught.value.user_message
    assert "'city'" in message and "not in this file" in message
    assert "age, city, joined, member" in message


def test_extra_columns_are_ignored_with_a_warning(saved) -> None:
    (estimator, card), _ = saved
    new = _frame(10).drop(columns=["churn"]).assign(note="x")
    result = predict_frame(estimator, card, new)
    assert result.warnings == ["2 columns not used by the model were ignored: spend, note."]
    assert "note" in result.frame.columns  # kept in the output, just not used


def test_column_names_differing_in_case_are_matched(saved) -> None:
    (estimator, card), _ = saved
    new = _frame(10).drop(columns=["churn", "spend"]).rename(columns={"age": " AGE "})
    result = predict_frame(estimator, card, new)
    assert any("' AGE ' was used as the model's column 'age'" in w for w in result.warnings)


def test_wrong_dtypes_castable_partly_and_not_at_all(saved) -> None:
    (estimator, card), _ = saved
    new = _frame(6).drop(columns=["churn", "spend"])
    new["age"] = ["30", "41.5", "forty", "52", None, "60"]
    new["joined"] = ["2021-03-01", "not a date", "2021-03-05", "2021-03-07", "2021-03-09", "x"]
    result = predict_frame(estimator, card, new)
    text = "\n".join(result.warnings)
    assert "Column 'age': 1 value(s) could not be read as numbers (e.g. 'forty')" in text
    assert "Column 'joined': 2 value(s) could not be read as dates" in text
    assert "Column 'age' has 1 missing value(s); they were filled with the training median" in text
    assert result.frame["prediction"].notna().all()

    hopeless = _frame(3).drop(columns=["churn", "spend"])
    hopeless["age"] = ["old", "young", "teen"]
    with pytest.raises(ModelError) as caught:
        predict_frame(estimator, card, hopeless)
    assert "Column 'age' should hold numbers" in caught.value.user_message
    assert "'old'" in caught.value.user_message


def test_unseen_categories_and_missing_values_are_reported(saved) -> None:
    (estimator, card), _ = saved
    new = _frame(8).drop(columns=["churn", "spend"])
    new["city"] = ["Oslo", "Paris", "Paris", None, "Rome", "Lima", "Tokyo", "Oslo"]
    new["member"] = [True, None, "yes", "no", False, "maybe", True, False]
    result = predict_frame(estimator, card, new)
    text = "\n".join(result.warnings)
    assert "Column 'city': 3 row(s) have categories not seen in training ('Paris', 'Tokyo')" in text
    assert "Column 'city' has 1 missing value(s)" in text
    assert (
        "Column 'member': 1 value(s) could not be read as true/false values (e.g. 'maybe')" in text
    )
    assert "Column 'member' has 1 missing value(s)" in text
    assert len(result.frame) == 8 and result.frame["prediction"].notna().all()


def test_empty_input_is_an_error(saved) -> None:
    (estimator, card), _ = saved
    empty = _frame(3).drop(columns=["churn", "spend"]).iloc[:0]
    with pytest.raises(ModelError, match="no rows"):
        predict_frame(estimator, card, empty)


def test_prediction_column_does_not_overwrite_input(saved) -> None:
    (estimator, card), _ = saved
    new = _frame(5).drop(columns=["churn", "spend"]).assign(prediction="mine")
    result = predict_frame(estimator, card, new)
    assert (result.frame["prediction"] == "mine").all()
    assert "prediction_1" in result.frame.columns

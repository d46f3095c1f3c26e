"""Issue 11: hyper-parameter tuning as an option — a small search within a time budget on the
same folds as the untuned model, reported with both CV scores; a tuned model saves and loads
with the same allow-list."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import datasets

from statbot.analysis.ml import wording
from statbot.analysis.ml.card import ModelCard
from statbot.analysis.ml.saved import SavedModels, check_model_bytes
from statbot.analysis.ml.training import train
from statbot.analysis.ml.tuning import MAX_TRIALS, SPACES


def _wine():
    return datasets.load_wine(as_frame=True).frame


def test_tuning_reports_both_cv_scores_and_keeps_only_a_better_setting() -> None:
    plain = train(_wine(), "target", model="logistic", cv=3)
    tuned = train(_wine(), "target", model="logistic", cv=3, tune=True, tune_budget_s=60)
    report = tuned.tuning
    assert report["planned"] == len(SPACES["logistic"]["C"]) == report["tried"]
    assert report["untuned"]["mean"] == plain.cv["accuracy"]["mean"]  # the same folds
    if report["kept"] == "tuned":
        assert report["best"]["mean"] > report["untuned"]["mean"]
        assert tuned.cv["accuracy"]["mean"] == report["best"]["mean"]
        assert report["params"]["C"] == tuned.estimator.named_steps["model"].C
        assert [e.status for e in tuned.leaderboard].count("tuned") == 1
    else:
        assert tuned.cv == plain.cv and report["params"] == {}
    sentence = wording.tuning_sentence(
        ModelCard.from_result(tuned, model_id="m", name="n").to_dict()
    )
    assert f"{report['tried']} of {report['planned']} settings tried" in sentence
    assert (
        f"{report['best']['mean']:.4g}" in sentence
        and f"{report['untuned']['mean']:.4g}" in sentence
    )


def test_a_zero_budget_tries_nothing_and_keeps_the_defaults() -> None:
    result = train(_wine(), "target", model="random forest", cv=3, tune=True, tune_budget_s=0.0)
    report = result.tuning
    assert report["tried"] == 0 and report["stopped"] == report["planned"] == MAX_TRIALS
    assert report["kept"] == "untuned"
    sentence = wording.tuning_sentence(
        ModelCard.from_result(result, model_id="m", name="n").to_dict()
    )
    assert "0 of 12 settings tried" in sentence and "12 left out by the budget" in sentence
    assert "kept the defaults" in sentence


def test_a_model_without_hyper_parameters_says_so() -> None:
    frame = datasets.load_diabetes(as_frame=True).frame
    result = train(frame, "target", model="linear", cv=3, tune=True)
    assert result.tuning["planned"] == 0 and result.tuning["kept"] == "untuned"
    card = ModelCard.from_result(result, model_id="m", name="n").to_dict()
    assert wording.tuning_sentence(card) == (
        "Tuning: linear regression has no hyper-parameters to search, so it keeps its defaults."
    )


@pytest.mark.parametrize("model", ["svm", "hist_gradient_boosting", "extra_trees", "knn"])
def test_tuned_models_hold_only_allow_listed_types(model, tmp_path) -> None:
    rng = np.random.default_rng(0)
    frame = _wine().sample(120, random_state=0)
    frame["target"] = np.where(frame["proline"] > frame["proline"].median(), "hi", "lo")
    frame["proline"] += rng.normal(scale=200, size=len(frame))
    result = train(frame, "target", model=model, cv=3, tune=True, tune_budget_s=4)
    assert result.tuning["tried"] >= 1
    models = SavedModels(tmp_path)
    saved = models.save(1, result, "tuned")
    check_model_bytes(models.path_of(1, saved.model_id).read_bytes())
    estimator, card = models.load(1, saved.model_id)
    assert card.tuning == result.tuning
    assert list(estimator.predict(frame.drop(columns="target"))) == list(
        result.estimator.predict(frame.drop(columns="target"))
    )

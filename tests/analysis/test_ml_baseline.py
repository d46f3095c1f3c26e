"""Issue 11: the baseline row in every leaderboard, the verdict against it in words, and
permutation importances that show no evidence of use are never ranked among the top."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

from statbot.analysis.ml import wording
from statbot.analysis.ml.card import ModelCard
from statbot.analysis.ml.cv import compare_to_baseline
from statbot.analysis.ml.result import FeatureImportance, has_evidence, ranked
from statbot.analysis.ml.training import train


def _wine() -> pd.DataFrame:
    return datasets.load_wine(as_frame=True).frame


def _card(result) -> dict:
    return ModelCard.from_result(result, model_id="m1", name="n").to_dict()


def test_the_baseline_is_scored_on_the_same_folds_and_holdout() -> None:
    frame = _wine()
    result = train(frame, "target", model="logistic", cv=4, seed=3)
    rows = [e for e in result.leaderboard if e.status == "baseline"]
    assert len(rows) == 1 and rows[0].label == "baseline (always the majority class)"
    # the same split as training, by hand: majority-class accuracy per fold and on the holdout
    y = frame["target"].astype(str).to_numpy()
    train_idx, hold_idx = train_test_split(
        np.arange(len(y)), test_size=0.2, random_state=3, stratify=y
    )
    folds = StratifiedKFold(4, shuffle=True, random_state=3).split(train_idx, y[train_idx])
    expected = []
    for fit, test in folds:
        dummy = DummyClassifier(strategy="most_frequent").fit(fit[:, None], y[train_idx][fit])
        expected.append(float(np.mean(dummy.predict(test[:, None]) == y[train_idx][test])))
    assert result.baseline["cv"]["accuracy"]["folds"] == pytest.approx(expected, abs=1e-12)
    assert rows[0].mean == pytest.approx(np.mean(expected), abs=1e-12)
    majority = DummyClassifier(strategy="most_frequent").fit(train_idx[:, None], y[train_idx])
    hold = float(np.mean(majority.predict(hold_idx[:, None]) == y[hold_idx]))
    assert result.baseline["holdout"]["accuracy"] == pytest.approx(hold, abs=1e-12)
    assert result.baseline["predicts"]["class"] == "1"
    card = _card(result)
    assert wording.verdict(card) == "better"
    assert wording.headline(card).startswith("*Model trained*: logistic regression")
    sentence = wording.baseline_sentence(card)
    assert "It beats the baseline (always predicting the most common class '1'" in sentence
    assert f"{result.cv['accuracy']['mean']:.4g} vs {rows[0].mean:.4g}" in sentence


def test_a_regression_baseline_is_the_mean_on_the_same_folds() -> None:
    frame = datasets.load_diabetes(as_frame=True).frame
    result = train(frame, "target", model="linear", cv=3)
    y = frame["target"].to_numpy()
    train_idx, _ = train_test_split(np.arange(len(y)), test_size=0.2, random_state=0)
    r2 = []
    for fit, test in KFold(3, shuffle=True, random_state=0).split(train_idx):
        pred = DummyRegressor().fit(fit[:, None], y[train_idx][fit]).predict(test[:, None])
        truth = y[train_idx][test]
        r2.append(1 - np.sum((truth - pred) ** 2) / np.sum((truth - truth.mean()) ** 2))
    assert result.baseline["cv"]["r2"]["folds"] == pytest.approx(r2, abs=1e-12)
    assert result.baseline["predicts"]["mean"] == pytest.approx(y[train_idx].mean())


def test_a_model_on_pure_noise_is_not_reported_as_beating_the_baseline() -> None:
    # seeded: the verdict is a 5% screen, so some noise sets pass it by chance
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(300, 5)), columns=[f"x{i}" for i in range(5)])
    frame["y"] = rng.choice(["a", "b"], 300)
    result = train(frame, "y", model="random forest", cv=5)
    card = _card(result)
    assert wording.verdict(card) in ("not_better", "within_noise")
    headline = wording.headline(card)
    assert "Model trained*:" not in headline
    assert "baseline" in headline
    text = "\n".join(wording.training_lines(card))
    assert "no clear evidence" in text or "does not beat the baseline" in text
    assert "predict y" in text or "information about y" in text


@pytest.mark.parametrize(
    ("model", "base", "metric", "expected"),
    [
        ([0.9, 0.92, 0.91], [0.5, 0.5, 0.52], "accuracy", "better"),
        ([0.5, 0.49, 0.5], [0.5, 0.5, 0.5], "accuracy", "not_better"),
        ([0.55, 0.45, 0.52], [0.5, 0.5, 0.5], "accuracy", "within_noise"),
        ([1.0, 1.1, 0.9], [2.0, 2.1, 2.2], "rmse", "better"),  # lower is better
    ],
)
def test_the_verdict_is_the_paired_fold_difference(model, base, metric, expected) -> None:
    found = compare_to_baseline(model, base, metric)
    assert found["verdict"] == expected
    sign = -1 if metric == "rmse" else 1
    assert found["difference"] == pytest.approx(sign * (np.mean(model) - np.mean(base)))


def test_importances_without_evidence_are_never_ranked_among_the_top() -> None:
    items = [
        FeatureImportance("noisy_big", 0.05, 0.04),  # mean - 2 sd < 0: within noise
        FeatureImportance("negative", -0.01, 0.001),
        FeatureImportance("small_real", 0.02, 0.002),
        FeatureImportance("real", 0.3, 0.01),
    ]
    order = [i.feature for i in ranked(items)]
    assert order[:2] == ["real", "small_real"]
    assert not has_evidence(0.05, 0.04) and not has_evidence(-0.01, 0.0)
    assert not has_evidence(0.0, 0.0) and has_evidence(0.02, 0.002)
    card = {
        "primary_metric": "accuracy",
        "target": "y",
        "importances": [i.to_dict() for i in ranked(items)],
    }
    top, unused = wording.importance_lines(card)
    assert "real (0.3), small_real (0.02)." in top
    assert "noisy_big" not in top and "negative" not in top
    assert unused.startswith("No evidence of use") and "noisy_big, negative" in unused


def test_noise_columns_in_real_training_show_no_evidence_of_use() -> None:
    frame = _wine()
    rng = np.random.default_rng(0)
    frame["noise"] = rng.normal(size=len(frame))
    result = train(frame, "target", model="logistic", cv=3)
    noise = next(i for i in result.importances if i.feature == "noise")
    assert not noise.evidence
    evidence = [i.evidence for i in result.importances]
    assert evidence == sorted(evidence, reverse=True)  # all with evidence come first
    assert "noise" in wording.importance_lines(_card(result))[-1]


def test_a_card_written_before_issue_11_reads_without_a_baseline() -> None:
    result = train(_wine(), "target", model="logistic", cv=3)
    data = _card(result)
    for key in ("baseline", "intervals", "tuning", "model_label", "card_version"):
        data.pop(key)
    for item in data["importances"]:
        item.pop("evidence")
    data["leaderboard"] = [e for e in data["leaderboard"] if e["status"] != "baseline"]
    for entry in data["leaderboard"]:
        entry.pop("label")
    old = ModelCard.from_dict(data)
    assert old.card_version == 1 and old.baseline == {} and old.intervals is None
    assert [i["evidence"] for i in old.importances] == [i.evidence for i in result.importances]
    again = old.to_dict()
    assert wording.verdict(again) is None and wording.baseline_sentence(again) is None
    assert wording.headline(again).startswith("*Model trained*: logistic regression")
    assert wording.leaderboard_lines(again)[0].startswith("  1. logistic")

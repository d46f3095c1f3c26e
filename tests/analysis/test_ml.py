"""Model training (statbot.analysis.ml.training): accuracy bands on scikit-learn's bundled datasets,
task detection, input errors, the `auto` leaderboard and the progress callback."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import datasets
from tests.analysis.frames import mixed_frame

from statbot.analysis.ml.estimators import MODELS
from statbot.analysis.ml.training import detect_task, resolve_model_name, train
from statbot.errors import ModelError


def _bundled(loader) -> pd.DataFrame:
    return loader(as_frame=True).frame


@pytest.mark.parametrize(
    ("loader", "model", "low", "high"),
    [
        (datasets.load_breast_cancer, "random forest", 0.94, 1.0),
        (datasets.load_breast_cancer, "logistic", 0.96, 1.0),
        (datasets.load_wine, "rf", 0.95, 1.0),
        (datasets.load_iris, "random_forest", 0.93, 1.0),
        (datasets.load_iris, "logistic regression", 0.93, 1.0),
        (datasets.load_diabetes, "linear", 0.44, 0.52),
    ],
)
def test_accuracy_bands_5_fold_cv(loader, model, low, high) -> None:
    result = train(_bundled(loader), "target", model=model, cv=5)
    summary = result.cv_summary()
    assert len(summary["folds"]) == 5
    assert low <= summary["mean"] <= high, (model, summary)
    expected_metric = "r2" if loader is datasets.load_diabetes else "accuracy"
    assert summary["metric"] == expected_metric


def test_scaling_is_inside_the_pipeline() -> None:
    # the breast_cancer logistic band holds only with scaling; the scaler must travel with
    # the model so prediction on raw columns gets it too
    result = train(_bundled(datasets.load_breast_cancer), "target", model="logistic", cv=3)
    steps = result.estimator.named_steps
    numeric = steps["preprocess"].named_transformers_["numeric"]
    assert "scale" in numeric.named_steps
    assert result.holdout["accuracy"] >= 0.95


def test_task_detection() -> None:
    assert detect_task(pd.Series([1.5, 2.25, 3.0, 4.75, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.5])) == (
        "regression"
    )
    assert detect_task(pd.Series(range(50))) == "regression"  # many integer levels
    assert detect_task(pd.Series([0, 1, 1, 0, None])) == "binary"
    assert detect_task(pd.Series(["yes", "no", "yes"])) == "binary"
    assert detect_task(pd.Series([True, False, True])) == "binary"
    assert detect_task(pd.Series([0, 1, 2, 2, 1, 0])) == "multiclass"
    assert detect_task(pd.Series(["a", "b", "c", "d"] * 30)) == "multiclass"
    assert detect_task(pd.Series([0.0, 1.0, 2.0, 1.0])) == "multiclass"


def test_one_class_target_is_a_model_error_with_user_message() -> None:
    frame = pd.DataFrame({"x": range(30), "y": ["same"] * 30})
    with pytest.raises(ModelError) as caught:
        train(frame, "y", model="logistic")
    assert "only one value" in caught.value.user_message
    assert "'y'" in caught.value.user_message


def test_input_errors_speak_to_the_user() -> None:
    frame = _bundled(datasets.load_iris)
    with pytest.raises(ModelError) as caught:
        train(frame, "nope")
    assert caught.value.user_message == "These columns are not in the data: nope."
    with pytest.raises(ModelError) as caught:
        train(frame, "target", model="linear")
    assert "Models that fit" in caught.value.user_message
    with pytest.raises(ModelError) as caught:
        train(frame, "target", model="deep neural magic")
    assert "random forest" in caught.value.user_message
    tiny = pd.DataFrame({"x": range(12), "y": ["a"] * 11 + ["b"]})
    with pytest.raises(ModelError) as caught:
        train(tiny, "y", model="logistic", cv=5)
    assert "'b' has only 1 rows" in caught.value.user_message


def test_resolve_model_name_aliases() -> None:
    assert resolve_model_name("Random Forest") == "random_forest"
    assert resolve_model_name("rf") == "random_forest"
    assert resolve_model_name("GBM") == "hist_gradient_boosting"
    assert resolve_model_name("knn") == "knn"
    assert resolve_model_name("k-nearest neighbours") == "knn"
    assert resolve_model_name("SVM") == "svm"
    assert resolve_model_name("logistic regression") == "logistic"
    assert resolve_model_name("extra_trees") == "extra_trees"
    assert resolve_model_name(" auto ") == "auto"
    with pytest.raises(ModelError):
        resolve_model_name("xgboost-ultra")


def _mixed(n: int, task: str, seed: int = 0) -> pd.DataFrame:
    return mixed_frame(n, task, seed)


def test_metrics_follow_the_task() -> None:
    binary = train(_mixed(150, "binary"), "y", model="logistic", cv=3)
    assert {"f1", "roc_auc"} <= set(binary.cv)
    multi = train(_mixed(150, "multiclass"), "y", model="logistic", cv=3)
    assert {"f1_macro", "roc_auc_ovr"} <= set(multi.cv)
    assert binary.cv_scheme["type"] == "StratifiedKFold"
    reg = train(_mixed(150, "regression"), "y", model="ridge", cv=3)
    assert reg.cv_scheme["type"] == "KFold"
    assert reg.cv["r2"]["mean"] > 0.8
    assert reg.n_train + reg.n_holdout == reg.n_rows == 150


def test_signal_is_found_by_importance() -> None:
    result = train(_mixed(300, "regression"), "y", model="linear", cv=3)
    assert result.importances[0].feature == "x"
    assert result.importances[-1].mean < result.importances[0].mean / 10


def test_rows_without_target_are_dropped_with_a_warning() -> None:
    frame = _mixed(100, "regression")
    frame.loc[:4, "y"] = np.nan
    result = train(frame, "y", model="linear", cv=3)
    assert result.n_rows == 95
    assert any("5 rows without a value" in w for w in result.warnings)


def test_auto_leaderboard_ranks_candidates() -> None:
    result = train(_bundled(datasets.load_wine), "target", model="auto", cv=3)
    board = result.leaderboard
    assert len(board) >= 3
    scored = [e for e in board if e.mean is not None]
    means = [e.mean for e in scored]
    assert means == sorted(means, reverse=True)
    assert result.model_name == board[0].model
    assert result.cv["accuracy"]["mean"] == board[0].mean
    assert all(e.fit_seconds > 0 for e in scored)
    assert {e.model for e in board} <= {*MODELS, "baseline"}
    assert [e.status for e in board].count("baseline") == 1  # issue 11: in every leaderboard


def test_auto_respects_the_time_budget() -> None:
    result = train(_mixed(200, "binary"), "y", model="auto", cv=3, time_budget_s=0.0)
    statuses = [e.status for e in result.leaderboard]
    assert statuses.count("ok") == 1  # the first candidate always completes
    others = [s for s in statuses if s not in ("ok", "baseline")]
    assert others and all(s.startswith(("skipped", "stopped")) for s in others)


def test_progress_is_monotone_and_reaches_one() -> None:
    calls: list[tuple[float, str]] = []
    train(
        _bundled(datasets.load_iris),
        "target",
        model="auto",
        cv=3,
        progress=lambda f, m: calls.append((f, m)),
    )
    fractions = [f for f, _ in calls]
    assert fractions == sorted(fractions)
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert all(0.0 <= f <= 1.0 for f in fractions)
    assert sum("fold" in m for _, m in calls) >= 3 * 3
    assert all(isinstance(m, str) and m for _, m in calls)


def test_seed_makes_training_reproducible() -> None:
    frame = _mixed(150, "binary")
    first = train(frame, "y", model="random_forest", cv=3, seed=7)
    again = train(frame, "y", model="random_forest", cv=3, seed=7)
    other = train(frame, "y", model="random_forest", cv=3, seed=8)
    assert first.cv["accuracy"]["folds"] == again.cv["accuracy"]["folds"]
    assert first.data_hash == again.data_hash == other.data_hash
    assert first.cv["log_loss"]["folds"] != other.cv["log_loss"]["folds"]


def test_empty_feature_columns_are_left_out_with_a_warning() -> None:
    frame = _mixed(80, "regression").assign(blank=np.nan)
    result = train(frame, "y", model="linear", cv=3)
    assert "blank" not in [spec.name for spec in result.features]
    assert "Column 'blank' had no values and was left out." in result.warnings
    with pytest.raises(ModelError, match="all features empty"):
        train(frame, "y", features=["blank"], model="linear", cv=3)


def test_a_feature_named_twice_is_used_once() -> None:
    result = train(_mixed(60, "regression"), "y", ["x", "z", "x"], model="linear", cv=3)
    assert [spec.name for spec in result.features] == ["x", "z"]


@pytest.mark.parametrize(("task", "model"), [("binary", "random_forest"), ("regression", "knn")])
def test_block_permutation_equals_raw_column_permutation(task, model) -> None:
    from statbot.analysis.ml.pipeline import prepare_features
    from statbot.analysis.ml.result import output_groups

    frame = _mixed(120, task)
    frame["city"] = frame["city"].mask(np.arange(120) % 7 == 0)
    result = train(frame, "y", model=model, cv=2)
    x = prepare_features(frame, result.features)
    preprocess = result.estimator.named_steps["preprocess"]
    inner = result.estimator.named_steps["model"]
    groups = output_groups(preprocess, list(x.columns))
    assert groups is not None and set(groups) == set(x.columns)
    assert len(groups["when"]) == 4 and len(groups["city"]) >= 3
    transformed = np.asarray(preprocess.transform(x), dtype="float64")
    order = np.random.default_rng(3).permutation(len(x))
    for column, index in groups.items():
        raw = x.copy()
        raw[column] = x[column].to_numpy()[order]
        block = transformed.copy()
        block[:, index] = transformed[order][:, index]
        np.testing.assert_array_equal(result.estimator.predict(raw), inner.predict(block))

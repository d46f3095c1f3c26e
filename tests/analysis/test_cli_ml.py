"""``statbot analyze train`` / ``predict`` end to end through the real CLI app."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from sklearn import datasets
from typer.testing import CliRunner

from statbot.cli import app


@pytest.fixture(scope="module")
def iris_csv(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "iris.csv"
    frame = datasets.load_iris(as_frame=True).frame
    frame["species"] = frame.pop("target").map({0: "setosa", 1: "versicolor", 2: "virginica"})
    frame.to_csv(path, index=False)
    return path


def _run(*args: str):
    return CliRunner().invoke(app, ["analyze", *args])


def test_train_json_saves_a_model_and_predict_uses_it(iris_csv, tmp_path) -> None:
    out_dir = tmp_path / "models"
    result = _run(
        "train",
        str(iris_csv),
        "--target",
        "species",
        "--model",
        "random forest",
        "--cv",
        "5",
        "--out",
        str(out_dir),
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["task"] == "multiclass"
    assert data["model"] == "random_forest"
    cv = data["cv"]
    assert cv["metric"] == "accuracy" and len(cv["folds"]) == 5
    assert cv["mean"] == pytest.approx(sum(cv["folds"]) / 5, rel=1e-12)
    assert cv["mean"] >= 0.93 and cv["std"] >= 0
    assert set(data["holdout"]) >= {"accuracy", "balanced_accuracy", "f1_macro", "log_loss"}
    model_path = Path(data["model_path"])
    assert model_path.exists() and model_path.suffix == ".skops"
    assert model_path.with_suffix(".json").exists()
    assert data["card"]["model_id"] == model_path.stem
    assert data["card"]["classes"] == ["setosa", "versicolor", "virginica"]

    new = tmp_path / "new.csv"
    pd.read_csv(iris_csv).drop(columns="species").head(12).to_csv(new, index=False)
    predicted = _run("predict", str(new), "--model", str(model_path))
    assert predicted.exit_code == 0, predicted.output
    frame = pd.read_csv(io.StringIO(predicted.stdout))
    assert len(frame) == 12
    assert list(frame.columns[-4:]) == [
        "prediction",
        "proba_setosa",
        "proba_versicolor",
        "proba_virginica",
    ]
    assert (frame["prediction"] == "setosa").all()  # the first rows of iris are setosa

    out_csv = tmp_path / "pred.csv"
    to_file = _run("predict", str(new), "--model", str(model_path), "--out", str(out_csv))
    assert to_file.exit_code == 0, to_file.output
    assert pd.read_csv(out_csv).equals(frame)

    as_json = _run("predict", str(new), "--model", str(model_path), "--json")
    assert as_json.exit_code == 0, as_json.output
    payload = json.loads(as_json.stdout)
    assert payload["rows"] == 12 and payload["predictions"]["prediction"] == ["setosa"] * 12


def test_train_regression_with_feature_subset(tmp_path) -> None:
    path = tmp_path / "diabetes.csv"
    datasets.load_diabetes(as_frame=True).frame.to_csv(path, index=False)
    result = _run(
        "train",
        str(path),
        "--target",
        "target",
        "--features",
        "bmi, bp,s5",
        "--model",
        "linear",
        "--cv",
        "3",
        "--json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["task"] == "regression" and data["cv"]["metric"] == "r2"
    assert data["model_path"] is None
    assert [f["name"] for f in data["card"]["features"]] == ["bmi", "bp", "s5"]
    assert set(data["holdout"]) == {"r2", "rmse", "mae"}


def test_train_human_output_and_errors(iris_csv) -> None:
    result = _run("train", str(iris_csv), "--target", "species", "--model", "knn", "--cv", "3")
    assert result.exit_code == 0, result.output
    assert "3-fold CV accuracy" in result.stdout
    assert "not saved" in result.stdout

    bad = _run("train", str(iris_csv), "--target", "nope", "--json")
    assert bad.exit_code == 2
    assert "not in the data: nope" in bad.output
    wrong_model = _run("train", str(iris_csv), "--target", "species", "--model", "linear")
    assert wrong_model.exit_code == 2
    assert "Models that fit" in wrong_model.output


def test_predict_refuses_a_pickle(iris_csv, tmp_path) -> None:
    import pickle

    trained = _run(
        "train",
        str(iris_csv),
        "--target",
        "species",
        "--model",
        "knn",
        "--cv",
        "2",
        "--out",
        str(tmp_path),
        "--json",
    )
    model_path = Path(json.loads(trained.stdout)["model_path"])
    model_path.write_bytes(pickle.dumps({"not": "a model"}))
    result = _run("predict", str(iris_csv), "--model", str(model_path))
    assert result.exit_code == 2
    assert "pickle" in result.output
    assert "never loads pickles" in result.output


def test_train_tune_and_predict_with_the_target_report_the_chat_sentences(tmp_path) -> None:
    """Issue 11 in the CLI: the baseline, the verdict, --tune, the one model name, the
    intervals and, when the file holds the target, the scores; "report" holds the sentences
    the chat shows, generated by the same functions."""
    from statbot.analysis.ml import wording

    path = tmp_path / "diabetes.csv"
    datasets.load_diabetes(as_frame=True).frame.to_csv(path, index=False)
    out_dir = tmp_path / "models"
    args = ["train", str(path), "--target", "target", "--model", "gradient boosting", "--cv", "3"]
    result = _run(*args, "--tune", "--tune-budget", "3", "--out", str(out_dir), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["model"] == "hist_gradient_boosting" and data["model_label"] == "gradient boosting"
    assert data["name"] == "gradient boosting for target" == data["card"]["name"]
    assert data["verdict"] == "better" and data["baseline"]["strategy"] == "mean"
    labels = [e["label"] for e in data["leaderboard"]]
    assert "baseline (always the mean)" in labels and "gradient boosting" in labels
    assert data["tuning"]["budget_s"] == 3 and data["tuning"]["untuned"]["mean"] is not None
    assert data["intervals"]["levels"]["0.9"]["half_width"] > 0
    assert data["report"] == [wording.headline(data["card"]), *wording.training_lines(data["card"])]
    assert any(line.startswith("Tuning: ") for line in data["report"])

    predicted = _run(
        "predict", str(path), "--model", data["model_path"], "--coverage", "0.8", "--json"
    )
    assert predicted.exit_code == 0, predicted.output
    payload = json.loads(predicted.stdout)
    assert payload["columns_added"] == ["prediction", "prediction_lower", "prediction_upper"]
    assert payload["interval"]["level"] == 0.8
    assert payload["target_column"] == "target" and payload["scores"]["n_scored"] == 442
    assert set(payload["scores"]["metrics"]) == {"r2", "rmse", "mae"}
    assert payload["report"][2].startswith("Scored against the 'target' column")
    # the training file itself: the same sentence as in the chat says the scores are optimistic
    assert payload["scores"]["training_rows"] is True
    assert payload["report"][3].startswith("These are the rows the model was trained on")
    human = _run("train", str(path), "--target", "target", "--model", "ridge", "--cv", "3")
    assert "ridge regression" in human.stdout and "ridge_" not in human.stdout
    assert "baseline (always the mean)" in human.stdout and "evidence of use" in human.stdout
    bad = _run("predict", str(path), "--model", data["model_path"], "--coverage", "90")
    assert bad.exit_code != 0 and "--coverage must be between 0 and 1" in bad.output

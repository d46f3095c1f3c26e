"""Model files (statbot.analysis.ml.saved): every trainable model round-trips through skops with
the allow-list, tampered files and pickles are refused without being unpickled, and cards from
another scikit-learn minor version are refused with an explanation."""

from __future__ import annotations

import gzip
import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io
from tests.analysis.frames import mixed_frame

from statbot.analysis.ml.card import ModelCard
from statbot.analysis.ml.estimators import models_for
from statbot.analysis.ml.saved import (
    TRUSTED_TYPES,
    SavedModels,
    check_model_bytes,
    load_model_file,
    schema_types,
)
from statbot.analysis.ml.training import train
from statbot.analysis.ml.trusted_types import LEGACY_TYPES
from statbot.errors import ModelError

# Builtins allowed on the list although the current models happen not to produce them.
PRIMITIVES = {"builtins.bool", "builtins.float", "builtins.int"}


def _mixed(n: int, task: str, seed: int = 0) -> pd.DataFrame:
    return mixed_frame(n, task, seed, freq="h", city_gaps=True)


def _schema_of(data: bytes) -> dict:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return json.loads(archive.read("schema.json"))


@pytest.fixture(scope="module")
def trained() -> dict[tuple[str, str], object]:
    """One training run per (task, model) on every feature kind, shared by the tests below."""
    runs = {}
    for task in ("regression", "binary", "multiclass"):
        frame = _mixed(90, task)
        for name in models_for(task):
            runs[(task, name)] = train(frame, "y", model=name, cv=2, seed=1)
    return runs


def test_every_model_round_trips_with_identical_predictions(trained, tmp_path) -> None:
    models = SavedModels(tmp_path)
    new_rows = _mixed(25, "binary", seed=5).drop(columns="y")
    for (task, name), result in trained.items():
        assert {s.name: s.kind for s in result.features} == {
            "x": "numeric",
            "z": "numeric",
            "city": "categorical",
            "when": "datetime",
            "flag": "boolean",
        }
        card = models.save(7, result, f"{task} {name}")
        estimator, loaded = models.load(7, card.model_id)
        assert loaded.to_dict() == card.to_dict()
        assert loaded.task == task and loaded.model_name == name
        from statbot.analysis.ml.pipeline import prepare_features

        x = prepare_features(new_rows, loaded.features)
        if task == "regression":
            np.testing.assert_array_equal(estimator.predict(x), result.estimator.predict(x))
        else:
            np.testing.assert_array_equal(
                estimator.predict_proba(x), result.estimator.predict_proba(x)
            )
            assert loaded.classes == [str(c) for c in estimator.classes_]


def test_allow_list_is_exactly_what_statbot_models_contain(trained) -> None:
    produced: set[str] = set()
    for result in trained.values():
        produced |= schema_types(_schema_of(skops.io.dumps(result.estimator)))
    # large-data code paths: HGB early stopping (>10k rows) and KNN's KD-tree
    big = _mixed(12_000, "binary")
    for name in ("hist_gradient_boosting", "knn"):
        result = train(big, "y", model=name, cv=2)
        produced |= schema_types(_schema_of(skops.io.dumps(result.estimator)))
    assert produced <= set(TRUSTED_TYPES), sorted(produced - set(TRUSTED_TYPES))
    unused = set(TRUSTED_TYPES) - produced - set(LEGACY_TYPES)
    assert unused <= PRIMITIVES, sorted(unused)
    assert len(TRUSTED_TYPES) == len(set(TRUSTED_TYPES))


def test_card_has_the_required_fields(trained, tmp_path) -> None:
    card = SavedModels(tmp_path).save("u1", trained[("binary", "logistic")], "churn")
    data = json.loads((tmp_path / "models" / "u1" / f"{card.model_id}.json").read_text())
    assert set(data["versions"]) >= {"python", "sklearn", "skops", "statbot"}
    assert data["target"] == "y" and data["task"] == "binary"
    assert data["classes"] == ["no", "yes"]
    city = next(f for f in data["features"] if f["name"] == "city")
    assert city["kind"] == "categorical" and set(city["levels"]) == {"Oslo", "Rome", "Lima"}
    assert {f["name"]: f["dtype"] for f in data["features"]}["when"].startswith("datetime64")
    assert data["metrics"]["cv"]["accuracy"]["folds"]
    assert "accuracy" in data["metrics"]["holdout"]
    assert data["cv_scheme"]["type"] == "StratifiedKFold" and data["cv_scheme"]["n_splits"] == 2
    assert data["cv_scheme"]["folds"] == 2
    assert data["seed"] == 1 and len(data["data_hash"]) == 64
    assert data["created_at"] and data["model_id"] == card.model_id and data["name"] == "churn"


def test_saved_models_lifecycle(trained, tmp_path) -> None:
    models = SavedModels(tmp_path)
    result = trained[("regression", "ridge")]
    first = models.save(1, result, "a", idempotency_key="update-42")
    again = models.save(1, result, "a", idempotency_key="update-42")
    assert again.model_id == first.model_id
    other_user = models.save(2, result, "a", idempotency_key="update-42")
    assert other_user.model_id != first.model_id
    second = models.save(1, result, "b")
    assert [c.model_id for c in models.list(1)] == sorted(
        [first.model_id, second.model_id], key=lambda i: (models.get_card(1, i).created_at, i)
    )
    assert models.rename(1, second.model_id, "better name").name == "better name"
    assert models.get_card(1, second.model_id).name == "better name"
    assert models.path_of(1, first.model_id).exists()
    assert not list(models.path_of(1, first.model_id).parent.glob("*.tmp"))
    assert models.delete(1, first.model_id) is True
    assert models.delete(1, first.model_id) is False
    with pytest.raises(ModelError):
        models.load(1, first.model_id)
    assert models.delete_user(1) == 1
    assert models.list(1) == []
    assert len(models.list(2)) == 1
    with pytest.raises(ModelError):
        models.path_of("../etc", "x")


def _saved(trained, tmp_path: Path) -> tuple[SavedModels, ModelCard, Path]:
    models = SavedModels(tmp_path)
    card = models.save(9, trained[("binary", "random_forest")], "rf")
    return models, card, models.path_of(9, card.model_id)


def _rewrite_schema(path: Path, edit) -> None:
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    schema = json.loads(members["schema.json"])
    edit(schema)
    members["schema.json"] = json.dumps(schema).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    path.write_bytes(buffer.getvalue())


@pytest.mark.parametrize(("module", "cls"), [("os", "system"), ("builtins", "eval")])
def test_skops_file_edited_to_an_off_list_type_is_refused(trained, tmp_path, module, cls) -> None:
    models, card, path = _saved(trained, tmp_path)

    def edit(schema: dict) -> None:
        schema["__module__"], schema["__class__"] = module, cls

    _rewrite_schema(path, edit)
    with pytest.raises(ModelError) as caught:
        models.load(9, card.model_id)
    assert f"{module}.{cls}" in str(caught.value)
    assert "not produce" in caught.value.user_message


def test_deeply_nested_off_list_type_is_refused(trained, tmp_path) -> None:
    models, card, path = _saved(trained, tmp_path)

    def edit(schema: dict) -> None:
        steps = schema["content"]["content"]["steps"]["content"]
        steps[1]["content"][1]["__module__"] = "subprocess"
        steps[1]["content"][1]["__class__"] = "Popen"

    _rewrite_schema(path, edit)
    with pytest.raises(ModelError, match=r"subprocess\.Popen"):
        models.load(9, card.model_id)


def test_skops_trusted_type_that_statbot_does_not_produce_is_refused(tmp_path) -> None:
    # skops itself trusts every scikit-learn estimator; statbot's list is narrower
    from sklearn.preprocessing import Normalizer

    data = skops.io.dumps(Normalizer().fit([[1.0, 2.0]]))
    with pytest.raises(ModelError, match=r"sklearn\.preprocessing\._data\.Normalizer"):
        check_model_bytes(data)


class _Tripwire:
    """Unpickling this creates a file: proof that a loader ran pickle."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("wrap", ["pickle", "joblib", "joblib-gzip"])
def test_pickle_and_joblib_renamed_to_skops_are_refused_unopened(trained, tmp_path, wrap) -> None:
    import joblib

    models, card, path = _saved(trained, tmp_path)
    marker = tmp_path / "unpickled.txt"
    payload = [_Tripwire(marker), trained[("binary", "random_forest")].estimator]
    if wrap == "pickle":
        path.write_bytes(pickle.dumps(payload))
    elif wrap == "joblib":
        joblib.dump(payload, path)
    else:
        joblib.dump(payload, path, compress=("gzip", 3))
        assert path.read_bytes()[:2] == b"\x1f\x8b"
    with pytest.raises(ModelError) as caught:
        models.load(9, card.model_id)
    assert not marker.exists()
    assert "pickle" in caught.value.user_message or "joblib" in caught.value.user_message
    # the tripwire does fire when pickle runs, so the check above can fail
    pickle.loads(pickle.dumps(_Tripwire(marker)))
    assert marker.exists()


def test_zip_with_a_pickle_inside_is_refused(trained, tmp_path) -> None:
    models, card, path = _saved(trained, tmp_path)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("schema.json", json.dumps({"protocol": 2}))
        archive.writestr("data.pkl", pickle.dumps({"a": 1}))
    path.write_bytes(buffer.getvalue())
    with pytest.raises(ModelError, match="unexpected members"):
        models.load(9, card.model_id)
    path.write_bytes(gzip.compress(b"junk"))
    with pytest.raises(ModelError):
        models.load(9, card.model_id)
    path.write_bytes(b"not a model at all")
    with pytest.raises(ModelError, match="not a zip"):
        models.load(9, card.model_id)


def test_card_from_another_sklearn_minor_version_is_refused(trained, tmp_path) -> None:
    _, _, path = _saved(trained, tmp_path)
    card_path = path.with_suffix(".json")
    data = json.loads(card_path.read_text())
    import sklearn

    major, minor = sklearn.__version__.split(".")[:2]
    data["versions"]["sklearn"] = f"{major}.{int(minor) - 1}.0"
    card_path.write_text(json.dumps(data))
    with pytest.raises(ModelError) as caught:
        load_model_file(path)
    message = caught.value.user_message
    assert f"{major}.{int(minor) - 1}.0" in message and sklearn.__version__ in message
    assert "train it again" in message
    # a patch-level difference is fine
    data["versions"]["sklearn"] = f"{major}.{minor}.999"
    card_path.write_text(json.dumps(data))
    estimator, _ = load_model_file(path)
    assert hasattr(estimator, "predict_proba")


def test_model_file_changed_after_saving_is_refused(trained, tmp_path) -> None:
    models, card, path = _saved(trained, tmp_path)
    other = skops.io.dumps(trained[("binary", "logistic")].estimator)
    path.write_bytes(other)
    with pytest.raises(ModelError, match="does not match its card"):
        models.load(9, card.model_id)


def test_missing_or_damaged_card_is_refused(trained, tmp_path) -> None:
    models, _, path = _saved(trained, tmp_path)
    path.with_suffix(".json").write_text("{not json")
    with pytest.raises(ModelError) as caught:
        load_model_file(path)
    assert "damaged" in caught.value.user_message
    assert models.list(9) == []  # damaged cards are skipped, not fatal
    path.with_suffix(".json").unlink()
    with pytest.raises(ModelError, match="no card"):
        load_model_file(path)


def test_a_card_that_is_not_text_is_skipped_and_refused_in_words(trained, tmp_path) -> None:
    # Bytes that are not UTF-8 (a torn or overwritten file) raised UnicodeDecodeError out of
    # /models and /predict instead of being treated as a damaged card.
    models, card, path = _saved(trained, tmp_path)
    path.with_suffix(".json").write_bytes(b"\xff\xfe\x00garbage")
    assert models.list(9) == []
    with pytest.raises(ModelError) as caught:
        models.load(9, card.model_id)
    assert "damaged" in caught.value.user_message


def test_a_model_saved_before_the_analysis_rooms_still_loads(trained, tmp_path) -> None:
    """Issue 10 moved ml_pipeline to ml/pipeline.py; files saved earlier name the old module."""
    models, card, path = _saved(trained, tmp_path)
    with zipfile.ZipFile(path) as archive:
        text = archive.read("schema.json").decode()
    assert "statbot.analysis.ml.pipeline" in text  # what a file saved today names
    _rewrite_schema(
        path,
        lambda schema: schema.update(
            json.loads(
                json.dumps(schema).replace(
                    "statbot.analysis.ml.pipeline", "statbot.analysis.ml_pipeline"
                )
            )
        ),
    )
    with zipfile.ZipFile(path) as archive:
        assert "statbot.analysis.ml_pipeline" in archive.read("schema.json").decode()
    import hashlib

    card_path = path.with_suffix(".json")  # as saved then: the card matches its file
    raw = json.loads(card_path.read_text())
    raw["model_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    card_path.write_text(json.dumps(raw))
    estimator, loaded = models.load(9, card.model_id)
    assert loaded.model_id == card.model_id and hasattr(estimator, "predict_proba")

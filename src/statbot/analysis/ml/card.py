"""The JSON card saved next to every model file: what the model expects, how it was trained and
scored, and which library versions wrote it (issue #3). Cards hold no pickles and no NaN."""

from __future__ import annotations

import json
import math
import platform
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from statbot.analysis.ml.pipeline import FeatureSpec
from statbot.errors import ModelError

if TYPE_CHECKING:
    from statbot.analysis.ml.training import TrainResult

# 2: baseline, intervals and tuning; importances carry "evidence". A version-1 card reads as
# one without them (no baseline row, no intervals), and its importances get "evidence" from
# their mean and std.
CARD_VERSION = 2


def library_versions() -> dict[str, str]:
    import numpy
    import pandas
    import sklearn
    import skops

    from statbot import __version__

    return {
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
        "skops": skops.__version__,
        "numpy": numpy.__version__,
        "pandas": pandas.__version__,
        "statbot": __version__,
    }


def _finite(value: Any) -> Any:
    """NaN/inf → None, recursively, so the card is strict JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


@dataclass
class ModelCard:
    model_id: str
    name: str
    model_name: str
    task: str
    target: str
    features: list[FeatureSpec]
    classes: list[str]
    primary_metric: str
    metrics: dict[str, Any]  # {"cv": {metric: {folds, mean, std}}, "holdout": {metric: value}}
    cv_scheme: dict[str, Any]
    seed: int
    data_hash: str
    created_at: str
    versions: dict[str, str]
    n_rows: int = 0
    n_train: int = 0
    n_holdout: int = 0
    importances: list[dict[str, Any]] = field(default_factory=list)
    leaderboard: list[dict[str, Any]] = field(default_factory=list)
    model_sha256: str = ""
    user_id: str | None = None
    baseline: dict[str, Any] = field(default_factory=dict)
    intervals: dict[str, Any] | None = None
    tuning: dict[str, Any] | None = None
    card_version: int = CARD_VERSION

    @classmethod
    def from_result(cls, result: TrainResult, *, model_id: str, name: str) -> ModelCard:
        return cls(
            model_id=model_id,
            name=name,
            model_name=result.model_name,
            task=result.task,
            target=result.target,
            features=list(result.features),
            classes=list(result.classes),
            primary_metric=result.primary_metric,
            metrics={"cv": result.cv, "holdout": result.holdout},
            cv_scheme=dict(result.cv_scheme),
            seed=result.seed,
            data_hash=result.data_hash,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            versions=library_versions(),
            n_rows=result.n_rows,
            n_train=result.n_train,
            n_holdout=result.n_holdout,
            importances=[i.to_dict() for i in result.importances],
            leaderboard=[entry.to_dict() for entry in result.leaderboard],
            baseline=dict(result.baseline),
            intervals=dict(result.intervals) if result.intervals else None,
            tuning=dict(result.tuning) if result.tuning else None,
        )

    @property
    def model_label(self) -> str:
        from statbot.analysis.ml.estimators import model_label

        return model_label(self.model_name)

    @property
    def feature_names(self) -> list[str]:
        return [spec.name for spec in self.features]

    def to_dict(self) -> dict[str, Any]:
        data = {
            "card_version": self.card_version,
            "model_id": self.model_id,
            "name": self.name,
            "model_name": self.model_name,
            "model_label": self.model_label,
            "task": self.task,
            "target": self.target,
            "features": [spec.to_dict() for spec in self.features],
            "classes": self.classes,
            "primary_metric": self.primary_metric,
            "metrics": self.metrics,
            "cv_scheme": self.cv_scheme,
            "seed": self.seed,
            "data_hash": self.data_hash,
            "created_at": self.created_at,
            "versions": self.versions,
            "n_rows": self.n_rows,
            "n_train": self.n_train,
            "n_holdout": self.n_holdout,
            "importances": self.importances,
            "leaderboard": self.leaderboard,
            "model_sha256": self.model_sha256,
            "user_id": self.user_id,
            "baseline": self.baseline,
            "intervals": self.intervals,
            "tuning": self.tuning,
        }
        return dict(_finite(data))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, allow_nan=False, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelCard:
        try:
            return cls(
                model_id=str(data["model_id"]),
                name=str(data["name"]),
                model_name=str(data["model_name"]),
                task=str(data["task"]),
                target=str(data["target"]),
                features=[FeatureSpec.from_dict(f) for f in data["features"]],
                classes=[str(c) for c in data.get("classes", [])],
                primary_metric=str(data["primary_metric"]),
                metrics=dict(data.get("metrics", {})),
                cv_scheme=dict(data.get("cv_scheme", {})),
                seed=int(data.get("seed", 0)),
                data_hash=str(data.get("data_hash", "")),
                created_at=str(data["created_at"]),
                versions={str(k): str(v) for k, v in data["versions"].items()},
                n_rows=int(data.get("n_rows", 0)),
                n_train=int(data.get("n_train", 0)),
                n_holdout=int(data.get("n_holdout", 0)),
                importances=[_importance(i) for i in data.get("importances", [])],
                leaderboard=list(data.get("leaderboard", [])),
                model_sha256=str(data.get("model_sha256", "")),
                user_id=None if data.get("user_id") is None else str(data["user_id"]),
                baseline=dict(data.get("baseline") or {}),
                intervals=dict(data["intervals"]) if data.get("intervals") else None,
                tuning=dict(data["tuning"]) if data.get("tuning") else None,
                card_version=int(data.get("card_version", 1)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelError(
                f"malformed model card: {exc!r}",
                user_message="The model's description file (card) is damaged; retrain the model.",
            ) from exc

    @classmethod
    def from_json(cls, text: str) -> ModelCard:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ModelError(
                f"model card is not JSON: {exc}",
                user_message="The model's description file (card) is damaged; retrain the model.",
            ) from exc
        if not isinstance(data, dict):
            raise ModelError(
                "model card is not a JSON object",
                user_message="The model's description file (card) is damaged; retrain the model.",
            )
        return cls.from_dict(data)


def _importance(item: Any) -> dict[str, Any]:
    """An importance entry; a version-1 card's (no "evidence") gets it from mean and std."""
    from statbot.analysis.ml.result import has_evidence

    entry = dict(item)
    if "evidence" not in entry:
        entry["evidence"] = has_evidence(entry.get("mean"), entry.get("std"))
    return entry


def _major_minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


def check_versions(card: ModelCard) -> list[str]:
    """Refuse a card whose scikit-learn major.minor differs from ours (the pickled-free skops
    format still stores sklearn internals, which change between minor releases). Other version
    differences come back as warnings."""
    current = library_versions()
    saved = card.versions.get("sklearn", "unknown")
    if _major_minor(saved) != _major_minor(current["sklearn"]):
        raise ModelError(
            f"sklearn version mismatch: card {saved}, running {current['sklearn']}",
            user_message=(
                f"The model '{card.name}' was trained with scikit-learn {saved}, but this server "
                f"runs scikit-learn {current['sklearn']}. Models cannot be moved safely between "
                "these versions, so it was not loaded. Please train it again on your data."
            ),
        )
    notes = []
    for package in ("python", "skops", "statbot"):
        before = card.versions.get(package)
        if before is not None and _major_minor(before) != _major_minor(current[package]):
            notes.append(f"The model was saved with {package} {before}; now {current[package]}.")
    return notes

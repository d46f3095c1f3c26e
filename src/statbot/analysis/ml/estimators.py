"""The models statbot can train, their user-typed aliases, and which task each one serves.

Named ``estimators`` (it was ``catalog``, issue 10): "catalog" is the database of users,
roles and the ledger (:mod:`statbot.access.catalog`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from statbot.analysis.ml.pipeline import Task
from statbot.errors import ModelError

CLASSIFICATION: tuple[Task, ...] = ("binary", "multiclass")
REGRESSION: tuple[Task, ...] = ("regression",)
BOTH: tuple[Task, ...] = ("regression", "binary", "multiclass")


@dataclass(frozen=True)
class ModelSpec:
    name: str
    label: str
    tasks: tuple[Task, ...]
    build: Callable[[Task, int], Any]


def _linear(task: Task, seed: int) -> Any:
    from sklearn.linear_model import LinearRegression

    return LinearRegression()


def _ridge(task: Task, seed: int) -> Any:
    from sklearn.linear_model import Ridge

    return Ridge(random_state=seed)


def _lasso(task: Task, seed: int) -> Any:
    from sklearn.linear_model import Lasso

    return Lasso(random_state=seed, max_iter=5000)


def _logistic(task: Task, seed: int) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=1000, random_state=seed)


def _random_forest(task: Task, seed: int) -> Any:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    if task == "regression":
        return RandomForestRegressor(random_state=seed)
    return RandomForestClassifier(random_state=seed)


def _extra_trees(task: Task, seed: int) -> Any:
    from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor

    if task == "regression":
        return ExtraTreesRegressor(random_state=seed)
    return ExtraTreesClassifier(random_state=seed)


def _hist_gb(task: Task, seed: int) -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    if task == "regression":
        return HistGradientBoostingRegressor(random_state=seed)
    return HistGradientBoostingClassifier(random_state=seed)


def _knn(task: Task, seed: int) -> Any:
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    if task == "regression":
        return KNeighborsRegressor()
    return KNeighborsClassifier()


def _svm(task: Task, seed: int) -> Any:
    from sklearn.svm import SVC, SVR

    if task == "regression":
        return SVR()
    # SVC(probability=True) is deprecated since scikit-learn 1.9; this is its documented
    # replacement and gives predict_proba for ROC AUC, log loss and proba_<class> columns.
    from sklearn.calibration import CalibratedClassifierCV

    return CalibratedClassifierCV(SVC(random_state=seed), ensemble=False)


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec("linear", "linear regression", REGRESSION, _linear),
        ModelSpec("ridge", "ridge regression", REGRESSION, _ridge),
        ModelSpec("lasso", "lasso regression", REGRESSION, _lasso),
        ModelSpec("logistic", "logistic regression", CLASSIFICATION, _logistic),
        ModelSpec("random_forest", "random forest", BOTH, _random_forest),
        ModelSpec("extra_trees", "extra trees", BOTH, _extra_trees),
        ModelSpec("hist_gradient_boosting", "gradient boosting", BOTH, _hist_gb),
        ModelSpec("knn", "k-nearest neighbours", BOTH, _knn),
        ModelSpec("svm", "support vector machine", BOTH, _svm),
    )
}

ALIASES: dict[str, str] = {
    "auto": "auto",
    "best": "auto",
    "automatic": "auto",
    "linear": "linear",
    "linear regression": "linear",
    "ols": "linear",
    "least squares": "linear",
    "ridge": "ridge",
    "ridge regression": "ridge",
    "lasso": "lasso",
    "lasso regression": "lasso",
    "logistic": "logistic",
    "logistic regression": "logistic",
    "logit": "logistic",
    "random forest": "random_forest",
    "rf": "random_forest",
    "forest": "random_forest",
    "extra trees": "extra_trees",
    "extremely randomized trees": "extra_trees",
    "et": "extra_trees",
    "gradient boosting": "hist_gradient_boosting",
    "hist gradient boosting": "hist_gradient_boosting",
    "histogram gradient boosting": "hist_gradient_boosting",
    "gbm": "hist_gradient_boosting",
    "gb": "hist_gradient_boosting",
    "hgb": "hist_gradient_boosting",
    "boosting": "hist_gradient_boosting",
    "knn": "knn",
    "k nn": "knn",
    "k nearest neighbours": "knn",
    "k nearest neighbors": "knn",
    "nearest neighbours": "knn",
    "nearest neighbors": "knn",
    "svm": "svm",
    "svc": "svm",
    "svr": "svm",
    "support vector machine": "svm",
    "support vector machines": "svm",
}

# Tried by `auto`, cheapest first, so a short time budget still yields a sensible leaderboard.
AUTO_CANDIDATES: dict[str, tuple[str, ...]] = {
    "regression": (
        "linear",
        "ridge",
        "hist_gradient_boosting",
        "random_forest",
        "extra_trees",
        "knn",
    ),
    "binary": ("logistic", "hist_gradient_boosting", "random_forest", "extra_trees", "knn", "svm"),
    "multiclass": (
        "logistic",
        "hist_gradient_boosting",
        "random_forest",
        "extra_trees",
        "knn",
        "svm",
    ),
}
# Kernel SVMs scale quadratically with rows; `auto` skips them above this size.
SVM_AUTO_MAX_ROWS = 5000


def _normalise(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.strip().lower()).strip()


def resolve_model_name(text: str) -> str:
    """A user-typed model name ("Random Forest", "rf", "gbm", "logistic regression") → canonical
    name (a key of MODELS, or "auto"). Unknown names raise ModelError listing the choices."""
    key = _normalise(text)
    if key in ALIASES:
        return ALIASES[key]
    underscored = key.replace(" ", "_")
    if underscored in MODELS:
        return underscored
    choices = ", ".join(["auto", *(spec.label for spec in MODELS.values())])
    raise ModelError(
        f"unknown model name {text!r}",
        user_message=f"I don't know a model called '{text.strip()}'. Choose one of: {choices}.",
    )


BASELINE_LABELS: dict[str, str] = {
    "regression": "baseline (always the mean)",
    "binary": "baseline (always the majority class)",
    "multiclass": "baseline (always the majority class)",
}


def model_label(name: str, task: str | None = None) -> str:
    """The one name a person sees for a model, in the buttons, the leaderboard, the card,
    /models and the CLI ("gradient boosting", never "hist_gradient_boosting"). It is also a
    name ``resolve_model_name`` accepts, so what is shown can be typed back."""
    if name == "baseline":
        return BASELINE_LABELS.get(task or "", "baseline")
    spec = MODELS.get(name)
    return spec.label if spec is not None else name


def default_model_name(name: str, target: str) -> str:
    """A saved model's name when the user gives none: the same in the chat and the CLI."""
    return f"{model_label(name)} for {target}"


def models_for(task: Task) -> list[str]:
    return [name for name, spec in MODELS.items() if task in spec.tasks]


def build_model(name: str, task: Task, seed: int) -> Any:
    spec = MODELS[name]
    if task not in spec.tasks:
        kind = "a numeric target (regression)" if task != "regression" else "a class target"
        fits = ", ".join(MODELS[n].label for n in models_for(task))
        raise ModelError(
            f"model {name} does not support task {task}",
            user_message=(
                f"{spec.label.capitalize()} is for {kind}, but this target is {task}. "
                f"Models that fit: {fits}."
            ),
        )
    return spec.build(task, seed)

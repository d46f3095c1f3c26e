"""``statbot analyze train`` and ``statbot analyze predict`` (issue #3), merged into the
``analyze`` group by :mod:`statbot.cli`, with the helpers of :mod:`statbot.cli.common`. pandas and
scikit-learn are imported inside the commands only."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from statbot.analysis.ml import wording
from statbot.cli.common import (
    FileArg,
    JsonOpt,
    emit,
    fail,
    file_options,
    load,
    split,
    text_table,
    user_errors,
)

commands = typer.Typer()


def _progress_to_stderr(fraction: float, message: str) -> None:
    typer.echo(f"[{fraction * 100:5.1f}%] {message}", err=True)


@commands.command()
def train(
    file: FileArg,
    *,
    target: Annotated[str, typer.Option(help="Column to predict.")],
    features: Annotated[
        str | None, typer.Option(help="Comma-separated feature columns (default: all others).")
    ] = None,
    model: Annotated[
        str, typer.Option(help="auto, linear, ridge, lasso, logistic, random forest, ...")
    ] = "auto",
    cv: Annotated[int, typer.Option(help="Number of cross-validation folds.")] = 5,
    seed: Annotated[int, typer.Option(help="Random seed (splits and models).")] = 0,
    out: Annotated[
        Path | None, typer.Option(help="Directory to save the model (.skops + .json card).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Display name stored on the card.")] = None,
    time_budget: Annotated[
        float, typer.Option(help="Seconds `auto` may spend comparing models.")
    ] = 120.0,
    tune: Annotated[
        bool, typer.Option("--tune", help="Search the chosen model's hyper-parameters.")
    ] = False,
    tune_budget: Annotated[
        float, typer.Option(help="Seconds --tune may spend (the settings tried are reported).")
    ] = 60.0,
    as_json: JsonOpt = False,
) -> None:
    """Train a model with k-fold CV and a holdout, scored against a majority-class / mean
    baseline; optionally tuned, and saved as a skops file + card."""
    from statbot.analysis.ml.card import ModelCard
    from statbot.analysis.ml.estimators import default_model_name
    from statbot.analysis.ml.saved import new_model_id, save_model_files
    from statbot.analysis.ml.training import train as run_train

    if cv < 2:
        fail("--cv must be at least 2")
    frame = load(file)
    with user_errors():
        result = run_train(
            frame,
            target,
            split(features) if features else None,
            model=model,
            cv=cv,
            seed=seed,
            progress=None if as_json else _progress_to_stderr,
            time_budget_s=time_budget,
            tune=tune,
            tune_budget_s=tune_budget,
        )
        display = name or default_model_name(result.model_name, target)
        model_id = new_model_id()
        if out is not None:
            card = save_model_files(out, result, display, model_id)
            model_path: str | None = str(out / f"{model_id}.skops")
        else:
            card = ModelCard.from_result(result, model_id=model_id, name=display)
            model_path = None
    card_dict = card.to_dict()
    data: dict[str, Any] = {
        "task": result.task,
        "model": result.model_name,
        "model_label": result.model_label,
        "name": display,
        "cv": {**result.cv_summary(), "scheme": result.cv_scheme, "metrics": result.cv},
        "holdout": result.holdout,
        "baseline": result.baseline,
        "verdict": wording.verdict(card_dict),
        "tuning": result.tuning,
        "intervals": result.intervals,
        "model_path": model_path,
        "card": card_dict,
        "leaderboard": [entry.to_dict() for entry in result.leaderboard],
        "importances": [i.to_dict() for i in result.importances],
        # the sentences the chat shows for this training, from the same numbers
        "report": [wording.headline(card_dict), *wording.training_lines(card_dict)],
        "warnings": result.warnings,
    }
    options = file_options()
    if options.html is not None:  # the report shows the charts the chat's report shows
        options.charts = _charts(result)
    emit(data, as_json, _train_text(result, card_dict, model_path))


def _charts(result: Any) -> list[tuple[str, bytes]]:
    """The training's charts (as the chat's report has them), drawn for ``--html``."""
    from statbot.analysis.report.train_charts import training_charts
    from statbot.workflows.report import CHART_TITLES

    drawn = []
    for name, draw in training_charts(result).items():
        try:
            drawn.append((CHART_TITLES.get(name, name), draw()))
        except Exception as exc:  # the result is printed; a chart is not worth failing for
            typer.echo(
                f"warning: the {name.replace('_', ' ')} chart could not be drawn ({exc})", err=True
            )
    return drawn


def _train_text(result: Any, card: dict[str, Any], model_path: str | None) -> str:
    summary = result.cv_summary()
    lines = [
        f"task: {result.task}; model: {result.model_label}; rows: {result.n_rows} "
        f"({result.n_train} train, {result.n_holdout} holdout)",
        wording.headline(card).replace("*", ""),
        f"{result.cv_scheme['n_splits']}-fold CV {summary['metric']}: "
        f"{summary['mean']:.4f} ± {summary['std']:.4f}",
        "",
        text_table(
            ["metric", "cv mean", "cv std", "holdout", "baseline holdout"],
            [
                [m, v["mean"], v["std"], result.holdout.get(m), result.baseline["holdout"].get(m)]
                for m, v in result.cv.items()
            ],
        ),
        "",
        text_table(
            ["model", result.primary_metric, "std", "fit s", "status"],
            [[e.label, e.mean, e.std, e.fit_seconds, e.status] for e in result.leaderboard],
        ),
        "",
        text_table(
            ["feature", "importance", "std", "evidence of use"],
            [
                [i.feature, i.mean, i.std, "yes" if i.evidence else "no"]
                for i in result.importances[:15]
            ],
        ),
        "",
    ]
    for sentence in (
        wording.baseline_sentence(card),
        wording.tuning_sentence(card),
        wording.interval_sentence(card),
    ):
        if sentence:
            lines.append(sentence.replace("*", ""))
    lines += [f"warning: {w}" for w in result.warnings]
    lines.append(f"saved: {model_path}" if model_path else "not saved (use --out DIR to save)")
    return "\n".join(lines)


@commands.command()
def predict(
    file: FileArg,
    model: Annotated[Path, typer.Option("--model", help="A .skops model saved by statbot.")],
    out: Annotated[
        Path | None, typer.Option(help="Write the predictions CSV here instead of stdout.")
    ] = None,
    coverage: Annotated[
        float, typer.Option(help="Prediction-interval coverage of a regressor (0.8, 0.9, 0.95).")
    ] = 0.9,
    as_json: JsonOpt = False,
) -> None:
    """Predict with a saved model: the input rows plus prediction (and proba_<class>, or a
    regressor's interval) columns; scored when the file holds the target column."""
    from statbot.analysis.ml.predict import predict_frame
    from statbot.analysis.ml.saved import load_model_file
    from statbot.analysis.ml.scoring import prediction_lines

    if not model.exists():
        fail(f"no such model file: {model}")
    if not 0.0 < coverage < 1.0:
        fail("--coverage must be between 0 and 1, e.g. 0.9")
    frame = load(file)
    with user_errors():
        estimator, card = load_model_file(model)
        result = predict_frame(estimator, card, frame, level=coverage)
        report = prediction_lines(card, result)
    for warning in result.warnings:
        typer.echo(f"warning: {warning}", err=True)
    if not as_json:
        for line in report:
            typer.echo(line.replace("*", "").replace("`", ""), err=True)
    csv_bytes = result.to_csv_bytes()
    if out is not None:
        out.write_bytes(csv_bytes)
    if as_json:
        added = [c for c in result.frame.columns if c not in frame.columns]
        emit(
            {
                "model_id": card.model_id,
                "task": card.task,
                "rows": len(result.frame),
                "columns_added": added,
                "predictions": {c: result.frame[c].tolist() for c in added},
                **result.to_dict(),
                "report": report,
                "warnings": result.warnings,
                "out": str(out) if out is not None else None,
            },
            as_json=True,
        )
    elif out is None:
        typer.echo(csv_bytes.decode("utf-8"), nl=False)
    else:
        typer.echo(f"wrote {len(result.frame)} predictions to {out}", err=True)

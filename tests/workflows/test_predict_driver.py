"""/predict through the ChatDriver: choose a model (button, typed name, `latest`), send data,
get the rows back with predictions; mismatches with the model's card explained."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from statbot.engine.replies import Reply, ReplyKind
from statbot.testing import ChatDriver


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def save_iris_model(chat: ChatDriver, iris_csv: Path, name: str = "iris model") -> str:
    """A real model in the user's registry, trained in-process (small, fast)."""
    from statbot.analysis.ml.training import train

    frame = pd.read_csv(iris_csv)
    features = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    result = train(frame, "species", features, model="logistic", cv=3)
    card = chat.services.models.save(chat.key.user_id, result, name, idempotency_key=name)
    return str(card.model_id)


def read_csv(reply: Reply) -> pd.DataFrame:
    return pd.read_csv(reply.path or "")


async def test_no_models_yet(chat: ChatDriver) -> None:
    assert "You have no models yet" in said(await chat.send("/predict"))
    assert await chat.state() == (None, None)


async def test_predict_latest_on_new_rows(chat: ChatDriver, iris_csv: Path) -> None:
    save_iris_model(chat, iris_csv)
    await chat.send("/predict")
    assert chat.menu().options[0].label == "latest: iris model"
    asked = said(await chat.press("latest"))
    assert "Model *iris model* predicts *species*" in asked
    new_rows = iris_csv.parent / "new.csv"
    pd.read_csv(iris_csv).drop(columns=["species"]).iloc[::10].to_csv(new_rows, index=False)
    replies = await chat.upload(new_rows)
    assert "15 predictions of *species*" in said(replies)
    [doc] = [r for r in replies if r.kind is ReplyKind.DOCUMENT]
    assert doc.file_name == "predictions_new.csv"
    out = read_csv(doc)
    assert len(out) == 15 and any(c.startswith("prediction") for c in out.columns)
    assert await chat.state() == (None, None)


async def test_mismatches_typos_and_stale_buttons(chat: ChatDriver, iris_csv: Path) -> None:
    save_iris_model(chat, iris_csv)
    await chat.send("/predict")
    token = chat.menu().token
    assert "Did you mean 'iris model'" in said(await chat.send("iris modle"))
    await chat.send("iris model")
    stale = said(await chat.press_id("latest", token=token))
    assert "This menu is out of date" in stale and "Send the new data" in stale
    missing = iris_csv.parent / "missing.csv"
    pd.read_csv(iris_csv).drop(columns=["species", "petal_width"]).to_csv(missing, index=False)
    explained = said(await chat.upload(missing))
    assert "petal_width" in explained
    assert await chat.state() == ("predict", "data")  # still waiting for usable data
    assert "Which model should predict" in said(await chat.send("/back"))
    assert "cancel" in said(await chat.send("/cancel")).lower()


async def test_a_model_deleted_meanwhile_is_said_in_words(chat: ChatDriver, iris_csv: Path) -> None:
    # The user's last model is deleted (from another chat) while /predict waits for a choice.
    model_id = save_iris_model(chat, iris_csv)
    await chat.send("/predict")
    chat.services.models.delete(chat.key.user_id, model_id)
    answer = said(await chat.press("latest"))
    assert "no models" in answer.lower()
    assert "went wrong" not in answer


async def test_a_file_with_the_target_is_scored(chat: ChatDriver, iris_csv: Path) -> None:
    # The training file itself, species included: the reply scores the predictions against it.
    save_iris_model(chat, iris_csv)
    await chat.send("/predict")
    await chat.press("latest")
    text = said(await chat.upload(iris_csv))
    assert "150 predictions of *species*" in text
    assert "Scored against the 'species' column of this file (150 rows): accuracy" in text
    assert "Confusion matrix (rows: actual, columns: predicted):" in text
    assert "setosa" in text.split("Confusion matrix")[1]
    # rows without the target are predicted but not scored, and the reply says so
    gaps = iris_csv.parent / "gaps.csv"
    frame = pd.read_csv(iris_csv)
    frame.loc[:9, "species"] = None
    frame.to_csv(gaps, index=False)
    await chat.send("/predict")
    await chat.press("latest")
    text = said(await chat.upload(gaps))
    assert "(140 rows)" in text and "Rows not scored: 10 without a value." in text


async def test_regressor_predictions_carry_their_interval(chat: ChatDriver, iris_csv: Path) -> None:
    from statbot.analysis.ml.training import train

    frame = pd.read_csv(iris_csv)
    features = ["sepal_length", "sepal_width", "petal_length"]
    result = train(frame, "petal_width", features, model="linear", cv=3)
    chat.services.models.save(chat.key.user_id, result, "petal", idempotency_key="petal")
    await chat.send("/predict")
    await chat.press("latest")
    replies = await chat.upload(iris_csv)
    text = said(replies)
    assert "90% prediction interval" in text
    assert "columns prediction_lower and prediction_upper" in text
    assert "The intervals held" in text and "Scored against the 'petal_width' column" in text
    [doc] = [r for r in replies if r.kind is ReplyKind.DOCUMENT]
    out = read_csv(doc)
    assert (out["prediction_lower"] < out["prediction"]).all()
    assert (out["prediction"] < out["prediction_upper"]).all()


async def test_a_file_at_the_model_step_is_taken_when_there_is_one_model(
    chat: ChatDriver, iris_csv: Path
) -> None:
    save_iris_model(chat, iris_csv)
    await chat.send("/predict")
    assert "Which model should predict" in chat.menu().text
    text = said(await chat.upload(iris_csv))
    assert "Using your model *iris model*." in text
    assert "150 predictions of *species*" in text
    # the training file itself: scored, and said to be the rows the model has seen
    assert "These are the rows the model was trained on; the scores are optimistic" in text
    assert await chat.state() == (None, None)


async def test_a_file_at_the_model_step_with_two_models_asks_for_the_model(
    chat: ChatDriver, iris_csv: Path
) -> None:
    save_iris_model(chat, iris_csv)
    save_iris_model(chat, iris_csv, name="second")
    await chat.send("/predict")
    text = said(await chat.upload(iris_csv))
    assert "You have 2 models: pick the one to predict with first" in text
    assert await chat.state() == ("predict", "model")


async def test_new_rows_are_not_said_to_be_the_training_rows(
    chat: ChatDriver, iris_csv: Path
) -> None:
    save_iris_model(chat, iris_csv)
    half = iris_csv.parent / "half.csv"
    pd.read_csv(iris_csv).iloc[::2].to_csv(half, index=False)
    await chat.send("/predict")
    await chat.press("latest")
    text = said(await chat.upload(half))
    assert "Scored against the 'species' column" in text
    assert "trained on" not in text

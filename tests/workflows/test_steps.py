"""The declared shared steps (workflows/steps.py): one data step used by /train, /predict,
/stats and /explore, and the pick-one step behind /predict's and /models' model choice."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from tests.workflows.test_predict_driver import save_iris_model

from statbot.engine.replies import Reply, ReplyKind
from statbot.testing import ChatDriver
from statbot.workflows.explore import EXPLORE
from statbot.workflows.predict import PREDICT
from statbot.workflows.stats import STATS
from statbot.workflows.steps import DataStep
from statbot.workflows.train import TRAIN


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def test_the_four_conversations_declare_the_one_data_step() -> None:
    for workflow in (TRAIN, PREDICT, STATS, EXPLORE):
        state = workflow.state("data")
        step = getattr(state.on_event, "__self__", None)
        assert isinstance(step, DataStep), workflow.name
        assert state.on_enter == step.enter and state.accepts == step.states()[0].accepts
        header = workflow.state(step.header_state)  # and its header-row check
        assert header.on_event == step.on_header and header.next == state.next


async def test_a_file_with_a_request_is_the_data_not_the_last_dataset(
    chat: ChatDriver, iris_csv: Path, diabetes_csv: Path
) -> None:
    # /explore took the last dataset for a captioned file (its data step ignored the upload).
    await chat.send("/stats")
    await chat.upload(diabetes_csv)
    await chat.send("/cancel")
    overview = said(await chat.upload(iris_csv, caption="explore it"))
    assert "*iris.csv*: 150 rows × 5 columns." in overview
    assert "diabetes" not in overview
    assert await chat.state() == ("explore", "columns")


async def test_predict_on_a_captioned_file_skips_both_questions(
    chat: ChatDriver, iris_csv: Path
) -> None:
    save_iris_model(chat, iris_csv)
    new_rows = iris_csv.parent / "new.csv"
    pd.read_csv(iris_csv).drop(columns=["species"]).iloc[::30].to_csv(new_rows, index=False)
    replies = await chat.upload(new_rows, caption="predict with it")
    assert "5 predictions of *species*" in said(replies)
    assert [r.file_name for r in replies if r.kind is ReplyKind.DOCUMENT] == ["predictions_new.csv"]
    assert await chat.state() == (None, None)


async def test_models_are_picked_by_id_start_or_a_word_for_the_newest(
    chat: ChatDriver, iris_csv: Path
) -> None:
    first = save_iris_model(chat, iris_csv, name="first")
    save_iris_model(chat, iris_csv, name="second")
    await chat.send("/predict")
    assert "Please choose one of the buttons" in said(await chat.press_id("no-such-model"))
    assert "Model *first* predicts" in said(await chat.send(first[:6]))
    await chat.send("/back")
    assert "Model *second* predicts" in said(await chat.send("newest"))
    await chat.send("/cancel")
    await chat.send("/models")
    await chat.send(first[:5])
    assert await chat.state() == ("models", "card") and f"id `{first}`" in chat.last_text()


async def test_train_refuses_a_last_dataset_of_one_column(chat: ChatDriver, tmp_path: Path) -> None:
    # The one-column check of /train's data step holds for every way a dataset comes in.
    single = tmp_path / "single.csv"
    single.write_text("x\n" + "\n".join(str(i) for i in range(20)) + "\n")
    await chat.send("/explore")
    await chat.upload(single)
    await chat.send("/cancel")
    replies = said(await chat.send("train a random forest to predict x"))
    assert "Using your last dataset" in replies and "has only one column" in replies
    assert await chat.state() == ("train", "data")

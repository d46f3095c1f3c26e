"""One-shot requests pre-fill /train and ask only what is missing (issue #4 "Context")."""

from __future__ import annotations

from statbot.sandbox.client import SandboxClient
from tests.channels.telegram.conftest import BotInSandbox
from tests.support.sandbox_user import do, iris_csv, wait_for_text


async def test_caption_request_prefills_the_whole_training(bot: BotInSandbox) -> None:
    client: SandboxClient = bot.client
    chat = await do(
        client,
        client.upload(iris_csv(), "iris.csv", caption="train a random forest to predict species"),
    )
    texts = [m.text or "" for m in chat.bot_messages]
    assert any("Column types" in t for t in texts), texts
    from tests.support.sandbox_user import press_label

    chat = await do(client, press_label(client, chat, "Looks right"))
    last = chat.bot_messages[-1].text or ""
    # target, features and model came from the request: straight to the confirmation
    assert last.lower().startswith("ready to train random forest to predict species"), last
    await press_label(client, chat, "Train")
    chat = await wait_for_text(client, "Model trained")

    # "now predict with it" resolves to the model just trained
    chat = await do(client, client.send("now predict with it"))
    assert "Send the new data" in (chat.bot_messages[-1].text or "")


async def test_unknown_target_in_request_asks_with_a_suggestion(bot: BotInSandbox) -> None:
    client = bot.client
    chat = await do(
        client, client.upload(iris_csv(), "iris.csv", caption="train a model to predict specis")
    )
    from tests.support.sandbox_user import press_label

    chat = await do(client, press_label(client, chat, "Looks right"))
    texts = [m.text or "" for m in chat.bot_messages[-2:]]
    assert any("Did you mean 'species'" in t for t in texts), texts
    assert "predict (the target)" in texts[-1]


async def test_describe_it_and_what_about_correlation_use_the_last_dataset(
    bot: BotInSandbox,
) -> None:
    from tests.support.sandbox_user import press_label

    client = bot.client
    chat = await do(client, client.send("/stats"))
    chat = await do(client, client.upload(iris_csv(), "iris.csv"))
    chat = await do(client, client.send("/cancel"))
    await client.send("what about correlation?")
    await wait_for_text(client, "Using your last dataset", within=30)
    chat = await client.wait_idle(1000, within=30)
    texts = [m.text or "" for m in chat.bot_messages[-3:]]
    assert any("Using your last dataset" in t for t in texts), texts
    assert "Which analysis?" not in texts[-1], "the analysis came from the request"
    assert chat.bot_messages[-1].buttons, texts
    del press_label

"""Full /train → /predict through the real bot (PTB client, ingress, sender, engine, jobs in
subprocesses) against the sandbox Bot API over HTTP: uploads, button presses, the progress bar
edited in place, charts as photos, predictions as a CSV document."""

from __future__ import annotations

import csv
import io

from tests.channels.telegram.conftest import BotInSandbox
from tests.support.sandbox_user import do, iris_csv, press_label, wait_for_text


async def test_train_then_predict(bot: BotInSandbox) -> None:
    client = bot.client
    await do(client, client.send("/train"))
    chat = await do(client, client.upload(iris_csv(), "iris.csv"))
    assert "Column types" in (chat.bot_messages[-1].text or "")
    chat = await do(client, press_label(client, chat, "Looks right"))
    chat = await do(client, client.send("specis"))  # a typo gets a suggestion, nothing moves
    assert "Did you mean 'species'" in (chat.bot_messages[-1].text or "")
    chat = await do(client, client.send("species"))
    assert "learn from" in (chat.bot_messages[-1].text or "")
    chat = await do(client, press_label(client, chat, "Done"))
    chat = await do(client, client.send("random forest"))  # typed where buttons were offered
    await press_label(client, chat, "Train")
    chat = await wait_for_text(client, "Model trained")
    texts = [m.text or m.caption or "" for m in chat.bot_messages]
    report = next(t for t in texts if "Model trained" in t)
    assert "accuracy" in report and "statbot analyze train" in report
    bars = [m for m in chat.bot_messages if (m.text or "").startswith(("█", "░"))]
    assert len(bars) == 1 and bars[0].edited and "100%" in (bars[0].text or ""), "one bar, edited"
    assert any(m.photo for m in chat.bot_messages), "charts come as photos"

    chat = await do(client, client.send("/predict"))
    chat = await do(client, press_label(client, chat, "latest"))
    await client.upload(iris_csv(drop_target=True), "new.csv")
    chat = await wait_for_text(client, "predictions of", within=60)
    document = chat.bot_messages[-1].document
    assert document is not None, [m.text for m in chat.bot_messages[-3:]]
    rows = list(csv.DictReader(io.StringIO((await client.download(document["url"])).decode())))
    assert len(rows) == 12 and rows[0]["prediction"] == "setosa"
    assert any(k.startswith("proba_") for k in rows[0])

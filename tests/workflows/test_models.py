"""/models through the ChatDriver: list (newest first), card, rename, delete (confirmed),
download, and the mistakes users make."""

from __future__ import annotations

import json
from pathlib import Path

from statbot.engine.replies import Reply, ReplyKind
from statbot.testing import ChatDriver


def read_json(reply: Reply) -> dict[str, object]:
    data: dict[str, object] = json.loads(Path(reply.path or "").read_text())
    return data


def said(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


def save_model(chat: ChatDriver, name: str, target: str, key: str) -> str:
    """A real trained model in the user's registry (trained in-process: small and fast)."""
    from sklearn.datasets import load_iris

    from statbot.analysis.ml.training import train

    frame = load_iris(as_frame=True).frame.rename(columns=lambda c: c.replace(" (cm)", ""))
    frame["target"] = frame["target"].map({0: "setosa", 1: "versicolor", 2: "virginica"})
    if target != "target":
        frame = frame.drop(columns=["target"])
    features = [c for c in frame.columns if c != target]
    result = train(
        frame, target, features, model="linear" if target != "target" else "logistic", cv=3
    )
    card = chat.services.models.save(chat.key.user_id, result, name, idempotency_key=key)
    return str(card.model_id)


async def test_no_models_yet(chat: ChatDriver) -> None:
    assert "You have no models yet — /train one." in said(await chat.send("/models"))
    assert await chat.state() == (None, None)


async def test_card_rename_download_delete(chat: ChatDriver) -> None:
    first = save_model(chat, "species model", "target", "k1")
    second = save_model(chat, "petal model", "petal length", "k2")
    await chat.send("/models")
    menu = chat.menu()
    assert "2 models, newest first" in menu.text
    assert {o.id for o in menu.options} == {first, second}
    card = said(await chat.send("species modl"))  # a typo: closest suggestion
    assert "Did you mean 'species model" in card
    card = said(await chat.send("species model"))
    assert f"*species model* (id `{first}`)" in card
    assert "Task: multiclass, model: logistic regression\n" in card  # the label, not "logistic"
    assert "baseline (always predicting the most common class" in card
    assert "Target: *target* (classes: setosa, versicolor, virginica)" in card
    assert "Cross-validated" in card and "Versions:" in card
    assert [o.label for o in chat.menu().options] == [
        "Rename",
        "Delete",
        "Download",
        "Back to list",
    ]
    # download: the model file and its card
    replies = await chat.press("Download")
    docs = [r for r in replies if r.kind is ReplyKind.DOCUMENT]
    assert [d.file_name for d in docs] == ["species_model.skops", "species_model.json"]
    assert read_json(docs[1])["model_id"] == first
    # rename
    await chat.press("Rename")
    assert "Type the new name" in chat.last_text()
    pressed = said(await chat.press_id("rename"))  # the card's button, pressed again
    assert "This menu is out of date.\nType the new name." in pressed
    renamed = said(await chat.send("  iris   species  "))
    assert 'Renamed to "iris species"' in renamed and "*iris species*" in renamed
    assert chat.services.models.get_card(chat.key.user_id, first).name == "iris species"
    # delete: asked first; No keeps it
    await chat.press("Delete")
    assert "cannot be undone" in chat.menu().text
    assert "Please answer" in said(await chat.send("perhaps"))
    assert "Kept." in said(await chat.press("No"))
    await chat.press("Delete")
    deleted = said(await chat.press("Yes"))
    assert "Deleted." in deleted and "1 model, newest first" in deleted
    assert [c.model_id for c in chat.services.models.list(chat.key.user_id)] == [second]
    await chat.send(second[:6])
    await chat.press("Delete")
    assert "You have no models yet" in said(await chat.press("Yes"))
    assert await chat.state() == (None, None)
    # each deletion is in the audit log, by the model's id (issue 12)
    assert chat.services.access is not None
    logged = chat.services.access.audit.recent(chat.key.user_id)
    deleted_ids = [e.detail["model"] for e in logged if e.action == "model_deleted"]
    assert deleted_ids == [second, first]


async def test_stale_menu_back_and_cancel(chat: ChatDriver) -> None:
    model_id = save_model(chat, "species model", "target", "k1")
    await chat.send("/models")
    list_token = chat.menu().token
    await chat.press("species")
    stale = said(await chat.press_id(model_id, token=list_token))
    assert "This menu is out of date" in stale and "*species model*" in stale
    assert chat.menu().options[0].label == "Rename" and chat.menu().token != list_token
    assert "Your models" in said(await chat.send("/back"))
    await chat.press("species")
    assert "Your models" in said(await chat.press("Back to list"))
    await chat.press("species")
    assert "Choose what to do" in said(await chat.send("fly me to the moon"))
    assert "cancel" in said(await chat.send("/cancel")).lower()
    assert await chat.state() == (None, None)
    assert chat.services.models.list(chat.key.user_id)  # nothing deleted

"""ChatDriver: a scripted user on the real engine (statbot.testing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from statbot.engine.events import EventKind
from statbot.engine.replies import DONE_OPTION, Option, Reply
from statbot.engine.workflow import Context, State, Workflow, WorkflowRegistry
from statbot.testing import ChatDriver, render_reply

COLOURS = [Option("r", "red"), Option("g", "green"), Option("b", "blue")]


async def enter_pick(ctx: Context) -> None:
    ctx.reply(Reply.ask("Colours?", COLOURS, multi=True, selected=tuple(ctx.data.get("on", []))))


async def on_pick(ctx: Context) -> None:
    on = list(ctx.data.get("on", []))
    event = ctx.event
    if event.kind is EventKind.CHOICE and event.choice != DONE_OPTION:
        on = [c for c in on if c != event.choice] if event.choice in on else [*on, event.choice]
        ctx.data["on"] = on
        await enter_pick(ctx)
        return
    if event.kind is EventKind.UPLOAD and event.upload is not None:
        ctx.reply(f"got {event.upload.file_name} ({event.upload.size} bytes)")
        return
    ctx.reply(Reply.progress("p1", 0.5, "half"), Reply.progress("p1", 1.0, "all"))
    ctx.reply(Reply.image("/x/chart.png", "A chart"), Reply.document("/x/t.csv", "t.csv", "Table"))
    ctx.reply(f"you chose {', '.join(on) or 'nothing'}")
    ctx.goto("end")


PICK = Workflow(
    name="pick",
    command="pick",
    description="pick colours",
    start="pick",
    states=(
        State(
            "pick",
            on_enter=enter_pick,
            on_event=on_pick,
            next=("end",),
            accepts=frozenset({EventKind.TEXT, EventKind.CHOICE, EventKind.UPLOAD}),
        ),
        State("end", prompt="Bye.", final=True),
    ),
)


@pytest.fixture
async def driver(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with ChatDriver(tmp_path, registry=WorkflowRegistry([PICK]), first_update_id=100) as d:
        yield d


async def test_press_by_label_toggle_done_and_the_transcript(driver: ChatDriver) -> None:
    await driver.send("/pick")
    assert driver.menu().multi
    assert driver.menu().selected == ()
    await driver.press("Gre")  # a label prefix, case-insensitive
    await driver.press("blue")
    assert driver.menu().selected == ("g", "b")
    replies = await driver.press("Done")
    assert replies[-2].text == "you chose g, b"
    assert await driver.state() == (None, None)
    assert driver.transcript() == "\n".join(
        [
            "> /pick",
            "Colours?\n[buttons: [ ] red | [ ] green | [ ] blue | Done]",
            "> [presses green]",
            "Colours?\n[buttons: [ ] red | [x] green | [ ] blue | Done]",
            "> [presses blue]",
            "Colours?\n[buttons: [ ] red | [x] green | [x] blue | Done]",
            "> [presses Done]",
            "[progress 100%: all]",  # updated in place: only its latest value
            "[image: A chart]",
            "[document: t.csv — Table]",
            "you chose g, b",
            "Bye.",
        ]
    )


async def test_update_ids_stale_tokens_uploads_and_marks(
    driver: ChatDriver, tmp_path: Path
) -> None:
    await driver.send("/pick")
    old = driver.menu().token
    mark = driver.mark()
    data = tmp_path / "f.csv"
    data.write_text("a\n1\n")
    assert (await driver.upload(data))[-1].text == "got f.csv (4 bytes)"
    assert driver.transcript(mark) == "> [uploads f.csv]\ngot f.csv (4 bytes)"
    await driver.send("/pick")  # a new menu: the old token is stale now
    stale = await driver.press_id("r", token=old)
    assert stale[0].text == "This menu is out of date."
    with pytest.raises(LookupError, match="no button starting with 'purple'"):
        await driver.press("purple")
    session = await driver.manager.store.load(driver.key)
    assert session is not None and session.last_update_id == 103  # 100, 101, 102, 103


async def test_wait_for_times_out_with_the_last_reply(driver: ChatDriver) -> None:
    await driver.send("hello")
    with pytest.raises(TimeoutError, match="not met"):
        await driver.wait_for(lambda replies: False, seconds=0.2)
    assert render_reply(Reply.say("plain")) == "plain"


async def test_a_given_store_carries_the_conversation_across_drivers(tmp_path: Path) -> None:
    from statbot.engine.stores import open_store

    registry = WorkflowRegistry([PICK])
    store = open_store("sqlite", sqlite_path=str(tmp_path / "sessions.sqlite3"))
    try:
        async with ChatDriver(tmp_path, registry=registry, store=store) as first:
            await first.send("/pick")
            await first.press("red")
        # a second process on the same store: the ticked box is still there
        async with ChatDriver(
            tmp_path, registry=registry, store=store, first_update_id=10
        ) as second:
            replies = await second.send("done")
            assert "you chose r" in [r.text for r in replies]
    finally:
        await store.close()

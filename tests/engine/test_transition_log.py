"""One INFO line per step transition (issue 15): user, workflow, from -> to, event; no values."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from statbot.engine import (
    ConversationKey,
    Dispatcher,
    Event,
    EventKind,
    Session,
    WorkflowRegistry,
)

KEY = ConversationKey("test", 4242, 42)  # chat 4242, user 42
LOGGER = "statbot.engine.transitions"


async def apply(
    dispatcher: Dispatcher, session: Session, update_id: int, kind: EventKind, **fields: Any
) -> None:
    await dispatcher.apply(session, Event.from_update(KEY, update_id, kind, **fields))


def lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


async def test_every_entry_and_the_end_is_one_info_line(
    registry: WorkflowRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="statbot")
    dispatcher, session = Dispatcher(registry), Session(KEY)
    await apply(dispatcher, session, 1, EventKind.COMMAND, text="survey")
    await apply(dispatcher, session, 2, EventKind.TEXT, text="Zelda Quux")
    await apply(dispatcher, session, 3, EventKind.TEXT, text="blue")
    await apply(dispatcher, session, 4, EventKind.TEXT, text="yes")
    assert lines(caplog) == [
        "user 42 survey: (start) -> name (event u1)",
        "user 42 survey: name -> colour (event u2)",
        "user 42 survey: colour -> confirm (event u3)",
        "user 42 survey: confirm -> (end) (event u4)",
    ]
    records = [r for r in caplog.records if r.name == LOGGER]
    assert {r.levelno for r in records} == {logging.INFO}
    # %-style: the values are arguments, the template is fixed (one line shape to grep for).
    assert {r.msg for r in records} == {"user %s %s: %s -> %s (event %s)"}
    everything = " ".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    assert "Zelda" not in everything and "Quux" not in everything


async def test_goto_back_to_an_earlier_step_and_cancel(
    registry: WorkflowRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    dispatcher, session = Dispatcher(registry), Session(KEY)
    await apply(dispatcher, session, 10, EventKind.COMMAND, text="survey")
    await apply(dispatcher, session, 11, EventKind.TEXT, text="Ada")
    await apply(dispatcher, session, 12, EventKind.TEXT, text="red")
    await apply(dispatcher, session, 13, EventKind.TEXT, text="no")  # confirm -> name
    assert lines(caplog)[-1] == "user 42 survey: confirm -> name (event u13)"
    caplog.clear()
    await apply(dispatcher, session, 14, EventKind.TEXT, text="Bob")  # name -> colour
    await apply(dispatcher, session, 15, EventKind.COMMAND, text="back")
    assert lines(caplog)[-1] == "user 42 survey: colour -> name (event u15)"
    caplog.clear()
    await apply(dispatcher, session, 16, EventKind.COMMAND, text="cancel")
    assert lines(caplog) == ["user 42 survey: name -> (end) (event u16)"]
    assert session.workflow is None


async def test_switching_workflows_ends_one_and_starts_the_other(
    registry: WorkflowRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    dispatcher, session = Dispatcher(registry), Session(KEY)
    await apply(dispatcher, session, 1, EventKind.COMMAND, text="survey")
    await apply(dispatcher, session, 2, EventKind.COMMAND, text="count")
    got = lines(caplog)
    assert got[0] == "user 42 survey: (start) -> name (event u1)"
    assert got[1].startswith("user 42 survey: name -> (end) (event ")
    assert got[2] == "user 42 counter: (start) -> counting (event u2)"
    assert len(got) == 3


async def test_events_that_do_not_move_log_nothing(
    registry: WorkflowRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    dispatcher, session = Dispatcher(registry), Session(KEY)
    await apply(dispatcher, session, 1, EventKind.COMMAND, text="survey")
    await apply(dispatcher, session, 2, EventKind.TEXT, text="Ada")
    caplog.clear()
    await apply(dispatcher, session, 3, EventKind.TEXT, text="green")  # re-asked, stays
    await apply(dispatcher, session, 4, EventKind.COMMAND, text="help")
    await apply(dispatcher, session, 5, EventKind.COMMAND, text="start")
    assert lines(caplog) == []
    assert session.state == "colour"


async def test_at_warning_level_nothing_is_formatted(
    registry: WorkflowRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="statbot")
    dispatcher, session = Dispatcher(registry), Session(KEY)
    await apply(dispatcher, session, 1, EventKind.COMMAND, text="survey")
    assert lines(caplog) == []

"""Dispatcher: one event applied to a session, no store, no transport."""

from __future__ import annotations

import logging

import pytest

from statbot.engine import (
    ConversationKey,
    Dispatcher,
    Event,
    EventKind,
    ReplyKind,
    Session,
    SessionStatus,
    Upload,
    WorkflowRegistry,
)

KEY = ConversationKey("test", 7, 7)


class Chat:
    """Drives a Dispatcher like a user would; keeps the last menu token it was shown."""

    def __init__(self, registry: WorkflowRegistry, session: Session | None = None) -> None:
        self.dispatcher = Dispatcher(registry, history_limit=10)
        self.session = session or Session(KEY)
        self.update_id = 0
        self.token = ""
        self.last = None

    async def send(self, kind: EventKind, **fields: object):
        self.update_id += 1
        event = Event.from_update(KEY, self.update_id, kind, **fields)
        out = await self.dispatcher.apply(self.session, event)
        for reply in out.replies:
            if reply.kind is ReplyKind.CHOICES:
                self.token = reply.token
        self.last = out
        return out

    async def cmd(self, name: str, args: str = ""):
        return await self.send(EventKind.COMMAND, text=name, args=args)

    async def text(self, text: str):
        return await self.send(EventKind.TEXT, text=text)

    async def choose(self, option: str, token: str | None = None):
        return await self.send(
            EventKind.CHOICE, choice=option, token=self.token if token is None else token
        )


def texts(out) -> list[str]:
    return [r.text for r in out.replies]


async def test_start_lists_workflows_with_descriptions(registry):
    chat = Chat(registry)
    out = await chat.cmd("start")
    body = "\n".join(texts(out))
    for wf in registry:
        assert f"/{wf.command} — {wf.description}" in body
    assert chat.session.workflow is None


async def test_walkthrough_collects_data_and_finishes(registry):
    chat = Chat(registry)
    out = await chat.cmd("survey")
    assert texts(out) == ["What is your name?"]
    assert chat.session.state == "name"
    out = await chat.text("Ada")
    assert out.replies[-1].kind is ReplyKind.CHOICES
    assert out.replies[-1].token == chat.session.menu != ""
    assert chat.session.data == {"name": "Ada"}
    await chat.choose("blue")
    assert chat.session.state == "confirm"
    out = await chat.choose("yes")
    assert texts(out) == ["Saved."]
    assert chat.session.workflow is None and chat.session.data == {}
    assert chat.session.context["saved"] == [{"name": "Ada", "colour": "blue"}]


async def test_menu_token_changes_per_state_entry_and_stale_press_is_refused(registry):
    chat = Chat(registry)
    await chat.cmd("survey")
    await chat.text("Ada")
    colour_token = chat.token
    await chat.choose("red")
    assert chat.session.state == "confirm"
    assert chat.token != colour_token
    out = await chat.choose("blue", token=colour_token)  # an old button
    assert texts(out)[0] == "This menu is out of date."
    assert out.replies[-1].kind is ReplyKind.CHOICES  # the current prompt again
    assert chat.session.data["colour"] == "red"
    assert chat.session.state == "confirm"


async def test_help_in_state_and_when_idle(registry):
    chat = Chat(registry)
    out = await chat.cmd("help")
    assert "/survey — a short survey" in texts(out)[0]
    await chat.cmd("survey")
    await chat.text("Ada")
    out = await chat.cmd("help")
    assert texts(out)[0] == "Pick a colour."
    assert out.replies[1].kind is ReplyKind.CHOICES
    assert chat.session.state == "colour"


async def test_back_restores_previous_state_and_its_data(registry):
    chat = Chat(registry)
    await chat.cmd("survey")
    await chat.text("Ada")
    await chat.choose("red")
    assert chat.session.data == {"name": "Ada", "colour": "red"}
    out = await chat.cmd("back")
    assert chat.session.state == "colour"
    assert chat.session.data == {"name": "Ada"}  # the colour answer is undone
    assert out.replies[-1].kind is ReplyKind.CHOICES
    await chat.cmd("back")
    assert chat.session.state == "name" and chat.session.data == {}
    out = await chat.cmd("back")
    assert "first step" in texts(out)[0]
    assert chat.session.state == "name"


async def test_cancel_leaves_and_clears(registry):
    chat = Chat(registry)
    out = await chat.cmd("cancel")
    assert "nothing to cancel" in texts(out)[0]
    await chat.cmd("survey")
    await chat.text("Ada")
    out = await chat.cmd("cancel")
    assert "Cancelled" in texts(out)[0]
    s = chat.session
    assert (s.workflow, s.state, s.data, s.stack, s.menu) == (None, None, {}, [], "")


async def test_prerequisite_blocks_with_its_message_and_session_does_not_move(registry):
    chat = Chat(registry)
    await chat.cmd("survey")
    await chat.text("Ada")
    out = await chat.cmd("review")
    assert texts(out) == ["Nothing saved yet — run /survey first."]
    assert (chat.session.workflow, chat.session.state) == ("survey", "colour")
    assert chat.session.data == {"name": "Ada"}


async def test_starting_another_workflow_says_it_leaves(registry):
    chat = Chat(registry)
    await chat.cmd("survey")
    await chat.text("Ada")
    await chat.choose("red")
    await chat.choose("yes")
    await chat.cmd("survey")
    out = await chat.cmd("review")
    assert "Leaving *a short survey*" in texts(out)[0]
    assert "You saved 1 answer(s)." not in texts(out)
    out = await chat.text("ok")
    assert texts(out) == ["You saved 1 answer(s)."]


async def test_unexpected_kind_says_what_was_expected(registry):
    chat = Chat(registry)
    await chat.cmd("survey")
    out = await chat.send(EventKind.UPLOAD, upload=Upload("a.csv", 3))
    assert texts(out)[0].startswith("I was expecting a button press or a message here")
    assert texts(out)[1] == "What is your name?"
    assert chat.session.state == "name"


async def test_idle_text_and_unknown_command_get_the_command_list(registry):
    chat = Chat(registry)
    out = await chat.text("hello")
    assert "/count — count what you say" in texts(out)[0]
    out = await chat.cmd("frobnicate")
    assert texts(out)[0].startswith("I don't know /frobnicate.")


@pytest.mark.parametrize("answer", ["boom", "bad-goto"])
async def test_handler_failure_is_logged_told_and_does_not_move(registry, caplog, answer):
    chat = Chat(registry)
    await chat.cmd("survey")
    await chat.text("Ada")
    await chat.choose("red")
    before = (chat.session.state, dict(chat.session.data), list(chat.session.stack))
    with caplog.at_level(logging.ERROR, logger="statbot.engine.dispatch"):
        out = await chat.text(answer)
    assert out.failed
    assert "something went wrong" in texts(out)[0]
    assert (chat.session.state, chat.session.data, chat.session.stack) == before
    record = next(r for r in caplog.records if "failed" in r.getMessage())
    assert record.exc_info is not None
    # still usable afterwards
    out = await chat.text("yes")
    assert texts(out) == ["Saved."]


async def test_quarantine_resets_unknown_state(registry):
    session = Session(KEY, workflow="survey", state="removed-step", data={"x": 1})
    chat = Chat(registry, session)
    out = await chat.text("hi")
    assert out.quarantined
    assert "no longer exists" in texts(out)[0]
    assert session.workflow is None and session.data == {}
    session.workflow, session.state = "gone", "name"
    out = await chat.cmd("survey")
    assert out.quarantined and session.state == "name"


async def test_grace_resume_offers_continue_or_start_over(registry):
    chat = Chat(registry)
    await chat.cmd("survey")
    await chat.text("Ada")
    chat.session.status = SessionStatus.GRACE
    chat.session.grace_until = 123.0
    out = await chat.text("red")
    assert chat.session.status is SessionStatus.ACTIVE and chat.session.grace_until is None
    assert out.replies[0].text.startswith("Welcome back")
    assert [o.label for o in out.replies[0].options] == ["Continue", "Start over"]
    assert "colour" not in chat.session.data  # the message itself was not taken as an answer
    out = await chat.choose("__continue__")
    assert out.replies[-1].kind is ReplyKind.CHOICES and chat.session.state == "colour"
    chat.session.status = SessionStatus.GRACE
    await chat.text("x")
    await chat.choose("__start_over__")
    assert chat.session.workflow is None


async def test_forget_asks_then_requests_forget(registry):
    chat = Chat(registry)
    out = await chat.cmd("forget")
    assert out.replies[0].kind is ReplyKind.CHOICES and not out.forget
    out = await chat.choose("__forget_no__")
    assert not out.forget and texts(out)[0] == "Nothing was deleted."
    await chat.cmd("forget")
    out = await chat.choose("__forget_yes__")
    assert out.forget


async def test_handler_request_forget_sets_outcome(registry):
    chat = Chat(registry)
    await chat.cmd("survey")
    await chat.text("Ada")
    await chat.choose("red")
    out = await chat.text("forget me")
    assert out.forget and texts(out) == ["Forgetting you."]


async def test_history_is_bounded_and_records_both_sides(registry):
    chat = Chat(registry)
    await chat.cmd("count")
    for i in range(20):
        await chat.text(f"m{i}")
    history = chat.session.history
    assert len(history) == 10
    assert history[-2] == {"role": "user", "text": "m19", "at": history[-2]["at"]}
    assert history[-1]["role"] == "bot" and history[-1]["text"] == "got m19"


async def test_job_events_when_not_expected_are_quiet_or_relayed(registry):
    chat = Chat(registry)
    out = await chat.send(EventKind.JOB_PROGRESS, text="50%")
    assert out.replies == []
    out = await chat.send(EventKind.JOB_FINISHED, text="Your model is ready.")
    assert texts(out) == ["Your model is ready."]


async def test_workflow_on_cancel_runs_when_the_user_leaves(registry):
    from statbot.engine import Context, State, Workflow

    async def clean(ctx: Context) -> None:
        ctx.memory["cleaned"] = ctx.memory.get("cleaned", 0) + 1
        ctx.reply("Stopped the job.")

    async def noop(ctx: Context) -> None:
        return None

    job = Workflow(
        "job",
        "job",
        "a long job",
        "run",
        (State("run", prompt="Running.", on_event=noop, final=True),),
        on_cancel=clean,
    )
    chat = Chat(WorkflowRegistry([job, *registry]))
    await chat.cmd("job")
    out = await chat.cmd("cancel")
    assert texts(out)[0] == "Stopped the job." and chat.session.context["cleaned"] == 1
    await chat.cmd("job")
    out = await chat.cmd("survey")
    assert texts(out)[0] == "Stopped the job." and chat.session.workflow == "survey"
    await chat.cmd("job")
    chat.session.status = SessionStatus.GRACE
    await chat.text("hello?")
    out = await chat.choose("__start_over__")
    assert texts(out)[0] == "Stopped the job." and chat.session.context["cleaned"] == 3


async def test_a_button_whose_option_is_a_command_runs_it_from_any_menu(registry):
    """Issue 13: "What does this mean?" is a command button; pressed on an old menu, in the
    middle of a workflow or with none running, it is the command, not a stale press."""
    chat = Chat(registry)
    await chat.cmd("survey")
    old = chat.token
    await chat.text("Ada")  # a new state entry: the first menu is out of date
    out = await chat.choose("/survey", token=old)
    assert texts(out)[0] == "Starting *a short survey* again from the beginning."
    assert chat.session.state == "name"
    await chat.cmd("cancel")
    out = await chat.choose("/help", token="")  # idle, no menu at all
    assert "/survey — a short survey" in texts(out)[0]
    out = await chat.choose("/frobnicate now", token="")
    assert texts(out)[0].startswith("I don't know /frobnicate.")
    assert chat.session.history[-2]["text"] == "[/frobnicate now]"


async def test_a_quiet_exit_workflow_is_left_without_saying_so():
    """A reader (/kb_search) loses nothing when left: the next command just starts."""
    from dataclasses import replace

    from tests.engine.conftest import counter, survey

    quiet = replace(counter(), quiet_exit=True)
    chat = Chat(WorkflowRegistry([survey(), quiet]))
    await chat.cmd("count")
    out = await chat.cmd("survey")
    assert texts(out) == ["What is your name?"]
    out = await chat.cmd("count")
    assert texts(out)[0].startswith("Leaving *a short survey*")

"""What the engine itself says (built-in commands, errors, expiry), in the neutral markup.

Kept apart from the routing so the wording can be read and changed in one place.
"""

from __future__ import annotations

from collections.abc import Iterable

from statbot.engine.events import EventKind
from statbot.engine.replies import Option
from statbot.engine.workflow import Workflow

BUILTIN_HELP = (
    ("help", "what to do at this step"),
    ("back", "go back one step"),
    ("cancel", "leave the current task"),
    ("forget", "delete everything I keep about you"),
)

STALE_MENU = "This menu is out of date."
SESSION_DAMAGED = (
    "I could not read what I had saved of our conversation (the record was damaged, or written "
    "by a newer version of me), so we start afresh. Your datasets and models are not affected."
)
NOTHING_TO_CANCEL = "There is nothing to cancel — you are not in the middle of anything."
NOTHING_TO_GO_BACK_TO = "There is nothing to go back to — you are not in the middle of anything."
AT_FIRST_STEP = "This is the first step, so there is nothing to go back to (/cancel leaves)."
QUARANTINED = (
    "The task you were in no longer exists in this version of the bot, so I have reset our "
    "conversation. Your files are still there."
)
SOMETHING_WENT_WRONG = (
    "Sorry — something went wrong on my side while handling that. Nothing was changed: you "
    "can try again, go /back or /cancel."
)
WELCOME_BACK = "Welcome back — continue where you left off, or start over?"
CONTINUE_OPT = Option("__continue__", "Continue")
OVER_OPT = Option("__start_over__", "Start over")
FORGET_CONFIRM = (
    "This deletes every conversation, dataset and model I keep for you. It cannot be undone. "
    "Delete everything?"
)
FORGET_YES_OPT = Option("__forget_yes__", "Yes, delete everything")
FORGET_NO_OPT = Option("__forget_no__", "No, keep it")
FORGOTTEN = "Done — I deleted everything I kept about you. Send /start to begin again."
NOT_FORGOTTEN = "Nothing was deleted."
PAYMENTS_OFF = "This bot does not sell anything at the moment; nothing was charged."
PAYMENT_FAILED = "Sorry — I could not check this payment just now; nothing was charged."

_KIND_WORDS = {
    EventKind.TEXT: "a message",
    EventKind.CHOICE: "a button press",
    EventKind.UPLOAD: "a file",
    EventKind.COMMAND: "a command",
    EventKind.JOB_PROGRESS: "job progress",
    EventKind.JOB_FINISHED: "a finished job",
    EventKind.TIMER: "a timer",
    EventKind.PRE_CHECKOUT: "a payment",
    EventKind.PAYMENT: "a payment",
    EventKind.REFUND: "a refund",
    EventKind.REFUND_RESULT: "a refund",
}
_ORDER = (EventKind.CHOICE, EventKind.TEXT, EventKind.UPLOAD)


def command_list(workflows: Iterable[Workflow]) -> str:
    lines = [f"/{w.command} — {w.description}" for w in workflows]
    lines += [f"/{name} — {what}" for name, what in BUILTIN_HELP]
    return "Here is what I can do:\n" + "\n".join(lines)


def greeting(workflows: Iterable[Workflow]) -> str:
    return "Hi! I am statbot: statistics and machine learning on your own data.\n" + command_list(
        workflows
    )


def idle(workflows: Iterable[Workflow]) -> str:
    return "You are not in the middle of anything. " + command_list(workflows)


def in_progress(workflow: Workflow | None) -> str:
    name = workflow.description if workflow else "a task"
    return f"You are in the middle of *{name}* — answer the last question, or /cancel."


def leaving(current: Workflow, starting: Workflow) -> str:
    if current.name == starting.name:
        return f"Starting *{starting.description}* again from the beginning."
    if starting.quiet_exit:  # a reader (the knowledge base) is not a task one "starts"
        return f"Leaving *{current.description}*."
    return f"Leaving *{current.description}* and starting *{starting.description}*."


def cancelled(workflow: Workflow | None) -> str:
    if workflow is not None and workflow.quiet_exit:  # closing a reader cancels no work
        return "Closed. Send a command when you want to start something."
    name = workflow.description if workflow else "that"
    return f"Cancelled *{name}*. Send a command when you want to start something."


def started_over(workflow: Workflow | None, workflows: Iterable[Workflow]) -> str:
    what = f"Left *{workflow.description}*. " if workflow else ""
    return what + command_list(workflows)


def generic_help(workflow: Workflow) -> str:
    return f"You are in *{workflow.description}*. Answer the question below, /back or /cancel."


def unknown_command(name: str, workflows: Iterable[Workflow]) -> str:
    return f"I don't know /{name}. " + command_list(workflows)


def unexpected(kind: EventKind, accepts: frozenset[EventKind]) -> str:
    wanted = [_KIND_WORDS[k] for k in _ORDER if k in accepts]
    wanted += [_KIND_WORDS[k] for k in accepts if k not in _ORDER]
    expected = " or ".join(wanted) if wanted else "something else"
    return f"I was expecting {expected} here, not {_KIND_WORDS[kind]}."

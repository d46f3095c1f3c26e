"""Declared steps the analysis conversations share: the data step, pick one, tick several.

:class:`DataStep` is declared once here and instantiated by /train, /predict, /stats and
/explore with what differs between them (the prompt, what happens to the dataset); every
dataset a conversation takes passes :meth:`DataStep.accept`, the one place to extend what a
data step checks or corrects. :func:`pick_one` and :func:`multi_select` accept the button or
typed text (DESIGN.md "Chat"): a name, a number from the list, `all`, `all except a, b` or a
list; a name that matches nothing gets the closest suggestion.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from statbot.analysis.io.paths import looks_like_path
from statbot.engine.events import EventKind
from statbot.engine.replies import DONE_OPTION, Option, Reply
from statbot.engine.workflow import Context, Handler, State
from statbot.errors import StatbotError
from statbot.workflows import data as D
from statbot.workflows import header as H
from statbot.workflows.choose import NoMatch, norm, resolve_many, resolve_one

TYPE_HINT = " Or type `all`, `all except a, b`, or a list."
DATA_KINDS = frozenset({EventKind.TEXT, EventKind.CHOICE, EventKind.UPLOAD})
DATA_HELP = "Upload a data file (or type a server path), or use the last dataset."
NONE_WORDS = frozenset({"none", "nothing", "no"})

OnLoaded = Callable[[Context, D.Loaded], Awaitable[None]]
OnPath = Callable[[Context, Path], Awaitable[None]]
Prompt = str | Callable[[Context], str]


@dataclass(frozen=True)
class DataStep:
    """The step that gets a dataset into a conversation: an upload, a server path, the last
    dataset (its button, "same data", or a one-shot request such as "describe it").

    ``prompt`` asks for the data (a function of the context when it names earlier choices),
    ``on_loaded`` goes on with the dataset once it is the conversation's current one.
    ``on_path`` (optional) sees a checked server path before it is read (/train offers to
    defer reading it); without it the file is read at once. ``check`` refuses a dataset in
    words (True to take it). ``on_start`` runs when the step is entered afresh (not a
    re-prompt), first. ``say_summary`` says the dataset's one-line summary when it comes in.
    """

    prompt: Prompt
    on_loaded: OnLoaded
    next: tuple[str, ...]
    help: str = DATA_HELP
    on_path: OnPath | None = None
    check: Callable[[Context, D.Loaded], bool] | None = None
    on_start: Handler | None = None
    say_summary: bool = False
    name: str = "data"

    @property
    def header_state(self) -> str:
        """The state that asks which row holds the column names (see workflows/header.py);
        a step after this one that takes "header row 3" names it in its ``next``."""
        return f"{self.name}_header"

    def states(self) -> tuple[State, State]:
        """The declared states of this step, for a workflow's ``states``: the data step and
        its header-row check."""
        data = State(
            self.name,
            on_enter=self.enter,
            on_event=self.on_event,
            next=(*self.next, self.header_state),
            accepts=DATA_KINDS,
            help=self.help,
        )
        header = State(
            self.header_state,
            on_enter=self.enter_header,
            on_event=self.on_header,
            next=(*self.next, self.header_state),
            accepts=DATA_KINDS,
            help="Press Looks right if the columns are named right; otherwise say which row "
            'holds the names ("header row 3", or "no header"). Or send another file.',
        )
        return data, header

    async def enter(self, ctx: Context) -> None:
        if not ctx.reprompt:
            if self.on_start is not None:
                await self.on_start(ctx)
            if ctx.event.kind is EventKind.UPLOAD:  # the request came as a file's caption
                await self.on_event(ctx)
                return
            last = _last_for_intent(ctx)
            if last is not None:
                ctx.reply(f"Using your last dataset, {D.summary_line(last)}")
                if await self.accept(ctx, last, said=True):
                    return
        D.ask_for_data(ctx, self.prompt if isinstance(self.prompt, str) else self.prompt(ctx))

    async def on_event(self, ctx: Context) -> None:
        if _dataset(ctx) is not None and await self.header_request(ctx):
            return  # "header row 3" for the file just refused (/predict's missing columns)
        got = await D.receive(ctx)
        fresh = ctx.event.kind is EventKind.UPLOAD
        if isinstance(got, Path):
            if self.on_path is not None:
                await self.on_path(ctx, got)
                return
            got, fresh = await D.load_server_file(ctx, got), True
        if got is not None:
            await self.accept(ctx, got, fresh=fresh)

    async def accept(
        self, ctx: Context, loaded: D.Loaded, *, said: bool = False, fresh: bool = False
    ) -> bool:
        """Take ``loaded`` as the conversation's dataset and go on; False when refused (the
        user was told why). Every way a dataset comes in ends here. A ``fresh`` file (just
        uploaded or read from the server) whose column names the loader had to guess goes
        through the header check first."""
        if self.check is not None and not self.check(ctx, loaded):
            return False
        D.remember(ctx, loaded)
        if self.say_summary and not said:
            ctx.reply(D.summary_line(loaded))
        if fresh and H.guessed(loaded):
            ctx.goto(self.header_state)
            return True
        await self.on_loaded(ctx, loaded)
        return True

    # the header-row check (workflows/header.py) --------------------------------------------
    async def enter_header(self, ctx: Context) -> None:
        loaded = _current(ctx)
        if not ctx.reprompt and H.chosen_row(ctx) == H.OTHER_ROW:  # asked at a later step
            ctx.reply(await H.rows_menu(ctx, loaded))
            return
        ctx.reply(H.preview(loaded))

    async def on_header(self, ctx: Context) -> None:
        if ctx.event.kind is EventKind.UPLOAD or (
            ctx.event.kind is EventKind.TEXT and looks_like_path(ctx.event.text.strip())
        ):
            await self.on_event(ctx)  # another file instead
            return
        picked = H.chosen_row(ctx)
        if picked == H.LOOKS_RIGHT:
            await self.on_loaded(ctx, _current(ctx))
        elif picked is None:
            ctx.reply(
                'Press *Looks right*, or say which row holds the column names ("header row '
                '3", or "no header").'
            )
        else:
            await self._pick(ctx, picked)

    async def header_request(self, ctx: Context) -> bool:
        """At a step after this one: handle "header row 3" (typed, or the *Header is on another
        row* button) for the conversation's dataset and go to the header check; False when
        the event says nothing about the header (the step handles it as usual)."""
        picked = H.chosen_row(ctx)
        if picked is None or picked == H.LOOKS_RIGHT or ctx.event.text.strip().isdigit():
            return False
        loaded = _current(ctx)
        if not loaded.rereadable:
            ctx.reply(
                f"*{loaded.name}* names its columns itself (or is no longer at hand), so there "
                "is no header row to pick."
            )
            return True
        if picked != H.OTHER_ROW:
            await H.reread(ctx, loaded, int(picked))
        ctx.goto(self.header_state)  # it shows the columns again, or the rows to pick from
        return True

    async def _pick(self, ctx: Context, picked: int | str) -> None:
        loaded = _current(ctx)
        if picked == H.OTHER_ROW:
            ctx.reply(await H.rows_menu(ctx, loaded))
            return
        ctx.reply(H.preview(await H.reread(ctx, loaded, int(picked))))


def _dataset(ctx: Context) -> D.Loaded | None:
    """The conversation's dataset, if it has one yet (every workflow with a data step declares
    typed data)."""
    from statbot.workflows.session_data import AnalysisData

    return ctx.typed(AnalysisData).dataset


def _current(ctx: Context) -> D.Loaded:
    found = _dataset(ctx)
    if found is None:
        raise StatbotError("the header step runs before the conversation has a dataset")
    return found


def _last_for_intent(ctx: Context) -> D.Loaded | None:
    """A one-shot request ("describe it", a button under a file just sent) works on the last
    dataset without asking for one."""
    from statbot.workflows.session_data import AnalysisData

    intent = ctx.typed(AnalysisData).intent
    last = D.last_dataset(ctx)
    return last if intent and last is not None and last.ref else None


def multi_menu(options: list[Option], text: str, ticked: Sequence[str]) -> Reply:
    """Toggles for ``options``, ticked as ``ticked`` says, with a Done button."""
    return Reply.ask(text + TYPE_HINT, options, multi=True, selected=tuple(ticked))


async def multi_select(ctx: Context, options: list[Option], ticks: list[str]) -> list[str] | None:
    """Handle a toggle, Done, or a typed list at a multi-select step; ``ticks`` (the
    conversation's list, changed in place) holds what is ticked.

    Returns the chosen ids (in the options' order) when the user is done, or None when the menu
    stays open (a toggle was shown again, or a typed name matched nothing and was explained).
    """
    event = ctx.event
    ids = [o.id for o in options]
    selected = list(ticks)
    if event.kind is EventKind.CHOICE and event.choice != DONE_OPTION:
        if event.choice in selected:
            selected.remove(event.choice)
        elif event.choice in ids:
            selected.append(event.choice)
        ticks[:] = [c for c in ids if c in selected]
        ctx.reply(multi_menu(options, f"{len(selected)} of {len(ids)} selected.", ticks))
        return None
    if event.kind is EventKind.TEXT and norm(event.text) not in ("done", "ok"):
        chosen = resolve_many(event.text, options, "column")
        if isinstance(chosen, NoMatch):
            ctx.reply(chosen.message)
            return None
        selected = [o.id for o in chosen]
    return [c for c in ids if c in selected]


def pick_one(
    ctx: Context,
    options: Sequence[Option],
    none_id: str | None = None,
    *,
    noun: str = "column",
    typed: Sequence[Option] | None = None,
    words: Mapping[str, str] | None = None,
) -> str | None:
    """The option a button or typed text names; None after telling the user what is wrong.

    ``none_id``: the option that typed "none" / "no" chooses. ``typed``: what typed text is
    matched against when it differs from the buttons (/predict's models by name, also those
    beyond the buttons shown). ``words``: typed words with a fixed answer ("newest" → latest).
    """
    event = ctx.event
    if event.kind is EventKind.CHOICE:
        if event.choice in {o.id for o in options}:
            return event.choice
        ctx.reply("Please choose one of the buttons above.")
        return None
    return pick_typed(
        ctx, event.text, options if typed is None else typed, none_id, noun=noun, words=words
    )


def pick_typed(
    ctx: Context,
    text: str,
    options: Sequence[Option],
    none_id: str | None = None,
    *,
    noun: str = "column",
    words: Mapping[str, str] | None = None,
) -> str | None:
    """:func:`pick_one` for typed text that did not come as this event (a one-shot request's
    "predict with iris model")."""
    said = norm(text)
    if none_id is not None and said in NONE_WORDS:
        return none_id
    if words is not None and said in words:
        return words[said]
    found = resolve_one(text, options, noun)
    if isinstance(found, NoMatch):
        ctx.reply(found.message)
        return None
    return found.id

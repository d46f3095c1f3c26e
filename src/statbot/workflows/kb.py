"""/kb_search, /kb_get and /kb_stats: the statistics knowledge base in the chat (issue 13).

Each command starts its own small workflow whose one state, ``browse``, stays open while the
user reads: a result or related entry pressed (or its number or title typed) opens that entry
with its related entries as buttons, any other text searches again, and a request for another
conversation ("train a random forest to predict price") leaves for it. Free text that asks
what something is ("what is a p-value?") starts /kb_search through the intents
(:mod:`statbot.workflows.intents`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from statbot.engine.events import EventKind
from statbot.engine.replies import Option, Reply
from statbot.engine.workflow import Context, Handler, State, Workflow
from statbot.kb import read_key
from statbot.kb.entry import ID_PATTERN
from statbot.kb.render import MESSAGE_LIMIT, entry_text, label, short_text, stats_text, utf16_len
from statbot.kb.words import subject_words
from statbot.workflows import data as D
from statbot.workflows.choose import norm
from statbot.workflows.session_data_plain import KbData

if TYPE_CHECKING:
    from statbot.kb import Entry, KnowledgeBase

RESULTS = 20  # found entries offered, 5 buttons a page
PAGE = 5
MOST_READ = 5
KB_WORKFLOWS = frozenset({"kb_search", "kb_get", "kb_stats"})
HOW = (
    "Type a word or a question (such as *p-value* or *which test should I use?*), press an "
    "entry to read it, or send a command."
)


async def _kb(ctx: Context) -> KnowledgeBase:
    svc = D.services(ctx)
    return await ctx.run_blocking(lambda: svc.kb)  # the first use loads and indexes it


def _asked(ctx: Context) -> str:
    """What the command or the free-text request asked for."""
    if ctx.event.kind is EventKind.COMMAND:
        return ctx.event.args.strip()
    return ctx.typed(KbData).asked


def _options(entries: list[Entry]) -> list[Option]:
    return [Option(e.id, label(e)) for e in entries]


async def show_results(ctx: Context, query: str) -> None:
    kb = await _kb(ctx)
    hits = kb.search(query, limit=RESULTS)
    data = ctx.typed(KbData)
    data.query = query
    if not hits:
        data.shown = []
        ctx.reply(
            f"Nothing in the knowledge base matches “{query}”. Try other words, or see what it "
            "covers with /kb_stats."
        )
        return
    entries = [h.entry for h in hits]
    data.shown = [e.id for e in entries]
    n = len(entries)
    if n == RESULTS:
        many = f"The {n} entries that best match “{query}”"
    else:
        many = f"{n} {'entry matches' if n == 1 else 'entries match'} “{query}”"
    prompt = f"{many}, best first. The best match:\n{_first_line(entries[0])}"
    ctx.reply(Reply.ask(prompt, _options(entries), page_size=PAGE))


def _first_line(entry: Entry) -> str:
    return f"*{entry.title}* — {entry.short}"


async def open_entry(ctx: Context, entry_id: str) -> bool:
    """Send the entry with its related entries as buttons and count the read; False when no
    entry has that id."""
    kb = await _kb(ctx)
    entry = kb.get(entry_id)
    if entry is None:
        return False
    reads = D.services(ctx).kb_reads
    key = read_key(str(ctx.session.key), ctx.event.event_id, entry.id)
    await ctx.run_blocking(reads.record, entry.id, key)
    related = [e for e in (kb.get(r) for r in entry.related) if e is not None]
    data = ctx.typed(KbData)
    data.entry = entry.id
    data.shown = [e.id for e in related]
    text = entry_text(entry)
    ctx.reply(Reply.ask(text, _options(related), page_size=PAGE) if related else Reply.say(text))
    return True


# entering -------------------------------------------------------------------------------------
async def enter_search(ctx: Context) -> None:
    if ctx.reprompt:
        await _again(ctx)
        return
    query = _asked(ctx)
    explained = list(ctx.memory.get("explain") or [])
    if query and not subject_words(query) and explained:
        await explain(ctx, explained)  # "what does this mean?" typed after a result
    elif query:
        await show_results(ctx, query)
    else:
        ctx.reply("What shall I look up in the knowledge base? " + HOW)


async def enter_get(ctx: Context) -> None:
    if ctx.reprompt:
        await _again(ctx)
        return
    wanted = _asked(ctx)
    several = wanted.replace(",", " ").split()
    if len(several) > 1 and all(ID_PATTERN.match(i) for i in several):
        await explain(ctx, several)  # "What does this mean?" beside a result
    elif not wanted:
        ctx.reply("Which entry? Send its id (such as `p-value`) or a word to search for.")
    elif not await open_entry(ctx, wanted):
        ctx.reply(f"There is no entry with the id `{wanted}`; here is what a search finds.")
        await show_results(ctx, wanted)


async def explain(ctx: Context, entry_ids: list[str]) -> None:
    """Several entries at once, each as its title and short answer (as many as fit one
    message), with a button to read each in full."""
    kb = await _kb(ctx)
    entries = [e for e in (kb.get(i) for i in dict.fromkeys(entry_ids)) if e is not None]
    if not entries:
        ctx.reply("None of those entries is in the knowledge base.")
        return
    parts, used = [], 0
    for entry in entries:
        part = short_text(entry)
        if used + utf16_len(part) + 2 > MESSAGE_LIMIT:
            break
        parts.append(part)
        used += utf16_len(part) + 2
    data = ctx.typed(KbData)
    data.entry = None
    data.shown = [e.id for e in entries]
    data.explained = [e.id for e in entries]
    text = "\n\n".join(parts) + "\n\nPress one to read it in full."
    ctx.reply(Reply.ask(text, _options(entries), page_size=PAGE))


async def enter_stats(ctx: Context) -> None:
    kb = await _kb(ctx)
    reads = D.services(ctx).kb_reads
    counts = await ctx.run_blocking(reads.most_read, MOST_READ)
    most = [(e, n) for e, n in ((kb.get(i), n) for i, n in counts) if e is not None]
    text = stats_text(kb.by_kind(), kb.by_tag(), most, len(kb.entries))
    ctx.typed(KbData).shown = [e.id for e, _ in most]
    if most:
        ctx.reply(Reply.ask(text, _options([e for e, _ in most]), page_size=PAGE))
    else:
        ctx.reply(text)
        ctx.finish()


async def _again(ctx: Context) -> None:
    """/help or /back: show where the user was again."""
    data = ctx.typed(KbData)
    if data.entry:
        await open_entry(ctx, data.entry)
    elif data.explained:
        await explain(ctx, list(data.explained))
    elif data.query:
        await show_results(ctx, data.query)
    else:
        ctx.reply(HOW)


# browsing ---------------------------------------------------------------------------------------
async def on_browse(ctx: Context) -> None:
    event = ctx.event
    if event.kind is EventKind.CHOICE:
        if not await open_entry(ctx, event.choice or ""):
            ctx.reply("That entry is no longer in the knowledge base.")
        return
    text = event.text.strip()
    picked = await _typed_pick(ctx, text)
    if picked is not None:
        await open_entry(ctx, picked)
        return
    from statbot.workflows.intents import parse_intent

    intent = parse_intent(text)
    if intent is not None and intent.workflow not in KB_WORKFLOWS:
        ctx.switch(intent.workflow, dict(intent.slots))
        return
    await show_results(ctx, text)


async def _typed_pick(ctx: Context, text: str) -> str | None:
    """A number from the buttons shown last, or an entry's exact id or title."""
    shown = ctx.typed(KbData).shown or []
    if text.isdigit() and 1 <= int(text) <= len(shown):
        return shown[int(text) - 1]
    kb = await _kb(ctx)
    wanted = norm(text)
    for entry in kb.entries.values():
        if wanted in (entry.id, norm(entry.title)):
            return entry.id
    return None


BROWSE_HELP = (
    "Press an entry to read it, type its number, or type a word or question to search again. "
    "Any command leaves the knowledge base."
)


def _workflow(name: str, description: str, enter: Handler) -> Workflow:
    browse = State("browse", on_enter=enter, on_event=on_browse, next=("browse",), help=BROWSE_HELP)
    return Workflow(
        name,
        name,
        description,
        start="browse",
        states=(browse,),
        data=KbData.from_dict,
        quiet_exit=True,
    )


KB_SEARCH = _workflow("kb_search", "search the statistics knowledge base", enter_search)
KB_GET = _workflow("kb_get", "read a knowledge-base entry by its id", enter_get)
KB_STATS = _workflow("kb_stats", "what the knowledge base holds, and the most read", enter_stats)

"""Dispatch throughput: the same 6-step wizard through statbot and two peers, side by side.

200 users × 6 steps, offline. Every framework gets the same shape of load: 200 concurrent users,
each sending its next answer only after the reply to the previous one was sent (as a person
answering a prompt would). Steps: ``/wizard`` → name → age (validated int) → colour (a choice)
→ city → confirm (a choice) → saved summary, state cleared.

- statbot_memory: StateManager on the memory store; CHOICE events for the choice steps (what the
  Telegram channel produces from a button press); the deliverer is an in-process sink.
- statbot_sqlite: the same on the SQLite store with the default ``synchronous`` setting: every
  event journaled and every transition committed before its reply is handed to the deliverer.
- aiogram_memory: aiogram 3 Dispatcher + MemoryStorage; ``dp.feed_update`` on prebuilt Update
  objects; the Bot's session serialises each request like the real one and parses a canned
  Bot API response (no HTTP).
- ptb_conversation: python-telegram-bot ConversationHandler; ``Application.process_update`` on
  prebuilt Updates; the Bot's request object returns canned Bot API bytes (no HTTP).

Prints one JSON line. ``--repeat N`` runs each N times and reports the median.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from typing import Any

USERS = 200
STEPS = 6
COLOURS = ("red", "green", "blue")
ANSWERS = ("yes", "no")
TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"  # syntactically valid, never used
CANNED_MESSAGE = {
    "message_id": 1,
    "date": 1_700_000_000,
    "chat": {"id": 1, "type": "private"},
    "text": "ok",
}
CANNED_SEND = json.dumps({"ok": True, "result": CANNED_MESSAGE})
CANNED_ME = json.dumps(
    {
        "ok": True,
        "result": {"id": 123456789, "is_bot": True, "first_name": "bench", "username": "bench_bot"},
    }
)


def answers(user: int) -> list[str]:
    """The six things user ``user`` types, in order."""
    return [
        "/wizard",
        f"user{user}",
        str(18 + user % 60),
        COLOURS[user % 3],
        f"city{user % 17}",
        "yes",
    ]


def update_dict(update_id: int, user: int, text: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": 1_700_000_000,
        "chat": {"id": user, "type": "private", "first_name": f"u{user}"},
        "from": {"id": user, "is_bot": False, "first_name": f"u{user}"},
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text)}]
    return {"update_id": update_id, "message": message}


def scripted_updates() -> dict[int, list[dict[str, Any]]]:
    per_user: dict[int, list[dict[str, Any]]] = {}
    update_id = 1
    for user in range(1, USERS + 1):
        per_user[user] = []
        for text in answers(user):
            per_user[user].append(update_dict(update_id, user, text))
            update_id += 1
    return per_user


def summary(name: str, age: int, colour: str, city: str) -> str:
    return f"Saved: {name}, {age}, {colour}, {city}"


async def run_users(step: Callable[[int, int], Awaitable[None]]) -> float:
    """Run USERS concurrent users through STEPS sequential steps; return elapsed seconds."""

    async def user(uid: int) -> None:
        for index in range(STEPS):
            await step(uid, index)

    gc.collect()
    started = time.perf_counter()
    await asyncio.gather(*(user(uid) for uid in range(1, USERS + 1)))
    return time.perf_counter() - started


class Sink:
    """Where every framework's handlers put their replies: sending is the channel's job, and
    the channel is the same for all of them, so it stays out of the dispatch figure."""

    def __init__(self) -> None:
        self.sent = 0
        self.saved: list[str] = []

    def reply(self, chat_id: int, text: str, markup: Any = None) -> None:
        self.sent += 1


# statbot ---------------------------------------------------------------------------------------
def statbot_wizard() -> Any:
    from statbot.engine.replies import Option, Reply
    from statbot.engine.workflow import Context, State, Workflow

    def ask_colour() -> Reply:
        return Reply.ask("Pick a colour", [Option(c, c) for c in COLOURS])

    async def name(ctx: Context) -> None:
        ctx.data["name"] = ctx.event.text
        ctx.goto("age")

    async def age(ctx: Context) -> None:
        if not ctx.event.text.isdigit():
            ctx.reply("Please send a number.")
            return
        ctx.data["age"] = int(ctx.event.text)
        ctx.goto("colour")

    async def show_colours(ctx: Context) -> None:
        ctx.reply(ask_colour())

    async def colour(ctx: Context) -> None:
        if ctx.event.choice not in COLOURS:
            ctx.reply(ask_colour())
            return
        ctx.data["colour"] = ctx.event.choice
        ctx.goto("city")

    async def city(ctx: Context) -> None:
        ctx.data["city"] = ctx.event.text
        ctx.goto("confirm")

    async def show_confirm(ctx: Context) -> None:
        ctx.reply(Reply.ask("Save this?", [Option(a, a) for a in ANSWERS]))

    async def confirm(ctx: Context) -> None:
        if ctx.event.choice not in ANSWERS:
            await show_confirm(ctx)
            return
        d = ctx.data
        ctx.reply(summary(d["name"], d["age"], d["colour"], d["city"]))
        ctx.finish()

    return Workflow(
        name="wizard",
        command="wizard",
        description="six steps",
        start="name",
        states=(
            State("name", prompt="What is your name?", on_event=name, next=("age",)),
            State("age", prompt="How old are you?", on_event=age, next=("colour",)),
            State("colour", on_enter=show_colours, on_event=colour, next=("city",)),
            State("city", prompt="Which city?", on_event=city, next=("confirm",)),
            State("confirm", on_enter=show_confirm, on_event=confirm, final=True),
        ),
    )


async def bench_statbot(store_name: str, folder: str) -> float:
    from statbot.engine.events import ConversationKey, Event, EventKind
    from statbot.engine.manager import StateManager
    from statbot.engine.replies import OutboxItem, ReplyKind
    from statbot.engine.stores import SessionStore, open_store
    from statbot.engine.workflow import WorkflowRegistry

    store: SessionStore = open_store(store_name, sqlite_path=f"{folder}/bench.sqlite3")
    manager = StateManager(store, WorkflowRegistry([statbot_wizard()]))
    sink = Sink()
    tokens: dict[str, str] = {}
    waiting: dict[str, tuple[str, asyncio.Future[None]]] = {}

    async def deliver(key: str, items: list[OutboxItem]) -> list[int]:
        for item in items:
            reply = item.reply
            sink.reply(0, reply.text)
            if reply.kind is ReplyKind.CHOICES:
                tokens[key] = reply.token
            elif reply.text.startswith("Saved: "):
                sink.saved.append(reply.text)
            waiter = waiting.get(key)
            if waiter is not None and waiter[0] == item.event_id and not waiter[1].done():
                waiter[1].set_result(None)
        return [item.seq for item in items]

    manager.set_deliverer(deliver)
    await manager.start()
    keys = {uid: ConversationKey("bench", uid, uid) for uid in range(1, USERS + 1)}
    texts = {uid: answers(uid) for uid in keys}
    loop = asyncio.get_running_loop()

    async def step(uid: int, index: int) -> None:
        key = keys[uid]
        text = texts[uid][index]
        update_id = uid * 10 + index
        if index == 0:
            event = Event.from_update(key, update_id, EventKind.COMMAND, text="wizard")
        elif index in (3, 5):
            token = tokens[str(key)]
            event = Event.from_update(key, update_id, EventKind.CHOICE, choice=text, token=token)
        else:
            event = Event.from_update(key, update_id, EventKind.TEXT, text=text)
        done: asyncio.Future[None] = loop.create_future()
        waiting[str(key)] = (event.event_id, done)
        await manager.submit(event)
        await done  # the reply to this step was handed to the channel

    elapsed = await run_users(step)
    await manager.stop()
    await store.close()
    check(sink, f"statbot_{store_name}")
    return USERS * STEPS / elapsed


# aiogram 3 ---------------------------------------------------------------------------------------
async def bench_aiogram() -> float:
    from aiogram import Bot, Dispatcher, Router
    from aiogram.client.session.base import BaseSession
    from aiogram.filters import Command, StateFilter
    from aiogram.fsm.context import FSMContext
    from aiogram.fsm.state import State, StatesGroup
    from aiogram.fsm.storage.memory import MemoryStorage
    from aiogram.types import KeyboardButton, Message, ReplyKeyboardMarkup, Update

    class FakeSession(BaseSession):
        """No HTTP: any Bot API call is answered from canned JSON, parsed as aiogram would."""

        async def make_request(self, bot: Any, method: Any, timeout: int | None = None) -> Any:  # noqa: ASYNC109
            content = CANNED_ME if method.__api_method__ == "getMe" else CANNED_SEND
            return self.check_response(bot, method, 200, content).result

        async def stream_content(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover
            raise RuntimeError("no network in the benchmark")

        async def close(self) -> None:
            return None

    class Wizard(StatesGroup):
        name = State()
        age = State()
        colour = State()
        city = State()
        confirm = State()

    def keyboard(labels: tuple[str, ...]) -> ReplyKeyboardMarkup:
        return ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text=t) for t in labels]])

    sink = Sink()
    router = Router()

    # Async filters only (StateFilter, Command): aiogram runs synchronous ones (a bare State,
    # magic F.text) in a thread, which would make it look slower than a tuned aiogram bot is.
    @router.message(Command("wizard"))
    async def start(message: Message, state: FSMContext) -> None:
        await state.set_state(Wizard.name)
        sink.reply(message.chat.id, "What is your name?")

    @router.message(StateFilter(Wizard.name))
    async def name(message: Message, state: FSMContext) -> None:
        await state.update_data(name=message.text)
        await state.set_state(Wizard.age)
        sink.reply(message.chat.id, "How old are you?")

    @router.message(StateFilter(Wizard.age))
    async def age(message: Message, state: FSMContext) -> None:
        text = message.text or ""
        if not text.isdigit():
            sink.reply(message.chat.id, "Please send a number.")
            return
        await state.update_data(age=int(text))
        await state.set_state(Wizard.colour)
        sink.reply(message.chat.id, "Pick a colour", keyboard(COLOURS))

    @router.message(StateFilter(Wizard.colour))
    async def colour(message: Message, state: FSMContext) -> None:
        if message.text not in COLOURS:
            sink.reply(message.chat.id, "Pick a colour", keyboard(COLOURS))
            return
        await state.update_data(colour=message.text)
        await state.set_state(Wizard.city)
        sink.reply(message.chat.id, "Which city?")

    @router.message(StateFilter(Wizard.city))
    async def city(message: Message, state: FSMContext) -> None:
        await state.update_data(city=message.text)
        await state.set_state(Wizard.confirm)
        sink.reply(message.chat.id, "Save this?", keyboard(ANSWERS))

    @router.message(StateFilter(Wizard.confirm))
    async def confirm(message: Message, state: FSMContext) -> None:
        if message.text not in ANSWERS:
            sink.reply(message.chat.id, "Save this?", keyboard(ANSWERS))
            return
        data = await state.get_data()
        await state.clear()
        text = summary(data["name"], data["age"], data["colour"], data["city"])
        sink.saved.append(text)
        sink.reply(message.chat.id, text)

    bot = Bot(TOKEN, session=FakeSession())
    dp = Dispatcher(storage=MemoryStorage())
    dp.include_router(router)
    raw = scripted_updates()
    updates = {
        uid: [Update.model_validate(u, context={"bot": bot}) for u in ups]
        for uid, ups in raw.items()
    }

    async def step(uid: int, index: int) -> None:
        await dp.feed_update(bot, updates[uid][index])

    elapsed = await run_users(step)
    await bot.session.close()
    check(sink, "aiogram")
    return USERS * STEPS / elapsed


# python-telegram-bot --------------------------------------------------------------------------
async def bench_ptb() -> float:
    from telegram import ReplyKeyboardMarkup, Update
    from telegram.ext import (
        Application,
        CommandHandler,
        ContextTypes,
        ConversationHandler,
        MessageHandler,
        filters,
    )
    from telegram.request import BaseRequest

    class FakeRequest(BaseRequest):
        """No HTTP: any Bot API call (getMe at initialize) is answered with canned bytes."""

        async def initialize(self) -> None:
            return None

        async def shutdown(self) -> None:
            return None

        @property
        def read_timeout(self) -> float | None:
            return None

        async def do_request(
            self, url: str, method: str, request_data: Any = None, *args: Any, **kw: Any
        ) -> tuple[int, bytes]:
            return 200, (CANNED_ME if url.endswith("/getMe") else CANNED_SEND).encode()

    name_s, age_s, colour_s, city_s, confirm_s = range(5)
    sink = Sink()

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.message is not None
        sink.reply(update.message.chat_id, "What is your name?")
        return name_s

    async def name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.message is not None and context.user_data is not None
        context.user_data["name"] = update.message.text
        sink.reply(update.message.chat_id, "How old are you?")
        return age_s

    async def age(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.message is not None and context.user_data is not None
        text = update.message.text or ""
        if not text.isdigit():
            sink.reply(update.message.chat_id, "Please send a number.")
            return age_s
        context.user_data["age"] = int(text)
        sink.reply(update.message.chat_id, "Pick a colour", ReplyKeyboardMarkup([COLOURS]))
        return colour_s

    async def colour(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.message is not None and context.user_data is not None
        if update.message.text not in COLOURS:
            sink.reply(update.message.chat_id, "Pick a colour", ReplyKeyboardMarkup([COLOURS]))
            return colour_s
        context.user_data["colour"] = update.message.text
        sink.reply(update.message.chat_id, "Which city?")
        return city_s

    async def city(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.message is not None and context.user_data is not None
        context.user_data["city"] = update.message.text
        sink.reply(update.message.chat_id, "Save this?", ReplyKeyboardMarkup([ANSWERS]))
        return confirm_s

    async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        assert update.message is not None and context.user_data is not None
        if update.message.text not in ANSWERS:
            sink.reply(update.message.chat_id, "Save this?", ReplyKeyboardMarkup([ANSWERS]))
            return confirm_s
        data = context.user_data
        text = summary(data["name"], data["age"], data["colour"], data["city"])
        data.clear()
        sink.saved.append(text)
        sink.reply(update.message.chat_id, text)
        return ConversationHandler.END

    text_only = filters.TEXT & ~filters.COMMAND
    conversation = ConversationHandler(
        entry_points=[CommandHandler("wizard", start)],
        states={
            state: [MessageHandler(text_only, fn)]
            for state, fn in enumerate((name, age, colour, city, confirm))
        },
        fallbacks=[],
    )
    app = (
        Application.builder()
        .token(TOKEN)
        .request(FakeRequest())
        .get_updates_request(FakeRequest())
        .updater(None)
        .build()
    )
    app.add_handler(conversation)
    await app.initialize()
    raw = scripted_updates()
    updates = {uid: [Update.de_json(u, app.bot) for u in ups] for uid, ups in raw.items()}

    async def step(uid: int, index: int) -> None:
        await app.process_update(updates[uid][index])

    elapsed = await run_users(step)
    await app.shutdown()
    check(sink, "ptb")
    return USERS * STEPS / elapsed


def check(sink: Sink, who: str) -> None:
    """A benchmark that measured nothing is worse than none: verify the wizard really ran."""
    expected = sorted(
        summary(f"user{u}", 18 + u % 60, COLOURS[u % 3], f"city{u % 17}")
        for u in range(1, USERS + 1)
    )
    if sorted(sink.saved) != expected:
        raise SystemExit(f"{who}: wizard did not complete for every user ({len(sink.saved)} saved)")
    if sink.sent != USERS * STEPS:
        raise SystemExit(f"{who}: {sink.sent} replies, expected {USERS * STEPS}")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu}, {os.cpu_count()} CPU, Python {platform.python_version()}"


CONTENDERS = ("statbot_memory", "statbot_sqlite", "aiogram_memory", "ptb_conversation")


async def run_one(name: str) -> float:
    if name == "aiogram_memory":
        return await bench_aiogram()
    if name == "ptb_conversation":
        return await bench_ptb()
    with tempfile.TemporaryDirectory() as folder:
        return await bench_statbot(name.removeprefix("statbot_"), folder)


def measure(repeat: int) -> dict[str, Any]:
    """Each run in a fresh interpreter (no garbage or threads left over from another
    contender); contenders interleaved, so a noisy moment does not hit one of them only."""
    import aiogram
    import telegram

    runs: dict[str, list[float]] = {name: [] for name in CONTENDERS}
    for _ in range(repeat):
        for name in CONTENDERS:
            child = subprocess.run(
                [sys.executable, __file__, "--one", name],
                check=False,
                capture_output=True,
                text=True,
            )
            if child.returncode != 0:
                sys.stderr.write(child.stderr)
                raise SystemExit(f"{name} failed (exit {child.returncode})")
            runs[name].append(float(child.stdout.strip().splitlines()[-1]))
    result: dict[str, Any] = {name: round(statistics.median(v)) for name, v in runs.items()}
    result["ratio_sqlite_vs_aiogram"] = round(
        result["statbot_sqlite"] / result["aiogram_memory"], 2
    )
    result["ratio_memory_vs_ptb"] = round(result["statbot_memory"] / result["ptb_conversation"], 2)
    result.update(
        {
            "unit": "updates/s",
            "users": USERS,
            "steps": STEPS,
            "repeat": repeat,
            "aiogram": aiogram.__version__,
            "python_telegram_bot": telegram.__version__,
            "machine": machine(),
        }
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--one", choices=CONTENDERS, help="run one contender once, print its rate")
    args = parser.parse_args()
    if args.one:
        print(asyncio.run(run_one(args.one)))
        return
    print(json.dumps(measure(args.repeat)))


if __name__ == "__main__":
    main()

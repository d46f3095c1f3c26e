"""Latency under a burst: 300 users send /start and /help at once, statbot vs a plain PTB bot.

Both bots are real processes polling a sandbox (the Bot API emulator) served by this process on
127.0.0.1, a fresh sandbox for every run:

- statbot: ``statbot run`` with defaults (SQLite store, ``synchronous=NORMAL``) and a temporary
  STATBOT_DATA_DIR: every update journaled before the offset moves, every transition committed
  before its reply is sent, replies paced by the channel's rate limiter.
- ptb: python-telegram-bot 22 ``Application`` with the builder's defaults, ``run_polling()``,
  a ``CommandHandler`` for each command answering with ``reply_text`` — the same texts statbot
  sent in that round's warm-up, so both send the same bytes.

Method: after a warm-up (Alice sends /start and /help and waits for both replies — also the
readiness check), 300 new users each send /start then /help, all 600 messages injected in one
event-loop turn. The sandbox's event feed is timestamped as it is published (``perf_counter``
in this process), so time-to-reply for a command = from the user's message to the bot's first
message in that chat carrying that command's reply — measured identically for both bots. A
command with no reply within ``--timeout`` seconds is lost. Runs alternate statbot, ptb, …
(``--repeat``); the JSON line carries the median p99/p50, every run's p99, ``ratio`` = the
median of the pairs' p99 ratios (``ratio_runs``), and ``*_cpu_ms``: the bot process's
user+system CPU from the burst to its last reply (less sensitive than latency to other load on
the machine).

``--profile DIR``: record each bot's burst with py-spy (if installed) into DIR/<contender>/, in
py-spy's raw (collapsed stacks) format, idle samples included, and print each bot's breakdown
(ingest, store, Bot API calls, rate limiter, engine, …) as a JSON line on stderr. py-spy slows
the bot it samples: profile for the shares, not for the latency figures.
``--ptb-bot URL TOKEN TEXTS``: internal, the PTB peer's process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

USERS = 300
COMMANDS = ("/start", "/help")
STATBOT_TOKEN = "123456:SANDBOX"
PTB_TOKEN = "654321:PTBPEER"
FALLBACK_TEXTS = {"/start": "Hi! " + "x" * 600, "/help": "Here is what I can do: " + "y" * 600}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100.0 * len(ordered) + 0.5)))
    return ordered[rank - 1]


class Feed:
    """Timestamps every event the sandbox publishes (wraps ``SandboxState.publish``)."""

    def __init__(self, state: Any) -> None:
        self.events: list[tuple[float, str, int, str]] = []  # (t, kind, chat_id, text)
        self.changed = asyncio.Event()
        original: Callable[..., None] = state.publish

        def publish(kind: str, chat: Any, **data: Any) -> None:
            text = str((data.get("message") or {}).get("text") or "")
            self.events.append((time.perf_counter(), kind, chat.id, text))
            original(kind, chat, **data)
            self.changed.set()

        state.publish = publish

    def bot_texts(self, chat_id: int) -> list[str]:
        return [e[3] for e in self.events if e[2] == chat_id and e[1] == "message"]

    async def wait_for(self, done: Callable[[], bool], within: float) -> bool:
        deadline = time.monotonic() + within
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(remaining, 0.5))
        return True


def latencies(feed: Feed, chats: set[int], texts: dict[str, str]) -> tuple[list[float], int]:
    """Per (chat, command): first bot message with that command's reply after the user's
    message. Returns the latencies in ms and the number of commands without a reply."""
    sent: dict[tuple[int, str], float] = {}
    answered: dict[tuple[int, str], float] = {}
    for stamp, kind, chat_id, text in feed.events:
        if chat_id not in chats:
            continue
        if kind == "user_message" and text in COMMANDS:
            sent[(chat_id, text)] = stamp
        elif kind == "message":
            for command, reply in texts.items():
                key = (chat_id, command)
                if text == reply and key in sent and key not in answered:
                    answered[key] = stamp
                    break
    values = [(answered[key] - sent[key]) * 1000.0 for key in sent if key in answered]
    return values, len(sent) - len(values)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process (Linux /proc; 0.0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_statbot(api_url: str, tmp: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "STATBOT_TELEGRAM_TOKEN": STATBOT_TOKEN,
        "STATBOT_TELEGRAM_API_URL": api_url,
        "STATBOT_DATA_DIR": str(tmp / "data"),
        "STATBOT_HEALTH_PORT": str(free_port()),
    }
    log = (tmp / "statbot.log").open("ab")
    cmd = [sys.executable, "-m", "statbot", "run"]
    return subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)


def start_ptb(api_url: str, tmp: Path, texts: dict[str, str]) -> subprocess.Popen[bytes]:
    texts_file = tmp / "texts.json"
    texts_file.write_text(json.dumps(texts))
    log = (tmp / "ptb.log").open("ab")
    cmd = [sys.executable, __file__, "--ptb-bot", api_url, PTB_TOKEN, str(texts_file)]
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """End a process this script started, by its PID: SIGTERM, then SIGKILL after 15 s."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(5)


async def one_run(
    contender: str, texts: dict[str, str], within: float, profile: Path | None
) -> dict[str, Any]:
    from statbot.sandbox import users as sandbox_users
    from statbot.sandbox.server import run_sandbox

    token = STATBOT_TOKEN if contender == "statbot" else PTB_TOKEN
    with tempfile.TemporaryDirectory(prefix="burst-") as tmp_name:
        tmp = Path(tmp_name)
        async with run_sandbox(token=token) as sandbox:
            state = sandbox.state
            bot = state.bot_by_id(None)
            assert bot is not None
            feed = Feed(state)
            warm = next(iter(state.users.values()))
            crowd = [state.add_user(f"user{i}") for i in range(USERS)]
            if contender == "statbot":
                proc = start_statbot(sandbox.api_url, tmp)
            else:
                proc = start_ptb(sandbox.api_url, tmp, texts)
            spy: subprocess.Popen[bytes] | None = None
            try:
                # Warm-up and readiness: the first user's two commands, both answered.
                for command in COMMANDS:
                    sandbox_users.send_text(state, bot, warm, command)
                ready = await feed.wait_for(lambda: len(feed.bot_texts(warm.id)) >= 2, 90.0)
                if not ready:
                    log = (tmp / f"{contender}.log").read_text(errors="replace")
                    raise SystemExit(f"{contender} did not answer the warm-up:\n{log[-3000:]}")
                warm_texts = feed.bot_texts(warm.id)
                await asyncio.sleep(1.0)  # let the warm-up's delivered marks and polls settle
                if profile is not None and (exe := py_spy()):
                    spy = start_spy(exe, proc.pid, profile / contender)
                    await asyncio.sleep(1.0)
                cpu_before = cpu_seconds(proc.pid)
                for user in crowd:  # the burst: 600 messages in one loop turn
                    for command in COMMANDS:
                        sandbox_users.send_text(state, bot, user, command)
                chats = {user.id for user in crowd}
                replies = dict(zip(COMMANDS, warm_texts, strict=False))
                expected = USERS * len(COMMANDS)
                await feed.wait_for(
                    lambda: len(latencies(feed, chats, replies)[0]) >= expected, within
                )
                values, lost = latencies(feed, chats, replies)
                cpu = cpu_seconds(proc.pid) - cpu_before
            finally:
                if spy is not None:
                    os.kill(spy.pid, signal.SIGINT)
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        spy.wait(30)
                stop(proc)
    return {
        "p99": percentile(values, 99) if values else float("inf"),
        "p50": percentile(values, 50) if values else float("inf"),
        "lost": lost,
        "cpu": cpu,
        "texts": replies,
    }


def py_spy() -> str | None:
    """py-spy next to this interpreter (a venv's bin/) or on PATH."""
    local = Path(sys.executable).with_name("py-spy")
    return str(local) if local.exists() else shutil.which("py-spy")


def start_spy(exe: str, pid: int, out_dir: Path) -> subprocess.Popen[bytes]:
    out_dir.mkdir(parents=True, exist_ok=True)
    name = out_dir / f"{int(time.time() * 1000)}.txt"
    cmd = [exe, "record", "--pid", str(pid), "--rate", "250", "--idle", "--format"]
    cmd += ["raw", "--output", str(name), "--duration", "60"]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# Where a main-thread sample goes: the first category whose marker is on its stack.
CATEGORIES = (
    ("idle", ("EpollSelector.select",)),
    ("ingest", ("Poller.run", "_journal_batch", "Updater._", "Bot.get_updates")),
    ("store", ("StoreFile.", "SqliteStore.", "stores/_codec")),
    ("rate_limiter", ("RateLimiter.", "TokenBucket.")),
    ("bot_api_calls", ("Bot._post", "Bot._send_message")),
    ("engine", ("statbot/engine/", "statbot/workflows/")),
    ("ptb_dispatch", ("telegram/ext/",)),
)


def breakdown(folder: Path) -> dict[str, float]:
    """Shares (%) of the busy main-thread samples of py-spy raw files, by category; ``idle``
    is a share of all samples; ``no_sniffio`` the share spent in httpcore's failed
    ``import sniffio`` (anyio >= 4.5 no longer installs it; statbot depends on it since, so
    this should read 0 — a check that it stays installed)."""
    counts: dict[str, int] = dict.fromkeys([c for c, _ in CATEGORIES] + ["other"], 0)
    sniff = 0
    for raw in folder.glob("*.txt"):
        for line in raw.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not stack.startswith(("_run_module_as_main", "<module>")):
                continue  # other threads: the checkpointer and idle executors
            name = next((c for c, marks in CATEGORIES if any(m in stack for m in marks)), "other")
            counts[name] += int(count)
            if "current_async_library" in stack and "_find_and_load" in stack:
                sniff += int(count)
    total = sum(counts.values()) or 1
    busy = (total - counts["idle"]) or 1
    shares = {k: round(100 * v / busy, 1) for k, v in counts.items() if v and k != "idle"}
    return {
        "idle": round(100 * counts["idle"] / total, 1),
        **shares,
        "no_sniffio": round(100 * sniff / busy, 1),
    }


def ptb_bot(api_url: str, token: str, texts_file: str) -> None:
    """The peer: a plain PTB 22 bot with the builder's defaults."""
    from telegram import Update
    from telegram.ext import Application, CommandHandler, ContextTypes

    texts: dict[str, str] = json.loads(Path(texts_file).read_text())

    def answer(command: str) -> Any:
        async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            assert update.message is not None
            await update.message.reply_text(texts[command])

        return handler

    app = Application.builder().token(token).base_url(f"{api_url}/bot").build()
    for command in COMMANDS:
        app.add_handler(CommandHandler(command.lstrip("/"), answer(command)))
    app.run_polling()


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return f"{cpu}, {os.cpu_count()} CPU, Python {platform.python_version()}"


async def bench(repeat: int, within: float, profile: Path | None) -> dict[str, Any]:
    import telegram

    runs: dict[str, list[dict[str, Any]]] = {"statbot": [], "ptb": []}
    texts = dict(FALLBACK_TEXTS)
    for _ in range(repeat):
        result = await one_run("statbot", texts, within, profile)
        texts = result["texts"] or texts  # the peer answers with statbot's own texts
        runs["statbot"].append(result)
        runs["ptb"].append(await one_run("ptb", texts, within, profile))

    def median(name: str, field: str) -> float:
        return round(float(statistics.median(r[field] for r in runs[name])), 1)

    if profile is not None:
        for name in runs:
            shares = breakdown(profile / name)
            print(
                json.dumps({"profile": name, "unit": "% of busy samples", **shares}),
                file=sys.stderr,
            )
    statbot_p99, ptb_p99 = median("statbot", "p99"), median("ptb", "p99")
    pairs = [s["p99"] / p["p99"] for s, p in zip(runs["statbot"], runs["ptb"], strict=True)]
    return {
        "statbot_p99_ms": statbot_p99,
        "ptb_p99_ms": ptb_p99,
        # Median of the paired ratios: each pair ran back to back, so load from other work on
        # the machine drifting between pairs cancels out (a ratio of medians mixes pairs).
        "ratio": round(statistics.median(pairs), 2),
        "lost": sum(r["lost"] for r in runs["statbot"]),
        "ptb_lost": sum(r["lost"] for r in runs["ptb"]),
        "statbot_p50_ms": median("statbot", "p50"),
        "ptb_p50_ms": median("ptb", "p50"),
        "statbot_p99_runs_ms": [round(r["p99"], 1) for r in runs["statbot"]],
        "ptb_p99_runs_ms": [round(r["p99"], 1) for r in runs["ptb"]],
        "ratio_runs": [round(r, 2) for r in pairs],
        "statbot_cpu_ms": round(1000 * statistics.median(r["cpu"] for r in runs["statbot"])),
        "ptb_cpu_ms": round(1000 * statistics.median(r["cpu"] for r in runs["ptb"])),
        "users": USERS,
        "commands": len(COMMANDS),
        "repeat": repeat,
        "python_telegram_bot": telegram.__version__,
        "cores": os.cpu_count(),
        "machine": machine(),
    }


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--ptb-bot":
        ptb_bot(*sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per burst")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy output folder")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(bench(args.repeat, args.timeout, args.profile))), flush=True)


if __name__ == "__main__":
    main()

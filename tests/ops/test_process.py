"""Process-level promises with real subprocesses (issue #6): one instance per token, the lock
freed by a SIGKILL, a 409 Conflict stops the bot cleanly, SIGTERM drains and exits 0, and a
SIGKILL mid-conversation loses nothing and doubles nothing."""

from __future__ import annotations

import asyncio
import io
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from statbot.sandbox.client import ChatView, SandboxClient
from tests.ops.procs import kill_quietly, start_bot, start_sandbox

T = TypeVar("T")


def drive(port: int, script: Callable[[SandboxClient], Awaitable[T]]) -> T:
    async def main() -> T:
        async with SandboxClient(f"http://127.0.0.1:{port}") as client:
            return await script(client)

    return asyncio.run(main())


def csv_bytes() -> bytes:
    out = io.StringIO()
    out.write("price,rooms\n")
    for i in range(20):
        out.write(f"{100 + 2.5 * i},{i % 4 + 1}\n")
    return out.getvalue().encode()


def bot_texts(chat: ChatView) -> list[str]:
    return [m.text or m.caption or "" for m in chat.bot_messages]


async def _until(client: SandboxClient, needle: str, within: float = 60) -> ChatView:
    deadline = time.monotonic() + within
    while True:
        chat = await client.wait_idle(300, within=within)
        if any(needle in t for t in bot_texts(chat)):
            return chat
        if time.monotonic() > deadline:
            raise AssertionError(f"no {needle!r} in {bot_texts(chat)[-5:]}")
        await asyncio.sleep(0.2)


def test_second_instance_is_refused_and_sigkill_frees_the_lock(tmp_path: Path) -> None:
    sandbox = start_sandbox(tmp_path)
    api = f"http://127.0.0.1:{sandbox.port}"
    first = second = third = None
    try:
        first = start_bot(api, tmp_path / "data", tmp_path / "bot1.log")
        started = time.monotonic()
        second = start_bot(api, tmp_path / "data", tmp_path / "bot2.log", ready=False)
        code = second.popen.wait(30)
        assert code == 5, second.text()
        assert f"PID {first.pid}" in second.text()
        # Under 2 s once the interpreter is up (imports dominate a cold start here).
        assert time.monotonic() - started < 15
        first.stop(signal.SIGKILL)
        third = start_bot(api, tmp_path / "data", tmp_path / "bot3.log")
        assert third.stop() == 0
    finally:
        kill_quietly(first, second, third, sandbox)


def test_conflict_stops_the_bot_cleanly(tmp_path: Path) -> None:
    sandbox = start_sandbox(tmp_path)
    api = f"http://127.0.0.1:{sandbox.port}"
    a = b = None
    try:
        a = start_bot(api, tmp_path / "a", tmp_path / "a.log")
        b = start_bot(api, tmp_path / "b", tmp_path / "b.log", ready=False)  # another machine
        b.wait_for("statbot running", 60)
        deadline = time.monotonic() + 30
        while a.popen.poll() is None and b.popen.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        loser = a if a.popen.poll() is not None else b
        assert loser.popen.poll() == 4, loser.text()
        assert "CRITICAL" in loser.text() and "Conflict" in loser.text()
    finally:
        kill_quietly(a, b, sandbox)


def test_kill_and_term_mid_conversation_lose_and_double_nothing(tmp_path: Path) -> None:
    sandbox = start_sandbox(tmp_path)
    api = f"http://127.0.0.1:{sandbox.port}"
    bot = None
    try:
        bot = start_bot(api, tmp_path / "data", tmp_path / "bot.log")

        async def begin(client: SandboxClient) -> ChatView:
            await client.send("/describe")
            await _until(client, "Send me a CSV")
            await client.upload(csv_bytes(), "prices.csv")
            return await _until(client, "Done")

        chat = drive(sandbox.port, begin)
        menu_count = len(chat.bot_messages)
        bot.stop(signal.SIGKILL)  # no drain, no goodbye
        bot = start_bot(api, tmp_path / "data", tmp_path / "bot-2.log")

        async def press_price(client: SandboxClient) -> ChatView:
            chat = await client.chat()
            menu = chat.bot_messages[-1]
            await client.press(menu.message_id, menu.buttons[0][0]["callback_data"])
            return await client.wait_idle(500, within=30)

        chat = drive(sandbox.port, press_price)
        assert bot.stop(signal.SIGTERM) == 0, bot.text()
        assert "statbot stopped (exit 0)" in bot.text()
        bot = start_bot(api, tmp_path / "data", tmp_path / "bot-3.log")

        async def finish(client: SandboxClient) -> ChatView:
            chat = await client.chat()
            await client.press(chat.bot_messages[-1].message_id, "d:")
            return await _until(client, "mean")

        chat = drive(sandbox.port, finish)
        texts = bot_texts(chat)
        # The conversation continued at the same step across a SIGKILL and a SIGTERM; every
        # reply arrived exactly once.
        assert sum("Send me a CSV" in t for t in texts) == 1
        assert len(chat.bot_messages) >= menu_count
        assert sum("mean" in t for t in texts) == 1, texts
        assert sum(1 for m in chat.bot_messages if m.document) == 1
    finally:
        kill_quietly(bot, sandbox)


def iris_csv(drop_target: bool = False) -> bytes:
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).frame
    if drop_target:
        frame = frame.drop(columns=["target"]).head(5)
    return frame.to_csv(index=False).encode()


async def _press(client: SandboxClient, label: str) -> None:
    chat = await client.chat()
    for message in reversed(chat.bot_messages):
        for row in message.buttons:
            for button in row:
                if button["text"].lower().startswith(label.lower()):
                    await client.press(message.message_id, button["callback_data"])
                    return
    raise AssertionError(f"no button {label!r}")


def test_sigkill_and_sigterm_during_training_train_exactly_once(tmp_path: Path) -> None:
    sandbox = start_sandbox(tmp_path)
    api = f"http://127.0.0.1:{sandbox.port}"
    data = tmp_path / "data"
    bot = None
    try:
        bot = start_bot(api, data, tmp_path / "bot.log")

        async def until_training(client: SandboxClient) -> None:
            await client.send("/train")
            await _until(client, "Send me your data")
            await client.upload(iris_csv(), "iris.csv")
            await _until(client, "Column types")
            await _press(client, "Looks right")
            await _until(client, "predict (the target)")
            await client.send("target")
            await _until(client, "learn from")
            await client.send("all")
            await _until(client, "Which model")
            await client.send("logistic regression")
            await _until(client, "Ready to train")
            await _press(client, "Train")
            await _until(client, "%")

        drive(sandbox.port, until_training)
        bot.stop(signal.SIGKILL)  # the bot dies mid-training; the job table survives
        bot = start_bot(api, data, tmp_path / "bot-2.log")
        time.sleep(0.5)
        assert bot.stop(signal.SIGTERM) == 0, bot.text()  # and a graceful stop on top
        bot = start_bot(api, data, tmp_path / "bot-3.log")
        chat = drive(sandbox.port, lambda c: _until(c, "Model trained", within=180))
        time.sleep(1.0)
        chat = drive(sandbox.port, lambda c: c.wait_idle(500, within=30))
        texts = bot_texts(chat)
        assert sum("Model trained" in t for t in texts) == 1, texts[-6:]
        models = list((data / "models").rglob("*.skops"))
        assert len(models) == 1, models
    finally:
        kill_quietly(bot, sandbox)


def test_health_endpoints_and_manager_cli(tmp_path: Path) -> None:
    import json
    import shutil
    import subprocess

    from tests.ops.procs import bot_env, free_port, http_get, statbot

    sandbox = start_sandbox(tmp_path)
    api = f"http://127.0.0.1:{sandbox.port}"
    port = free_port()
    env = {**bot_env(api, tmp_path / "data", port)}
    full_env = {**__import__("os").environ, **env}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            statbot(*args), env=full_env, capture_output=True, text=True, timeout=60, check=False
        )

    try:
        assert cli("status").returncode == 3
        started = cli("start")
        assert started.returncode == 0, started.stderr
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if http_get(port, "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        assert http_get(port, "/livez")[0] == 200
        code, body = http_get(port, "/readyz")
        assert code == 200, body
        assert set(json.loads(body)["checks"]) == {"store", "jobs", "telegram", "lock"}
        drive(sandbox.port, lambda c: c.send("/start"))
        drive(sandbox.port, lambda c: c.wait_for_bot_messages(1))
        code, metrics = http_get(port, "/metrics")
        assert code == 200 and "statbot_updates_received_total 1.0" in metrics
        assert "statbot_updates_applied_total 1.0" in metrics
        assert "statbot_handling_seconds_count 1.0" in metrics
        promtool = shutil.which("promtool")
        assert promtool, "promtool missing: scripts/install-test-system.sh installs prometheus"
        checked = subprocess.run(
            [promtool, "check", "metrics"],
            input=metrics,
            text=True,
            capture_output=True,
            check=False,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
        status = json.loads(http_get(port, "/status")[1])
        assert status["mode"] == "polling" and status["version"]
        assert {"pid", "uptime_seconds", "sessions", "jobs"} <= set(status)
        shown = cli("status")
        assert shown.returncode == 0 and '"lock_held": true' in shown.stdout
        # /readyz names what is broken: the Bot API goes away.
        sandbox.stop(signal.SIGKILL)
        code, body = http_get(port, "/readyz")
        assert code == 503 and "telegram" in json.loads(body)["failing"]
        stopped = cli("stop")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert cli("status").returncode == 3
    finally:
        cli("stop")
        kill_quietly(sandbox)

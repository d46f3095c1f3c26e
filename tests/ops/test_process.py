"""Process-level promises with real subprocesses (issue #6): one instance per token, the lock
freed by a SIGKILL, a 409 Conflict stops the bot cleanly, SIGTERM drains and exits 0, and a
SIGKILL mid-conversation loses nothing and doubles nothing.

And `statbot start/stop/restart/status` tell the truth (issue 15): stop and status find a bot
that a plain `statbot run` started (no PID file); start waits for /readyz and reports a bot that
exits at once (refused token, health port taken) with its exit code and log; restart gives a
new, ready process; each start rotates the log."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from statbot.ops.lock import InstanceLock
from statbot.ops.process import Paths, Target, find_bot, pid_alive, read_pid
from statbot.sandbox.client import ChatView, SandboxClient
from tests.ops.procs import (
    TOKEN,
    Proc,
    bot_env,
    free_port,
    kill_quietly,
    start_bot,
    start_sandbox,
    statbot,
    status_json,
)

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
    text: str = frame.to_csv(index=False)
    return text.encode()


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
        drive(sandbox.port, lambda c: c.send("/train"))
        drive(sandbox.port, lambda c: c.wait_for_bot_messages(2))
        code, metrics = http_get(port, "/metrics")
        assert code == 200 and "statbot_updates_received_total 2.0" in metrics
        assert "statbot_updates_applied_total 2.0" in metrics
        assert "statbot_handling_seconds_count 2.0" in metrics
        assert 'statbot_sessions_in_workflow{workflow="train"} 1.0' in metrics
        assert 'statbot_disk_bytes{area="datasets"}' in metrics
        assert "statbot_sweep_runs_total" in metrics
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


class Cli:
    """`statbot <command>` as an operator types it, with the bot's environment."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = {**os.environ, **env}
        self.data_dir = Path(env["STATBOT_DATA_DIR"])

    def __call__(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            statbot(*args),
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def cleanup(self) -> None:
        """Stop what `statbot start` left running, by the PID its PID file names."""
        pid = read_pid(Paths.under(self.data_dir))
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Proc]:
    proc = start_sandbox(tmp_path)
    try:
        yield proc
    finally:
        kill_quietly(proc)


def api(sandbox: Proc) -> str:
    return f"http://127.0.0.1:{sandbox.port}"


def started_pid(out: str) -> int:
    match = re.search(r"running, PID (\d+), ready", out)
    assert match, out
    return int(match.group(1))


def test_stop_and_status_find_a_bot_started_with_plain_run(tmp_path: Path, sandbox: Proc) -> None:
    data = tmp_path / "data"
    bot = start_bot(api(sandbox), data, tmp_path / "bot.log")
    cli = Cli(bot_env(api(sandbox), data, bot.port))
    try:
        assert not Paths.under(data).pid_file.exists()  # nothing `statbot start` would leave
        target = Target(Paths.under(data), InstanceLock.for_token(data, TOKEN), bot.port)
        found = find_bot(target)
        assert found is not None and (found.pid, found.via) == (bot.pid, "instance lock")
        # Without the lock (a webhook bot takes none) the health server's /status names it.
        found = find_bot(Target(Paths.under(data), None, bot.port))
        assert found is not None and (found.pid, found.via) == (bot.pid, "health server")
        assert status_json(bot.port)["pid"] == bot.pid

        shown = cli("status")
        assert shown.returncode == 0, shown.stdout + shown.stderr
        assert f'"pid": {bot.pid}' in shown.stdout and '"found_by": "instance lock"' in shown.stdout

        stopped = cli("stop")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert f"statbot (PID {bot.pid}, found by its instance lock) stopped" in stopped.stdout
        assert bot.popen.wait(10) == 0  # SIGTERM: drained and exited 0
        assert "statbot stopped (exit 0)" in bot.text()
        shown = cli("status")
        assert shown.returncode == 3 and "not running" in shown.stdout
        assert cli("stop").stdout.strip() == "statbot is not running"
    finally:
        kill_quietly(bot)


def test_start_reports_a_refused_token_with_its_exit_code_and_log(
    tmp_path: Path, sandbox: Proc
) -> None:
    data = tmp_path / "data"
    wrong = "999999:NOT-A-SANDBOX-BOT"  # the sandbox answers 401 Unauthorized for it
    cli = Cli(bot_env(api(sandbox), data, free_port(), STATBOT_TELEGRAM_TOKEN=wrong))
    try:
        started = cli("start")
        assert started.returncode == 1, started.stdout + started.stderr
        assert "exited with code 1 before it was ready" in started.stderr
        assert "statbot cannot start: Telegram rejected the bot token" in started.stderr
        assert wrong not in started.stderr + started.stdout
        assert not Paths.under(data).pid_file.exists()
        assert cli("status").returncode == 3
    finally:
        cli.cleanup()


def test_start_reports_a_taken_health_port(tmp_path: Path, sandbox: Proc) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        cli = Cli(bot_env(api(sandbox), tmp_path / "data", port))
        try:
            started = cli("start")
            assert started.returncode == 1, started.stdout + started.stderr
            assert "exited with code 1 before it was ready" in started.stderr
            assert "address already in use" in started.stderr
            assert "another process listens on that port" in started.stderr
            assert "Traceback" not in started.stderr  # a sentence, not a stack
        finally:
            cli.cleanup()


def test_restart_gives_a_new_ready_process_and_rotates_the_log(
    tmp_path: Path, sandbox: Proc
) -> None:
    data = tmp_path / "data"
    port = free_port()
    cli = Cli(bot_env(api(sandbox), data, port))
    paths = Paths.under(data)
    try:
        first = cli("start")
        assert first.returncode == 0, first.stdout + first.stderr
        old = started_pid(first.stdout)
        assert status_json(port)["pid"] == old
        again = cli("start")
        assert again.returncode == 1 and f"already running (PID {old}" in again.stderr

        restarted = cli("restart")
        assert restarted.returncode == 0, restarted.stdout + restarted.stderr
        assert f"statbot (PID {old}, found by its instance lock) stopped" in restarted.stdout
        new = started_pid(restarted.stdout)
        assert new != old and not pid_alive(old)
        assert status_json(port)["pid"] == new and read_pid(paths) == new
        # Each start wrote its own log: the first run's, with its graceful stop, moved to .1.
        previous = paths.log_file.with_name("statbot.log.1").read_text()
        assert "statbot stopped (exit 0)" in previous
        assert "statbot stopped" not in paths.log_file.read_text()

        stopped = cli("stop")
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert not pid_alive(new) and not paths.pid_file.exists()
    finally:
        cli.cleanup()

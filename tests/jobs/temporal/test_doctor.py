"""`statbot doctor` with STATBOT_JOBS=temporal (issue 14), against the dev server: it reaches
the server and the namespace, finds the search attribute, and sees the workers polling the task
queue (a `statbot worker` process) or says that none does."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from tests.support.doctor import doctor as run_doctor
from tests.support.doctor import line
from tests.support.temporal import temporal_cli
from typer.testing import CliRunner

from statbot.cli import app


def test_doctor_reaches_the_temporal_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, temporal_server, queue
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("STATBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("STATBOT_SESSION_STORE", "sqlite")
    monkeypatch.setenv("STATBOT_JOBS", "temporal")
    monkeypatch.setenv("STATBOT_TEMPORAL_ADDRESS", temporal_server.address)
    monkeypatch.setenv("STATBOT_TEMPORAL_TASK_QUEUE", queue)
    result = CliRunner().invoke(app, ["doctor"])
    assert f"[ok] temporal at {temporal_server.address}" in result.output
    assert f"task queue {queue}: 0 job workflow(s)" in result.output
    assert result.exit_code == 0, result.output


def doctor(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> tuple[int, str]:
    return run_doctor(
        monkeypatch, tmp_path, **{"session_store": "sqlite", "jobs": "temporal", **env}
    )


def test_doctor_sees_the_workers_polling_the_task_queue(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, temporal_server, queue, workers
) -> None:
    env = {"temporal_address": temporal_server.address, "temporal_task_queue": queue,
           "temporal_worker": "false", "temporal_deployment": "blue"}  # fmt: skip
    code, out = doctor(monkeypatch, tmp_path, **env)
    assert code == 0, out  # a warning: the jobs would wait, but nothing is broken
    assert line(out, "temporal workers") == (
        f"[warn] temporal workers: no worker polls task queue {queue}: jobs wait until a "
        "`statbot worker` runs (STATBOT_TEMPORAL_WORKER=false: the bot runs none)"
    )
    assert line(out, "temporal search attribute") == (
        "[ok] temporal search attribute: StatbotUser (Int) registered"
    )
    assert "deployment blue, task queue" in line(out, f"temporal at {temporal_server.address}")
    proc = workers.start()
    deadline = time.monotonic() + 60
    while True:
        code, out = doctor(monkeypatch, tmp_path, **env)
        if "[ok] temporal workers" in out or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert line(out, "temporal workers").startswith(
        f"[ok] temporal workers: 1 worker(s) poll task queue {queue}: {proc.pid}@"
    )
    assert code == 0, out


def test_doctor_fails_on_a_namespace_that_does_not_exist(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, temporal_server, queue
) -> None:
    code, out = doctor(
        monkeypatch, tmp_path, temporal_address=temporal_server.address,
        temporal_task_queue=queue, temporal_namespace="nowhere",
    )  # fmt: skip
    assert code == 1, out
    assert line(out, f"temporal at {temporal_server.address}") == (
        f"[FAIL] temporal at {temporal_server.address}: namespace nowhere does not exist: "
        "create it (`temporal operator namespace create nowhere`) or set "
        "STATBOT_TEMPORAL_NAMESPACE"
    )


def test_doctor_warns_when_the_search_attribute_is_not_registered(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, temporal_server, queue
) -> None:
    namespace = f"ns-{queue}"
    create = [temporal_cli(), "operator", "namespace", "create", "--address",
              temporal_server.address, "--namespace", namespace]  # fmt: skip
    subprocess.run(create, check=True, capture_output=True, timeout=60)
    env = {"temporal_address": temporal_server.address, "temporal_task_queue": queue,
           "temporal_namespace": namespace}  # fmt: skip
    deadline = time.monotonic() + 30
    while True:  # a new namespace takes a moment to reach every service of the server
        code, out = doctor(monkeypatch, tmp_path, **env)
        if "does not exist" not in out or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert code == 0, out
    assert line(out, "temporal search attribute").startswith(
        f"[warn] temporal search attribute: StatbotUser is not registered in namespace "
        f"{namespace}: the bot registers it at start"
    )

"""The JobRunner contract's value types and the package surface."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import statbot.jobs
from statbot.engine.events import EventKind
from statbot.jobs import JobInfo, JobSpec, JobStatus


def test_all_names_exist():
    assert sorted(statbot.jobs.__all__) == statbot.jobs.__all__
    for name in statbot.jobs.__all__:
        assert getattr(statbot.jobs, name) is not None


def test_spec_round_trips_and_ids_follow_the_idempotency_key():
    spec = JobSpec("train", "telegram:1:2", 2, "u77", {"a": [1, 2]}, timeout_s=5, memory_mb=100)
    again = JobSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec
    assert again.job_id == spec.job_id
    assert JobSpec("train", "telegram:1:2", 2, "u78").job_id != spec.job_id
    assert len(spec.job_id) == 16


def test_finished_statuses():
    assert {s for s in JobStatus if s.finished} == {
        JobStatus.SUCCEEDED,
        JobStatus.FAILED,
        JobStatus.CANCELLED,
    }


def test_events_carry_the_conversation_and_stable_ids():
    spec = JobSpec("train", "telegram:-100:7", 7, "u1")
    info = JobInfo(spec.job_id, spec, JobStatus.RUNNING, attempts=2, progress=0.5, message="m")
    progress = info.progress_event("2.3", resumed=True)
    assert progress.kind is EventKind.JOB_PROGRESS
    assert progress.event_id == f"j{spec.job_id}:2.3"
    assert progress.key.chat_id == -100 and progress.key.user_id == 7
    assert progress.job == {
        "job_id": spec.job_id,
        "kind": "train",
        "status": "running",
        "progress": 0.5,
        "message": "m",
        "attempt": 2,
        "resumed": True,
    }
    info.status, info.error = JobStatus.FAILED, "It broke."
    done = info.finished_event()
    assert done.kind is EventKind.JOB_FINISHED and done.event_id == f"j{spec.job_id}:done"
    assert done.job is not None and done.job["error"] == "It broke."
    assert json.loads(json.dumps(info.to_dict()))["spec"]["idempotency_key"] == "u1"


def test_registering_a_kind_twice_with_another_function_is_refused():
    from statbot.errors import JobError
    from statbot.jobs import register_job

    @register_job("test.contract.once")
    def first(payload, progress, workdir):
        return {}

    register_job("test.contract.once")(first)  # the same function again is fine (re-import)
    with pytest.raises(JobError):

        @register_job("test.contract.once")
        def second(payload, progress, workdir):
            return {}


def test_importing_jobs_stays_light():
    code = (
        "import sys, statbot.jobs, statbot.jobs.local, statbot.jobs.builtin;"
        "heavy = [m for m in ('pandas', 'sklearn', 'matplotlib', 'numpy') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

"""Background jobs: the JobRunner contract (base.py), job kinds (kinds.py) and the local
runner (local.py: one subprocess per job, the job table on the catalog database). See base.py
for the events. The ingest saga's steps after the download (ingest.py) and the Saga
(saga.py) live here too: the runner runs them (``JobRunner.ingest``), inline or on Temporal."""

from __future__ import annotations

from statbot.jobs.base import Emit, JobInfo, JobRunner, JobSpec, JobStatus
from statbot.jobs.kinds import JobFunction, Progress, get_job, register_job

__all__ = [
    "Emit",
    "JobFunction",
    "JobInfo",
    "JobRunner",
    "JobSpec",
    "JobStatus",
    "Progress",
    "get_job",
    "register_job",
]

"""Background jobs: the JobRunner contract (base.py), job kinds (kinds.py) and the local
runner (local.py: one subprocess per job, the job table on the catalog database). See base.py
for the events."""

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

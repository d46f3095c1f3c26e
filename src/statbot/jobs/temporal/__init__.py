"""Jobs on Temporal (issue 14): ``STATBOT_JOBS=temporal``.

One concept a module: :mod:`.messages` (the workflow's input and the names both sides share),
:mod:`.workflow` (the job as a workflow: one activity, then its outcome held until the bot has
it), :mod:`.activity` (the activity: the job's worker subprocess, supervised, with heartbeats),
:mod:`.worker` (the Temporal worker, in the bot or as ``statbot worker``), :mod:`.scope` (one
deployment's workflow ids and visibility queries in a shared namespace), :mod:`.watch` (the
bot's side: heartbeats → ``JOB_PROGRESS``, the outcome → ``JOB_FINISHED``), :mod:`.state`
(a workflow as a :class:`~statbot.jobs.base.JobInfo`) and :mod:`.runner` (the
:class:`~statbot.jobs.base.JobRunner`). The ingest saga: :mod:`.ingest` (the workflow, its
compensations in reverse), :mod:`.ingest_activity` (an activity a step) and
:mod:`.ingest_start` (the bot's side: start or attach, the outcome, ``/forget``).

Nothing here is imported unless the temporal runner is chosen: ``temporalio`` is the optional
extra ``statbot[temporal]``. This package's ``__init__`` imports nothing, so the workflow
sandbox can import :mod:`.workflow` without pulling in the client.
"""

"""One deployment's jobs in a shared namespace: their workflow ids and the visibility queries
that find them (issue 14).

Several statbot deployments may share one Temporal namespace (a staging and a production bot,
two teams' bots). A job id is derived from the chat and the update id that asked for it, so two
bots can compute the same one; the workflow id is therefore ``<deployment>/<job id>``, and every
query names the deployment (and the task queue its workers serve). The deployment defaults to
the task queue (``STATBOT_TEMPORAL_DEPLOYMENT``, else ``STATBOT_TEMPORAL_TASK_QUEUE``): two
deployments must not share a task queue anyway, or one's workers would run the other's jobs on
the wrong data volume. Replicas of one bot share both, and so see the same jobs.
"""

from __future__ import annotations

from dataclasses import dataclass

from statbot.jobs.temporal.messages import INGEST_WORKFLOW, USER_ATTRIBUTE, WORKFLOW


def _literal(value: str) -> str:
    """``value`` as a visibility-query string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True, slots=True)
class Scope:
    """The jobs of one deployment: ``deployment`` prefixes their workflow ids, ``task_queue``
    is where its workers poll."""

    task_queue: str
    deployment: str = ""

    def __post_init__(self) -> None:
        if not self.deployment:
            object.__setattr__(self, "deployment", self.task_queue)

    @property
    def prefix(self) -> str:
        return f"{self.deployment}/"

    def workflow_id(self, job_id: str) -> str:
        return f"{self.prefix}{job_id}"

    def ingest_id(self, user_id: int, event_id: str) -> str:
        """The ingest workflow of one event: a replayed event finds it (``ingest/`` keeps it
        apart from the job ids, which are hex digests)."""
        return f"{self.prefix}ingest/{int(user_id)}/{event_id}"

    def ingests_query(self, user_id: int) -> str:
        """This deployment's ingest workflows of one user (``/forget``)."""
        prefix = f"{self.prefix}ingest/{int(user_id)}/"
        kind = _literal(INGEST_WORKFLOW)
        return f"WorkflowType={kind} AND WorkflowId STARTS_WITH {_literal(prefix)}"

    def job_id(self, workflow_id: str) -> str | None:
        """The job id of one of this deployment's workflow ids; None for anyone else's."""
        if not workflow_id.startswith(self.prefix):
            return None
        return workflow_id[len(self.prefix) :]

    @property
    def jobs_query(self) -> str:
        """Visibility query: this deployment's job workflows, running or closed."""
        return (
            f"WorkflowType={_literal(WORKFLOW)} AND TaskQueue={_literal(self.task_queue)} "
            f"AND WorkflowId STARTS_WITH {_literal(self.prefix)}"
        )

    @property
    def running_query(self) -> str:
        """This deployment's job workflows still running: the watcher's one list a tick."""
        return f"{self.jobs_query} AND ExecutionStatus='Running'"

    def user_query(self, user_id: int) -> str:
        """This deployment's job workflows of one user (``/forget``, ``list``), on any task
        queue (one it served before, too)."""
        return (
            f"WorkflowType={_literal(WORKFLOW)} AND WorkflowId STARTS_WITH {_literal(self.prefix)}"
            f" AND {USER_ATTRIBUTE} = {int(user_id)}"
        )

"""The bot's side of the ingest workflow (issue 14): start it, or find the one the event
started already, and wait for its outcome.

The workflow id is the event's (:meth:`~.scope.Scope.ingest_id`). A start meets a running
workflow of that id and attaches to it (``USE_EXISTING``); a closed one refuses the start
(``REJECT_DUPLICATE``), and its result is read instead: a replayed event never stores the file
twice, and gets the same dataset (or the same refusal) back.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from statbot.jobs.ingest import IngestFailed, IngestInput, Stored
from statbot.jobs.saga import Saga
from statbot.jobs.temporal.connection import user_attributes
from statbot.jobs.temporal.messages import INGEST_FAILED, INGEST_WORKFLOW
from statbot.jobs.temporal.scope import Scope

log = logging.getLogger(__name__)
WAITED = "workflow"  # the step named when the workflow did not say (timed out, terminated)


async def run_ingest(
    client: Client, scope: Scope, job: IngestInput, saga: Saga, *, wait_s: float
) -> Stored:
    """The workflow's stored dataset; :class:`IngestFailed` (``saga`` told what the workflow
    undid) when it failed, or did not end within ``wait_s`` (it may still: what it stores
    then is named by no session, and the datasets' orphan sweep removes it)."""
    workflow_id = scope.ingest_id(job.user_id, job.event_id)
    try:
        handle = await client.start_workflow(
            INGEST_WORKFLOW,
            job,
            id=workflow_id,
            task_queue=scope.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=user_attributes(job.user_id),
            result_type=dict,
        )
    except WorkflowAlreadyStartedError:  # closed: its outcome is this event's
        log.info("ingest %s ran already; reading its outcome", workflow_id)
        handle = client.get_workflow_handle(workflow_id, result_type=dict)
    try:
        async with asyncio.timeout(wait_s):
            done: dict[str, Any] = await handle.result()
    except TimeoutError:
        failed = IngestFailed(WAITED, [], None, f"{workflow_id} did not end in {wait_s} s")
        saga.failed_elsewhere(WAITED, [])
        raise failed from None
    except WorkflowFailureError as exc:
        failed = _failed(workflow_id, exc)
        saga.failed_elsewhere(failed.step, failed.undone)
        raise failed from exc
    return Stored.from_dict(done)


async def delete_ingests(client: Client, scope: Scope, namespace: str, user_id: int) -> int:
    """``/forget``: delete the user's ingest workflows (their histories name the user's files);
    a running one is terminated by the deletion. Returns how many."""
    ids = [w.id async for w in client.list_workflows(scope.ingests_query(user_id))]
    for workflow_id in ids:
        request = DeleteWorkflowExecutionRequest(
            namespace=namespace, workflow_execution=WorkflowExecution(workflow_id=workflow_id)
        )
        try:
            await client.workflow_service.delete_workflow_execution(request)
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                raise
    return len(ids)


def _failed(workflow_id: str, exc: WorkflowFailureError) -> IngestFailed:
    cause = exc.cause
    if isinstance(cause, ApplicationError) and cause.type == INGEST_FAILED and cause.details:
        outcome = cause.details[0]
        if isinstance(outcome, dict):
            return IngestFailed(
                str(outcome.get("step") or ""),
                [str(step) for step in outcome.get("undone") or []],
                outcome.get("user_message"),
                str(outcome.get("detail") or ""),
            )
    return IngestFailed(WAITED, [], None, f"{workflow_id} ended: {cause or exc}")

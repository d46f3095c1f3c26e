"""``statbot doctor`` with ``STATBOT_JOBS=temporal``: the server, the namespace, statbot's
search attribute and the workers polling the task queue (issue 14). Read-only: it registers
nothing (the bot registers the search attribute at start when the namespace lets it)."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from statbot.cli.doctor import Report
    from statbot.config import Settings

# A worker's long poll lasts about a minute; one not seen for longer than this has gone.
LIVE_POLLER_S = 120.0


async def check_temporal(settings: Settings, report: Report) -> None:
    what = f"temporal at {settings.temporal_address}"
    try:
        from temporalio.api.enums.v1 import IndexedValueType
        from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
        from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
        from temporalio.service import RPCError, RPCStatusCode

        from statbot.jobs.temporal.connection import connect
        from statbot.jobs.temporal.messages import USER_ATTRIBUTE
        from statbot.jobs.temporal.scope import Scope
    except ImportError as exc:
        report(
            "fail",
            "temporal",
            f"the temporal extra is not installed (pip install 'statbot[temporal]'): {exc}",
        )
        return
    namespace, queue = settings.temporal_namespace, settings.temporal_task_queue
    scope = Scope(queue, settings.temporal_deployment or "")
    try:
        client = await asyncio.wait_for(connect(settings.temporal_address, namespace), 10)
        described = await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=namespace)
        )
        found = await client.count_workflows(scope.jobs_query)
    except RPCError as exc:
        if exc.status is RPCStatusCode.NOT_FOUND:
            report(
                "fail",
                what,
                f"namespace {namespace} does not exist: create it "
                f"(`temporal operator namespace create {namespace}`) or set "
                "STATBOT_TEMPORAL_NAMESPACE",
            )
        else:
            report("fail", what, f"{type(exc).__name__}: {exc}")
        return
    except Exception as exc:
        report("fail", what, f"{type(exc).__name__}: {exc}")
        return
    retention = described.config.workflow_execution_retention_ttl.ToTimedelta()
    report(
        "ok",
        what,
        f"namespace {namespace} (closed workflows kept {_days(retention)}), "
        f"deployment {scope.deployment}, task queue {queue}: {found.count} job "
        "workflow(s)",
    )
    try:
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        pollers = await _pollers(client, namespace, queue)
    except RPCError as exc:
        report("fail", "temporal", f"cannot read the namespace's setup: {exc}")
        return
    kind = listed.custom_attributes.get(USER_ATTRIBUTE)
    create = f"`temporal operator search-attribute create --name {USER_ATTRIBUTE} --type Int`"
    if kind is None:
        report(
            "warn",
            "temporal search attribute",
            f"{USER_ATTRIBUTE} is not registered in "
            f"namespace {namespace}: the bot registers it at start if the namespace lets "
            f"it; otherwise {create}",
        )
    elif kind != IndexedValueType.INDEXED_VALUE_TYPE_INT:
        report(
            "fail",
            "temporal search attribute",
            f"{USER_ATTRIBUTE} is registered as "
            f"{IndexedValueType.Name(kind)}, not Int: /forget cannot find a user's jobs; "
            "remove it and register it as Int",
        )
    else:
        report("ok", "temporal search attribute", f"{USER_ATTRIBUTE} (Int) registered")
    _report_pollers(settings, report, queue, pollers)


async def _pollers(client: Any, namespace: str, queue: str) -> dict[str, list[str]]:
    """The identities polling ``queue`` lately, by task type (workflow, activity)."""
    from temporalio.api.enums.v1 import TaskQueueKind, TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

    found: dict[str, list[str]] = {}
    for name, kind in (
        ("workflow", TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
        ("activity", TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
    ):
        answer = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=namespace,
                task_queue=TaskQueue(name=queue, kind=TaskQueueKind.TASK_QUEUE_KIND_NORMAL),
                task_queue_type=kind,
            )
        )
        now = time.time()
        found[name] = sorted(
            p.identity
            for p in answer.pollers
            if now - p.last_access_time.ToDatetime().timestamp() < LIVE_POLLER_S
        )
    return found


def _report_pollers(
    settings: Settings, report: Report, queue: str, pollers: dict[str, list[str]]
) -> None:
    what = "temporal workers"
    workers = sorted(set(pollers["workflow"]) & set(pollers["activity"]))
    if workers:
        shown = ", ".join(workers[:5]) + (", …" if len(workers) > 5 else "")
        report("ok", what, f"{len(workers)} worker(s) poll task queue {queue}: {shown}")
    elif pollers["workflow"] or pollers["activity"]:
        report(
            "warn",
            what,
            f"task queue {queue} is polled for only "
            f"{'workflow' if pollers['workflow'] else 'activity'} tasks: a worker that is "
            "not statbot's shares the queue, or one is starting",
        )
    elif settings.temporal_worker:
        report(
            "ok",
            what,
            f"no worker polls task queue {queue} now; the bot runs one itself "
            "when it starts (STATBOT_TEMPORAL_WORKER=true)",
        )
    else:
        report(
            "warn",
            what,
            f"no worker polls task queue {queue}: jobs wait until a "
            "`statbot worker` runs (STATBOT_TEMPORAL_WORKER=false: the bot runs none)",
        )


def _days(delta: Any) -> str:
    days = delta.total_seconds() / 86400
    return f"{days:g} day(s)" if days else "forever"

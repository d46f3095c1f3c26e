"""Simulated users who train through the sandbox, and the Temporal worker drill (issue 14).

Each user uploads the diabetes table scikit-learn ships (442 rows, a regression), runs /train
and answers the wizard over the sandbox's control API (real HTTP) as a person would: "Looks
right", the target typed, all features ("Done"), the default model (*auto*, which compares
several by cross-validation: a few seconds of work, so a kill lands mid-training), "Train".
The bot's progress bar is the bot saying it started; its "Model trained" report, that it
finished. :func:`run_training_drill` SIGKILLs one ``statbot worker`` while the trainings run:
the one Temporal says holds the most running activities (``PendingActivityInfo``'s
``last_worker_identity`` is the worker's ``pid@host``).

The tally reads each chat back from the sandbox, the models from the catalog (PostgreSQL,
``statbot.access.catalog``: exactly one row per started training) and the deployment's job
workflows from Temporal (every one completed, none failed, none still running), and its ingest
workflows (the uploads run on the workers too).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from statbot.sandbox.client import ChatView, SandboxClient, SentMessage

if TYPE_CHECKING:
    from temporalio.client import Client

    from tests.support.replicas import Cluster, Replica

log = logging.getLogger(__name__)

FINISHED = "Model trained"
BAR = ("█", "░")  # the progress bar's cells (channels/telegram/render.py)
TARGET = "target"
STEP_S = 60.0  # one wizard step under load (the replicas share two cores with the workers)


def diabetes_csv() -> bytes:
    """scikit-learn's diabetes table (442 rows, ten numeric features, ``target``) as CSV."""
    from sklearn.datasets import load_diabetes

    return load_diabetes(as_frame=True).frame.to_csv(index=False).encode()


def _says(message: SentMessage) -> str:
    labels = " ".join(b.get("text", "") for row in message.buttons for b in row)
    return f"{message.text or ''}\n{message.caption or ''}\n{labels}"


def is_bar(message: SentMessage) -> bool:
    return (message.text or "").startswith(BAR)


@dataclass
class Trainer:
    """One user of the drill: the wizard's steps, then the wait for the report."""

    client: SandboxClient
    user_id: int
    data: bytes
    started_at: float | None = None
    finished_at: float | None = None
    problem: str = ""
    step: str = ""
    through: asyncio.Event = field(default_factory=asyncio.Event)  # started, or gave up

    async def _after(self, action: Awaitable[object], needle: str | None, last: int) -> int:
        """Wait for a bot message after ``last`` that says ``needle`` (any, when None);
        return the newest bot message id."""
        self.step = str(needle)
        deadline = time.monotonic() + STEP_S
        await action
        since: int | None = None
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no bot message with {needle!r} in {STEP_S:g} s")
            if since is None:
                view = await self.client.wait(
                    bot_messages=1, after_message_id=last, within=left, user_id=self.user_id
                )
            else:
                view = await self.client.wait(
                    changed_since=since, within=left, user_id=self.user_id
                )
            new = [m for m in view.bot_messages if m.message_id > last]
            if new and (needle is None or any(needle in _says(m) for m in new)):
                return max(m.message_id for m in view.bot_messages)
            since = view.seq

    async def _press(self, label: str, needle: str | None, last: int) -> int:
        chat = await self.client.chat(user_id=self.user_id)
        for message in reversed(chat.bot_messages):
            for button in (b for row in message.buttons for b in row):
                if button.get("text", "").lower().startswith(label.lower()):
                    press = self.client.press(
                        message.message_id, button["callback_data"], user_id=self.user_id
                    )
                    return await self._after(press, needle, last)
        raise LookupError(f"no button {label!r} in {[m.text for m in chat.bot_messages[-2:]]}")

    async def start(self) -> None:
        """Through the wizard until the bot shows the training's progress bar."""
        send, uid = self.client.send, self.user_id
        last = await self._after(send("/train", user_id=uid), None, 0)
        upload = self.client.upload(self.data, "diabetes.csv", user_id=uid)
        last = await self._after(upload, "Looks right", last)
        last = await self._press("Looks right", "(the target)", last)
        last = await self._after(send(TARGET, user_id=uid), "learn from", last)
        last = await self._press("Done", "Which model?", last)
        last = await self._press("auto", "Ready to train", last)  # the default offered
        await self._press("Train", BAR[1], last)
        self.started_at = time.time()

    async def finish(self, within: float) -> None:
        await self.client.wait(text_contains=FINISHED, within=within, user_id=self.user_id)
        self.finished_at = time.time()

    async def run(self, within: float) -> None:
        try:
            await self.start()
            self.through.set()
            await self.finish(within)
        except Exception as exc:  # the tally says what went wrong, user by user
            chat = await self.client.chat(user_id=self.user_id)
            said = [_says(m).replace("\n", " ")[:80] for m in chat.bot_messages[-3:]]
            self.problem = f"user {self.user_id} at {self.step}: {exc!r}; the bot said {said}"
        finally:
            self.through.set()


@dataclass
class TrainingTally:
    users: int
    started: int = 0  # trainings the bot said it started (a progress bar in the chat)
    finished: int = 0  # "Model trained" reports
    finished_twice: int = 0  # chats with more than one report (one training each)
    never_finished: int = 0  # started, never reported
    models_in_catalog: dict[int, int] = field(default_factory=dict)  # user id -> model rows
    workflows: dict[str, int] = field(default_factory=dict)  # closed status -> count
    ingests: dict[str, int] = field(default_factory=dict)  # the uploads' workflows, likewise
    killed: str = ""  # the worker SIGKILLed, and what it held when it died:
    held_activities: int = 0  # running activities Temporal had on it
    running_at_kill: int = 0  # trainings started and not finished
    seconds: float = 0.0  # from the first /train to the last report
    problems: list[str] = field(default_factory=list)

    @property
    def models_wrong(self) -> int:
        """Chats whose catalog does not hold exactly one model (one training each)."""
        return sum(1 for n in self.models_in_catalog.values() if n != 1)

    @property
    def exactly_once(self) -> bool:
        return (
            self.started == self.finished == self.users
            and self.finished_twice == self.never_finished == self.models_wrong == 0
            and len(self.models_in_catalog) == self.users
            and self.workflows == {"COMPLETED": self.users}
        )

    def as_dict(self) -> dict[str, object]:
        """The tally as a benchmark's JSON line would carry it."""
        return {
            "users": self.users,
            "started": self.started,
            "finished": self.finished,
            "finished_twice": self.finished_twice,
            "never_finished": self.never_finished,
            "models_not_one": self.models_wrong,
            "workflows": self.workflows,
            "ingests": self.ingests,
            "killed_worker": self.killed,
            "held_activities": self.held_activities,
            "running_at_kill": self.running_at_kill,
            "seconds": round(self.seconds, 1),
            "exactly_once": self.exactly_once,
        }

    def summary(self) -> str:
        return (
            f"{self.users} users: started {self.started}, finished {self.finished}, twice "
            f"{self.finished_twice}, never {self.never_finished}, model rows "
            f"{sorted(Counter(self.models_in_catalog.values()).items())}, workflows "
            f"{self.workflows}, ingests {self.ingests}; killed {self.killed or 'none'} holding "
            f"{self.held_activities} activities, {self.running_at_kill} trainings running; "
            f"{self.seconds:.1f} s; " + "; ".join(self.problems[:8])
        )


def _pid(identity: str) -> int | None:
    head = identity.split("@", 1)[0]
    return int(head) if head.isdigit() else None


async def activities_by_worker(client: Client, scope_query: str) -> Counter[int]:
    """Running activities of the deployment's workflows, by the PID of the worker that has
    each (Temporal's pending activity info)."""
    from temporalio.api.enums.v1 import PendingActivityState

    held: Counter[int] = Counter()
    running = f"{scope_query} AND ExecutionStatus='Running'"
    async for execution in client.list_workflows(running):
        described = await client.get_workflow_handle(execution.id).describe()
        for pending in described.raw_description.pending_activities:
            pid = _pid(pending.last_worker_identity)
            if pending.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED and pid:
                held[pid] += 1
    return held


async def _connect(cluster: Cluster) -> tuple[Client, str, str]:
    """A client, and the queries of the deployment's job and ingest workflows."""
    from statbot.jobs.temporal.connection import connect
    from statbot.jobs.temporal.messages import INGEST_WORKFLOW
    from statbot.jobs.temporal.scope import Scope

    env = cluster.replicas[0].env
    client = await connect(env["STATBOT_TEMPORAL_ADDRESS"], "default")
    scope = Scope(env["STATBOT_TEMPORAL_TASK_QUEUE"])
    ingests = f"WorkflowType='{INGEST_WORKFLOW}' AND WorkflowId STARTS_WITH '{scope.prefix}ingest/'"
    return client, scope.jobs_query, ingests


async def _kill_busiest(cluster: Cluster, client: Client, query: str) -> tuple[Replica, int]:
    """SIGKILL the worker that holds the most running activities; it, and how many."""
    held = await activities_by_worker(client, query)
    live = [w for w in cluster.workers if w.alive]
    if not live:
        raise AssertionError(
            "the drill kills a `statbot worker`: start the cluster with workers=N and "
            "STATBOT_TEMPORAL_WORKER=false"
        )
    worker = max(live, key=lambda w: held.get(w.popen.pid if w.popen else -1, 0))
    count = held.get(worker.popen.pid if worker.popen else -1, 0)
    worker.kill()
    return worker, count


async def workflow_statuses(client: Client, query: str, within: float) -> dict[str, int]:
    """Closed job workflows by status, once none is running (or ``within`` s passed)."""
    deadline = time.monotonic() + within
    while True:
        found = Counter(
            [e.status.name if e.status else "UNKNOWN" async for e in client.list_workflows(query)]
        )
        if not found.get("RUNNING") or time.monotonic() > deadline:
            return dict(found)
        await asyncio.sleep(0.5)


def models_per_user(database_url: str, users: list[int]) -> dict[int, int]:
    """Model rows in the catalog per user (every user counted, zero too)."""
    import sqlalchemy as sa

    from statbot.access.catalog import Catalog
    from statbot.access.models import SavedModel

    catalog = Catalog(database_url)
    try:
        with catalog.session() as session:
            query = sa.select(SavedModel.user_id, sa.func.count()).group_by(SavedModel.user_id)
            rows = {int(user): int(n) for user, n in session.execute(query)}
    finally:
        catalog.close()
    return {u: rows.get(u, 0) for u in users}


def count_chat(tally: TrainingTally, user_id: int, chat: ChatView) -> None:
    bars = sum(1 for m in chat.bot_messages if is_bar(m))
    reports = sum(1 for m in chat.bot_messages if FINISHED in (m.text or ""))
    tally.started += bars > 0
    tally.finished += reports
    if reports > 1:
        tally.finished_twice += 1
        tally.problems.append(f"user {user_id}: {reports} reports")
    if bars and not reports:
        tally.never_finished += 1
        tally.problems.append(f"user {user_id}: started, never finished")


async def run_training_drill(
    cluster: Cluster,
    sandbox_client: SandboxClient,
    users: int,
    kill_worker_after_s: float | None,
    *,
    within: float = 90.0,
) -> TrainingTally:
    """``users`` users train at once; ``kill_worker_after_s`` after the last of them started
    (None: no kill), the busiest ``statbot worker`` is SIGKILLed. Waits (up to ``within`` s)
    for every report, then tallies."""
    data = await asyncio.to_thread(diabetes_csv)
    ids = [await sandbox_client.add_user(f"trainer{n}") for n in range(users)]
    trainers = [Trainer(sandbox_client, uid, data) for uid in ids]
    client, query, ingests = await _connect(cluster)
    tally = TrainingTally(users)
    began = time.time()
    runs = [asyncio.create_task(t.run(within)) for t in trainers]
    if kill_worker_after_s is not None:
        await asyncio.gather(*(t.through.wait() for t in trainers))
        await asyncio.sleep(kill_worker_after_s)
        killed, tally.held_activities = await _kill_busiest(cluster, client, query)
        tally.killed = killed.name
        tally.running_at_kill = sum(
            1 for t in trainers if t.started_at is not None and t.finished_at is None
        )
    await asyncio.gather(*runs)
    await asyncio.sleep(1.5)  # a late second report would show now
    tally.seconds = max((t.finished_at or 0.0 for t in trainers), default=began) - began
    tally.problems += [t.problem for t in trainers if t.problem]
    for uid in ids:
        count_chat(tally, uid, await sandbox_client.chat(user_id=uid))
    tally.models_in_catalog = await asyncio.to_thread(models_per_user, cluster.database_url, ids)
    tally.workflows = await workflow_statuses(client, query, within=30.0)
    tally.ingests = await workflow_statuses(client, ingests, within=10.0)
    log.info("training drill: %s", tally.summary())
    return tally

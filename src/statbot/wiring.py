"""The one place that builds statbot's core from Settings: store → workflows → services →
engine → jobs, and the user-data service that owns deletion. ``statbot run`` (the app),
``statbot chat`` (the console) and the test ChatDriver all build it here and differ only in the
channel they put in front of it (issue 10).
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statbot.config import Settings

if TYPE_CHECKING:
    from statbot.access.broadcaster import Broadcaster
    from statbot.engine.manager import StateManager
    from statbot.engine.replies import OutboxItem
    from statbot.engine.session import Session
    from statbot.engine.stores.base import SessionStore
    from statbot.engine.workflow import WorkflowRegistry
    from statbot.jobs.base import Emit, JobRunner
    from statbot.workflows.services import Services

log = logging.getLogger(__name__)

Deliver = Callable[[str, list["OutboxItem"]], Awaitable[Sequence[int]]]


class UserData:
    """Everything statbot keeps of a user, deleted in one place: by /forget (all of it) and
    when an expired session is deleted after its grace period (its datasets, unless another
    of the user's conversations still uses them)."""

    def __init__(self, data_dir: Path, services: Services, store: SessionStore) -> None:
        self.data_dir = data_dir
        self.services = services
        self.store = store

    async def forget(self, user_id: int) -> None:
        """/forget: jobs, datasets, models, staged uploads, results and the console's menu."""
        if self.services.jobs is not None:
            await self.services.jobs.delete_user(user_id)
        await asyncio.to_thread(self.services.datasets.delete_user, user_id)
        await asyncio.to_thread(self.services.models.delete_user, user_id)
        await asyncio.to_thread(self._remove_files, user_id)
        log.info("forgot all data of a user")

    def _remove_files(self, user_id: int) -> None:
        for folder in ("staging", "results"):
            shutil.rmtree(self.data_dir / folder / str(user_id), ignore_errors=True)
        (self.data_dir / "console" / f"menu-{user_id}.json").unlink(missing_ok=True)

    async def session_deleted(self, session: Session) -> None:
        """An expired session's datasets go with it (DESIGN promise 4)."""
        from statbot.analysis.io.datasets import DatasetRef

        in_use: set[str] = set()
        for key in await self.store.keys_for_user(session.key.user_id):
            other = await self.store.load(key)
            if other is not None and key != session.key:
                in_use.update(other.datasets)
        for digest in session.datasets:
            if digest not in in_use:
                ref = DatasetRef(user_id=session.key.user_id, digest=digest, name="")
                await asyncio.to_thread(self.services.datasets.delete, ref)

    async def sweep_orphans(self, now: float, grace_s: float) -> int:
        """Remove datasets that no session and no unfinished job refers to, once their file is
        older than ``grace_s``: one a step stored and then refused (a one-column file at /train)
        stayed until /forget, and those of sessions Redis expired were never removed (issue
        15). Models do not need them: a model file holds all it learnt. Returns how many."""
        datasets = self.services.datasets
        removed = 0
        for user in await asyncio.to_thread(datasets.users):
            old = await asyncio.to_thread(datasets.stored_before, user, now - grace_s)
            if not old:
                continue
            used = await self._referenced(int(user))
            if used is None:
                continue
            for ref in old:
                if ref.digest not in used and await asyncio.to_thread(datasets.delete, ref):
                    removed += 1
        if removed:
            log.info("dataset sweep removed %d dataset(s) nothing refers to", removed)
        return removed

    async def _referenced(self, user_id: int) -> str | None:
        """Everything of the user's sessions and unfinished jobs that may name a dataset, as
        one text (a digest in it is in use: conservative by design); None when a session cannot
        be read, so nothing of that user is removed on a guess."""
        from statbot.engine.errors import DamagedSessionError

        parts: list[str] = []
        for key in await self.store.keys_for_user(user_id):
            try:
                session = await self.store.load(key)
            except DamagedSessionError:
                return None
            if session is not None:
                parts.append(json.dumps(session.to_dict()))
        if self.services.jobs is not None:
            for info in await self.services.jobs.list(user_id):
                if not info.status.finished:
                    parts.append(json.dumps(info.spec.payload))
        return "\n".join(parts)


@dataclass
class Core:
    """The bot without a channel. ``jobs`` is None when it was built without a job runner or
    the runner could not start here (another process on the data dir owns it)."""

    settings: Settings
    store: SessionStore
    registry: WorkflowRegistry
    services: Services
    manager: StateManager
    jobs: JobRunner | None
    userdata: UserData
    broadcaster: Broadcaster | None = None
    _jobs_started: bool = False

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    async def start_jobs(self) -> None:
        """Start the job runner (it re-runs jobs a crash interrupted). Raises
        :class:`statbot.errors.JobError` if another process owns it; then the workflows have
        no runner (they say so) and /forget leaves jobs to their owner."""
        if self.jobs is None:
            return
        try:
            await self.jobs.start()
        except BaseException:
            self.jobs = self.services.jobs = None
            raise
        self._jobs_started = True

    async def start_broadcasts(self) -> None:
        """Continue unfinished broadcasts (issue 12); after the engine has started."""
        if self.broadcaster is not None:
            await self.broadcaster.start()

    async def stop_broadcasts(self) -> None:
        if self.broadcaster is not None:
            await self.broadcaster.stop()

    def close(self) -> None:
        """Close the catalog's connections (idempotent); after the engine and jobs stopped."""
        if self.services.catalog is not None:
            self.services.catalog.close()

    async def stop_jobs(self) -> None:
        """Stop supervising jobs; unfinished ones resume on the next start."""
        if self.jobs is not None and self._jobs_started:
            await self.jobs.stop()
            self._jobs_started = False


def _add_access(
    settings: Settings, services: Services, manager: StateManager, registry: WorkflowRegistry
) -> None:
    """Users, roles and the command registry (issue 12): the role gate goes first."""
    from statbot.access.commands import CommandTable
    from statbot.access.directory import Directory
    from statbot.access.gate import RoleGate

    assert services.catalog is not None
    access = services.access = Directory(services.catalog, settings, CommandTable.build(registry))
    manager.add_gate(RoleGate(access, registry))
    manager.set_permissions(access)


def build_core(
    settings: Settings,
    *,
    deliver: Deliver | None = None,
    store: SessionStore | None = None,
    registry: WorkflowRegistry | None = None,
    jobs: bool = True,
    job_options: dict[str, Any] | None = None,
) -> Core:
    """Build (not start) the core. ``deliver`` may also be set later on the manager, once the
    channel that needs ``manager.submit`` exists. The catalog database is migrated to this
    code's schema here (refusing one a newer statbot migrated: CatalogVersionError)."""
    from statbot.access.broadcaster import Broadcaster
    from statbot.access.broadcasts import Broadcasts
    from statbot.access.catalog import Catalog
    from statbot.access.ratelimit import RateLimit
    from statbot.engine.manager import EngineConfig, StateManager
    from statbot.engine.stores import open_store_for
    from statbot.workflows import default_registry
    from statbot.workflows.services import Services

    store = store if store is not None else open_store_for(settings)
    registry = registry if registry is not None else default_registry()
    catalog = Catalog.from_settings(settings)
    catalog.upgrade()
    services = Services(settings=settings, data_dir=settings.data_dir, catalog=catalog)
    manager = StateManager(
        store, registry, services=services, config=EngineConfig.from_settings(settings)
    )
    _add_access(settings, services, manager, registry)
    # /broadcast: notices go through the engine; the catalog records each recipient's outcome.
    # A channel with a bulk hook (Telegram: the app sets it) reports 403s itself; a plain
    # deliverer given here is wrapped so that what it accepts counts as sent.
    broadcaster = Broadcaster(Broadcasts(catalog), manager.submit, durable=store.name != "memory")
    services.broadcasts = broadcaster
    if deliver is not None:
        manager.set_deliverer(broadcaster.wrap(deliver))
    if settings.rate_limit_per_minute > 0:
        manager.add_gate(RateLimit.from_settings(settings))  # "slow down", once an episode
    runner = job_runner(settings, manager.submit, job_options or {}) if jobs else None
    # Offered before the engine starts: replaying the inbox may start a training.
    services.jobs = runner
    userdata = UserData(settings.data_dir, services, store)
    manager.add_forget_hook(userdata.forget)
    if services.access is not None:
        manager.add_forget_hook(services.access.forgotten)
    manager.add_session_deleted_hook(userdata.session_deleted)
    return Core(settings, store, registry, services, manager, runner, userdata, broadcaster)


def job_runner(settings: Settings, emit: Emit, options: dict[str, Any]) -> JobRunner:
    """The runner ``STATBOT_JOBS`` names: ``local`` (subprocesses, a SQLite job table) or
    ``temporal`` (workflows on the Temporal server at ``STATBOT_TEMPORAL_ADDRESS``, issue 14;
    it connects when it starts)."""
    if settings.jobs == "temporal":
        try:
            from statbot.jobs.temporal.runner import TemporalJobRunner
        except ImportError as exc:
            from statbot.errors import ConfigError

            raise ConfigError(
                "STATBOT_JOBS",
                f"'temporal' needs the temporal extra (pip install 'statbot[temporal]'): {exc}",
            ) from exc
        return TemporalJobRunner.from_settings(settings, emit=emit, **options)
    from statbot.jobs.local import LocalJobRunner

    return LocalJobRunner.from_settings(settings, emit=emit, **options)

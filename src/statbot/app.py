"""The composition root: settings → store → workflows → manager → jobs → channel → health.

Lifecycle as python-telegram-bot's Application: ``initialize → start → stop → shutdown``, each
idempotent; ``async with StatbotApp(...)`` shuts down even when start fails. Shutdown order keeps
the promises: stop taking updates first, then finish in-flight events and flush the outbox, then
stop supervising jobs (they resume on the next start), then close the stores.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statbot.config import Settings
from statbot.engine.stores import SessionStore
from statbot.ops.health import HealthServer
from statbot.ops.lock import InstanceLock
from statbot.ops.metrics import Metrics

if TYPE_CHECKING:
    from statbot.wiring import Core

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_CONFLICT = 4
EXIT_LOCKED = 5
EXIT_FAILED = 1


class StatbotApp:
    def __init__(
        self,
        settings: Settings,
        *,
        health: bool = True,
        mode_label: str | None = None,
        lock: InstanceLock | None = None,
    ) -> None:
        self.settings = settings
        self.mode_label = mode_label or settings.mode
        self.metrics = Metrics()
        self.data_dir = Path(settings.data_dir)
        self.store: SessionStore | None = None
        self.manager: Any = None
        self.jobs: Any = None
        self.core: Core | None = None
        self.channel: Any = None
        self.lock: InstanceLock | None = lock
        self.health: HealthServer | None = None
        self._want_health = health
        self._state = "new"
        self._sweeper: asyncio.Task[None] | None = None

    # lifecycle --------------------------------------------------------------------------------
    async def initialize(self) -> None:
        if self._state != "new":
            return
        from statbot.access.menus import publish_menus
        from statbot.channels.telegram.channel import TelegramChannel
        from statbot.wiring import build_core

        s = self.settings
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if s.mode in ("polling", "webhook") and self.lock is None and s.token:
            # Per role (issue 14): one poller, or any number of webhook replicas, never both.
            self.lock = InstanceLock.for_token(self.data_dir, s.token, role=s.mode)
        if self.lock is not None and not self.lock.held:
            self.lock.acquire()  # raises InstanceLockedError before the first getUpdates
        core = self.core = build_core(s)
        self.store = core.store
        await self.store.open()
        self.manager = core.manager
        self.jobs = core.jobs
        # The command menus are the access room's (per role, issue 12): published below.
        self.channel = TelegramChannel(s, self.manager.submit, self.metrics)
        core.services.files = self.channel.files
        core.services.ingest_observer = self.metrics  # the ingest saga's counters (issue 14)
        # Broadcast outcomes (sent, blocked: 403, failed) reach the catalog through this hook.
        self.channel.sender.bulk = core.broadcaster
        self.manager.set_deliverer(self.channel.deliver)
        self.manager.add_forget_hook(self.channel.forget_user)
        self.manager.observe = self._observe
        if self.jobs is not None:
            self.jobs.observe_durations(
                lambda kind, status, seconds: self.metrics.job_seconds.labels(
                    kind=kind, status=status
                ).observe(seconds)
            )
        await self.channel.initialize()
        if core.services.access is not None:  # the command menu of each role (issue 12)
            await publish_menus(core.services.access, self.channel, self.channel.bot.username)
        if self._want_health:
            self.health = HealthServer(
                self.metrics,
                mode=self.mode_label,
                port=s.health_port,
                status_source=self._status,
                before_scrape=self._refresh_gauges,
            )
            self.health.add_check("store", self._check_store)
            self.health.add_check("jobs", self._check_jobs)
            self.health.add_check("telegram", self.channel.check)
            if self.lock is not None:
                self.health.add_check("lock", self._check_lock)
        self._state = "initialized"

    async def start(self) -> None:
        if self._state == "new":
            await self.initialize()
        if self._state != "initialized":
            return
        # From here a failure (health port taken, webhook refused) must still stop what did
        # start: stop() handles "starting", and each part's stop is a no-op if it never ran.
        self._state = "starting"
        await self.manager.start()  # replays the inbox, re-sends the outbox
        assert self.core is not None
        await self.core.start_jobs()  # re-runs jobs that were running when we died
        await self.core.start_broadcasts()  # continues broadcasts a crash interrupted
        await self.channel.start()
        if self.health is not None:
            await self.health.start()
        self._sweeper = asyncio.create_task(self._sweep_loop(), name="staging-sweeper")
        self._state = "running"
        log.info("statbot running in %s mode", self.mode_label)

    async def stop(self) -> None:
        if self._state not in ("running", "starting"):
            return
        grace = self.settings.shutdown_grace_seconds
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.channel.stop()  # no new updates
        assert self.core is not None
        await self.core.stop_broadcasts()  # no new notices; the rest go out on the next start
        await self.manager.stop(grace)  # finish in-flight events, flush the outbox
        await self.core.stop_jobs()  # stop supervising; unfinished jobs resume next start
        self._state = "stopped"

    async def shutdown(self) -> None:
        await self.stop()
        if self.channel is not None:
            await self.channel.shutdown()
        if self.health is not None:
            await self.health.stop()
        if self.store is not None:
            await self.store.close()
        if self.core is not None:
            self.core.close()
        if self.lock is not None:
            self.lock.release()
        self._state = "shut down"

    async def __aenter__(self) -> StatbotApp:
        try:
            await self.start()
        except BaseException:
            await self.shutdown()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.shutdown()

    async def wait(self, stop: asyncio.Event) -> int:
        """Run until ``stop`` is set (signal) or the channel hits a fatal error."""
        waiters: list[asyncio.Future[Any]] = [asyncio.ensure_future(stop.wait())]
        fatal = getattr(self.channel, "fatal", None)
        if fatal is not None:
            waiters.append(fatal)
        done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for waiter in waiters:
            if waiter is not fatal and not waiter.done():
                waiter.cancel()
        if fatal is not None and fatal in done:
            from statbot.channels.telegram.ingress import ConflictError

            exc = fatal.result()
            if isinstance(exc, ConflictError):
                log.critical("%s — stopping. Only one polling instance per token may run.", exc)
                return EXIT_CONFLICT
            log.critical("the Telegram channel failed: %r — stopping", exc)
            return EXIT_FAILED
        return EXIT_OK

    def _observe(self, what: str, value: float) -> None:
        """The engine's hook: ``value`` is seconds for "applied", a count for "lease_*"."""
        if what == "applied":
            self.metrics.updates_applied.inc()
            self.metrics.handling_seconds.observe(value)
        elif what == "duplicate":
            self.metrics.updates_duplicate.inc()
        elif what == "quarantined":
            self.metrics.sessions_quarantined.inc()
        elif what.startswith("lease_"):  # replicas sharing a Redis store (engine/turns.py)
            self.metrics.leases.labels(event=what.removeprefix("lease_")).inc(value)

    # health -----------------------------------------------------------------------------------
    async def _check_store(self) -> tuple[bool, str]:
        assert self.store is not None
        counts = await self.store.counts()
        return True, f"{self.store.name}: {counts.sessions} sessions"

    async def _check_jobs(self) -> tuple[bool, str]:
        counts = await self.jobs.counts()
        return True, ", ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "idle"

    async def _check_lock(self) -> tuple[bool, str]:
        assert self.lock is not None
        return (self.lock.held, "held" if self.lock.held else "not held")

    async def _status(self) -> dict[str, Any]:
        from statbot.workflows.staging import staging_usage

        sessions = dict(await self.manager.stats())
        usage = await asyncio.to_thread(staging_usage, self.data_dir)
        sessions["staging"] = usage.as_dict()
        return {"sessions": sessions, "jobs": await self.jobs.counts()}

    async def _sweep_loop(self) -> None:
        """Failed and orphaned uploads leave the staging area after their TTL; datasets nothing
        refers to any more leave after the session timeout (``UserData.sweep_orphans``); the
        channel's menus and progress messages after a week (they were never swept)."""
        import sqlite3
        import time

        from statbot.errors import StatbotError
        from statbot.workflows.staging import sweep_staging

        assert self.core is not None
        grace = self.settings.session_timeout_minutes * 60.0
        # The dataset sweep loads the sessions of every user with an old dataset: at most every
        # quarter of the grace time, not every cleanup tick (that is for the cheap staging sweep).
        every = max(self.settings.cleanup_interval_seconds, grace / 4)
        last_datasets = float("-inf")
        while True:
            self.metrics.sweep_runs.inc()
            try:
                swept = await asyncio.to_thread(sweep_staging, self.data_dir)
                self.metrics.sweep_removed.labels(what="staging").inc(swept.removed)
                self.metrics.staging_cleaned("failed_expired", swept.failed_expired)
                self.metrics.staging_cleaned("orphan_expired", swept.orphan_expired)
                if swept.removed:
                    log.info("staging sweep removed %d folder(s)", swept.removed)
            except OSError:
                log.exception("staging sweep failed")
            try:
                self.channel.sent_messages.sweep()
            except sqlite3.Error:
                log.exception("sweep of the channel's sent messages failed")
            if time.monotonic() - last_datasets >= every:
                last_datasets = time.monotonic()
                try:
                    orphans = await self.core.userdata.sweep_orphans(time.time(), grace)
                    self.metrics.sweep_removed.labels(what="datasets").inc(orphans)
                except (OSError, StatbotError):  # a store outage: the next round tries again
                    log.exception("dataset sweep failed")
            await asyncio.sleep(self.settings.cleanup_interval_seconds)

    async def _refresh_gauges(self) -> None:
        stats = await self.manager.stats()
        self.metrics.inbox_depth.set(stats.get("inbox", 0))
        self.metrics.outbox_depth.set(stats.get("outbox", 0))
        self.metrics.sessions.labels(status="active").set(stats.get("active", 0))
        self.metrics.sessions.labels(status="grace").set(stats.get("in_grace", 0))
        for state, count in (await self.jobs.counts()).items():
            self.metrics.jobs.labels(state=state).set(count)
        assert self.store is not None
        by_workflow = await self.store.sessions_by_workflow()
        self.metrics.sessions_in_workflow.clear()  # a workflow nobody is in any more reads 0
        for workflow, count in by_workflow.items():
            self.metrics.sessions_in_workflow.labels(workflow=workflow).set(count)
        from statbot.workflows.staging import disk_usage, staging_usage

        usage = await asyncio.to_thread(staging_usage, self.data_dir)
        self.metrics.staging_seen(usage.uploads, usage.failed, usage.bytes)
        staging, datasets = await asyncio.to_thread(disk_usage, self.data_dir)
        self.metrics.disk_bytes.labels(area="staging").set(staging)
        self.metrics.disk_bytes.labels(area="datasets").set(datasets)


async def run_app(
    settings: Settings,
    *,
    mode_label: str | None = None,
    lock: InstanceLock | None = None,
    on_ready: Callable[[], None] | None = None,
) -> int:
    """``statbot run``: start, serve until SIGTERM/SIGINT or a fatal error, drain, exit code.
    ``on_ready`` runs once everything has started (the sandbox prints its page address)."""
    from statbot.errors import StatbotError
    from statbot.ops.lock import InstanceLockedError
    from statbot.ops.signals import install_stop_signals

    stop = asyncio.Event()
    install_stop_signals(stop)
    app = StatbotApp(settings, mode_label=mode_label, lock=lock)
    try:
        await app.start()
    except InstanceLockedError as exc:
        log.error("%s", exc)
        await app.shutdown()
        return EXIT_LOCKED
    except StatbotError as exc:  # a rejected token, webhook without a secret, store down: words
        log.critical("statbot cannot start: %s", exc)
        with contextlib.suppress(Exception):
            await app.shutdown()
        return EXIT_FAILED
    except BaseException:
        with contextlib.suppress(Exception):
            await app.shutdown()
        raise
    if on_ready is not None:
        on_ready()
    try:
        code = await app.wait(stop)
    finally:
        await app.shutdown()
    log.info("statbot stopped (exit %d)", code)
    return code

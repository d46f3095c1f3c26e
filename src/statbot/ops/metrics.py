"""Prometheus metrics: ``statbot_`` prefix, base units, ``_total`` counters, no per-user labels.

Each Metrics object owns its registry (no module-level singleton), so tests and several bots in
one process never collide.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry(auto_describe=True)
        self.updates_received = Counter(
            "statbot_updates_received", "Updates received from the channel", registry=r
        )
        self.updates_duplicate = Counter(
            "statbot_updates_duplicate",
            "Updates recognised as duplicates and not re-applied",
            registry=r,
        )
        self.sessions_quarantined = Counter(
            "statbot_sessions_quarantined",
            "Stored session records that could not be read, set aside; the user started afresh",
            registry=r,
        )
        self.updates_applied = Counter(
            "statbot_updates_applied", "Events applied and committed", registry=r
        )
        self.handling_seconds = Histogram(
            "statbot_handling_seconds",
            "Time to apply and commit one event",
            registry=r,
            buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
        )
        self.api_errors = Counter(
            "statbot_api_errors", "Bot API errors by error code", ["code"], registry=r
        )
        self.conflicts = Counter(
            "statbot_conflicts", "Telegram 409 Conflict responses (another poller)", registry=r
        )
        self.webhook_rejections = Counter(
            "statbot_webhook_rejections",
            "Webhook requests rejected, by reason",
            ["reason"],
            registry=r,
        )
        self.jobs = Gauge("statbot_jobs", "Jobs by state", ["state"], registry=r)
        self.sessions_in_workflow = Gauge(
            "statbot_sessions_in_workflow",
            "Sessions by the conversation they are in",
            ["workflow"],
            registry=r,
        )
        self.job_seconds = Histogram(
            "statbot_job_seconds",
            "Time from a job's start to its end, by kind and outcome",
            ["kind", "status"],
            registry=r,
            buckets=(1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0),
        )
        self.inbox_depth = Gauge(
            "statbot_inbox_depth", "Journaled events not yet applied", registry=r
        )
        self.outbox_depth = Gauge("statbot_outbox_depth", "Replies not yet delivered", registry=r)
        self.sessions = Gauge(
            "statbot_sessions", "Stored sessions, by status", ["status"], registry=r
        )
        self.disk_bytes = Gauge(
            "statbot_disk_bytes", "Bytes on disk under the data dir, by area", ["area"], registry=r
        )
        self.leases = Counter(
            "statbot_leases",
            "Conversation leases across replicas: elsewhere (another replica had the chat),"
            " lost (this one stalled past a lease), takeover (chats of a dead replica taken)",
            ["event"],
            registry=r,
        )
        self.sweep_runs = Counter("statbot_sweep_runs", "Cleanup sweeps run", registry=r)
        self.sweep_removed = Counter(
            "statbot_sweep_removed",
            "What the cleanup sweeps removed: staging folders, unreferenced datasets",
            ["what"],
            registry=r,
        )
        # The ingest saga and its staging area (issue 14).
        self.staging_uploads = Gauge(
            "statbot_staging_uploads",
            "Upload folders in the staging area, by state (in progress, failed and kept)",
            ["state"],
            registry=r,
        )
        self.staging_bytes = Gauge(
            "statbot_staging_bytes", "Bytes in the upload staging area", registry=r
        )
        self.staging_cleanups = Counter(
            "statbot_staging_cleanups",
            "Staging folders removed: after a stored upload (success), failed ones past their "
            "TTL (failed_expired), ones a crash left (orphan_expired)",
            ["outcome"],
            registry=r,
        )
        self.saga_failures = Counter(
            "statbot_saga_failures",
            "Sagas that failed, by saga and step",
            ["saga", "step"],
            registry=r,
        )
        self.saga_compensations = Counter(
            "statbot_saga_compensations",
            "Compensations run after a saga failed, by saga and the step undone",
            ["saga", "step"],
            registry=r,
        )
        for state in ("in_progress", "failed"):
            self.staging_uploads.labels(state=state)
        for outcome in ("success", "failed_expired", "orphan_expired"):
            self.staging_cleanups.labels(outcome=outcome)
        for area in ("staging", "datasets"):
            self.disk_bytes.labels(area=area)
        for what in ("staging", "datasets"):
            self.sweep_removed.labels(what=what)
        for reason in ("secret", "size", "json"):
            self.webhook_rejections.labels(reason=reason)

    # jobs.saga.SagaObserver (the ingest saga reports through these) ----------------------
    def saga_failed(self, saga: str, step: str) -> None:
        self.saga_failures.labels(saga=saga, step=step).inc()

    def saga_compensated(self, saga: str, step: str) -> None:
        self.saga_compensations.labels(saga=saga, step=step).inc()

    def staging_cleaned(self, outcome: str, count: int = 1) -> None:
        self.staging_cleanups.labels(outcome=outcome).inc(count)

    def staging_seen(self, uploads: int, failed: int, size: int) -> None:
        self.staging_uploads.labels(state="in_progress").set(uploads - failed)
        self.staging_uploads.labels(state="failed").set(failed)
        self.staging_bytes.set(size)

    def render(self) -> bytes:
        return generate_latest(self.registry)

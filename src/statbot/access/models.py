"""The catalog's tables as typed SQLAlchemy 2 models (issue 12).

The Alembic migrations in ``access/alembic/versions/`` are the schema's source of truth: the
database is only ever created and changed by migrating, never by ``create_all``. These models
declare what the code reads and writes — tables, columns, types, nullability, primary and
foreign keys — and ``tests/access/test_migrations.py`` fails when the migrated schema and the
models drift apart. Indexes and unique constraints are defined in the migrations only (the issue
asks for that); the behaviour that relies on them, such as a payment credited once per
``telegram_payment_charge_id``, is tested on every backend instead.

Times are UNIX seconds (``float``), as everywhere else in statbot; user ids are Telegram's
(64-bit) ids. No table holds a user's data values: the audit log records what was done, never
the content of a dataset or a message.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Double, ForeignKey, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    """The catalog's declarative base; ``Base.metadata`` is what the drift test compares."""


class User(Base):
    """Everyone who ever wrote to the bot: a row on first contact."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(256), default="")
    username: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    role: Mapped[str] = mapped_column(String(16))  # owner, admin, analyst, viewer
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    # The user blocked the bot (Telegram answered 403 to a message to them), not the reverse.
    unreachable_since: Mapped[float | None] = mapped_column(Double)
    first_seen: Mapped[float] = mapped_column(Double)
    last_seen: Mapped[float] = mapped_column(Double)


class Invite(Base):
    """A one-time invite link (``/start <code>``) that grants a role."""

    __tablename__ = "invites"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[float] = mapped_column(Double)
    expires_at: Mapped[float | None] = mapped_column(Double)
    used_by: Mapped[int | None] = mapped_column(BigInteger)
    used_at: Mapped[float | None] = mapped_column(Double)


class AuditEntry(Base):
    """Append-only: role changes, admin actions, deletions, payments, refusals."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Double)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(64))
    target_id: Mapped[int | None] = mapped_column(BigInteger)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class QuotaOverride(Base):
    """A per-user limit that replaces the role's default (``name``: storage_mb, ...)."""

    __tablename__ = "quota_overrides"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[float] = mapped_column(Double)
    set_by: Mapped[int | None] = mapped_column(BigInteger)
    set_at: Mapped[float] = mapped_column(Double)


class Usage(Base):
    """What a user used on one (UTC) day, for the per-day quotas."""

    __tablename__ = "usage"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD, UTC
    trainings: Mapped[int] = mapped_column(Integer, default=0)


class LedgerEntry(Base):
    """One movement of credits. ``key`` makes each movement happen once: ``purchase:<charge
    id>``, ``refund:<charge id>``, ``spend:<job id>`` (unique, in the migration)."""

    __tablename__ = "ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(160))
    user_id: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[float] = mapped_column(Double)
    kind: Mapped[str] = mapped_column(String(16))  # purchase, spend, refund, grant
    credits: Mapped[int] = mapped_column(Integer)  # + in, - out
    stars: Mapped[int] = mapped_column(Integer, default=0)
    charge_id: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Broadcast(Base):
    """A message an admin sends to all users or a role; resumable after a crash."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_by: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[float] = mapped_column(Double)
    audience: Mapped[str] = mapped_column(String(16))  # "all" or a role
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))  # sending, done, cancelled
    finished_at: Mapped[float | None] = mapped_column(Double)
    # From the event that confirmed it (unique, migration 0002): a replay finds it again.
    key: Mapped[str | None] = mapped_column(String(160))
    reply_to: Mapped[str | None] = mapped_column(String(160))  # the admin's conversation key


class BroadcastRecipient(Base):
    """One recipient of a broadcast: sent exactly once, or recorded as unreachable."""

    __tablename__ = "broadcast_recipients"

    broadcast_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("broadcasts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # pending, queued (handed to the engine), sending, sent, blocked, failed
    state: Mapped[str] = mapped_column(String(16))
    at: Mapped[float | None] = mapped_column(Double)
    message_id: Mapped[int | None] = mapped_column(BigInteger)


class Job(Base):
    """A job of the local runner (statbot.jobs.table): queued, running or finished, with its
    progress, outcome and the runner's bookkeeping. ``seq`` orders the queue; ``job_id`` is
    derived from the idempotency key (unique, in the migration), so a replayed submit finds the
    job it already made. ``spec`` and ``result`` are the jobs room's JSON texts, as written."""

    __tablename__ = "jobs"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[int] = mapped_column(BigInteger)
    spec: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # queued, running, succeeded, failed, ...
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    crashes: Mapped[int] = mapped_column(Integer, default=0)  # runs lost to a runner crash
    progress: Mapped[float] = mapped_column(Double, default=0.0)
    message: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Double)
    started_at: Mapped[float | None] = mapped_column(Double)
    finished_at: Mapped[float | None] = mapped_column(Double)
    pid: Mapped[int | None] = mapped_column(Integer)
    pid_started: Mapped[float | None] = mapped_column(Double)
    resume: Mapped[bool] = mapped_column(Boolean, default=False)  # next start says "resumed"
    delivered: Mapped[bool] = mapped_column(Boolean, default=False)  # JOB_FINISHED accepted


class Dataset(Base):
    """A stored dataset of the dataset store (analysis/io/datasets.py): its Parquet file is
    ``<data_dir>/datasets/<user_id>/<digest>.parquet``; this row is its index entry (it was a
    JSON sidecar next to the file). ``user_id`` is text, as the store's folder names are."""

    __tablename__ = "datasets"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    digest: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    rows: Mapped[int] = mapped_column(BigInteger)
    columns: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    created: Mapped[str] = mapped_column(String(32))  # ISO 8601, UTC, as the store writes it
    # The inferred column types (analysis.io.schema), never the data's values.
    column_types: Mapped[dict[str, Any]] = mapped_column("schema", JSON)


class SavedModel(Base):
    """A saved model (analysis/ml/saved.py): its files are ``<data_dir>/models/<user_id>/
    <model_id>.skops`` and its card ``<model_id>.json``; this row is what lists, names and
    finds it. ``card`` is the card's JSON (the model's description: features, metrics, versions;
    never the training data's values)."""

    __tablename__ = "models"

    user_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[str] = mapped_column(String(40))  # the card's ISO time
    card: Mapped[dict[str, Any]] = mapped_column(JSON)


class TrainingCharge(Base):
    """What one training (a job id) took from its user's quota: a free training of ``day``
    (counted in :class:`Usage`) or, when ``paid``, a credit (the ledger's ``spend:<job id>``).
    The row is what makes the charge happen once per job, even when the event that started the
    training is applied again; ``returned_at`` is set when a training that never ran gives it
    back."""

    __tablename__ = "training_charges"

    job_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(BigInteger)
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD, UTC
    at: Mapped[float] = mapped_column(Double)
    paid: Mapped[bool] = mapped_column(Boolean, default=False)
    returned_at: Mapped[float | None] = mapped_column(Double)

"""The quotas where the work happens (issue 12): rows when a file is loaded, storage when a
dataset is stored or a training is to save a model, trainings when one starts.

The limits come from :class:`statbot.access.quotas.Quotas` (the role's defaults, the user's
overrides). Without a catalog (``Services`` built by hand, not by the wiring) there are no
accounts and nothing here limits anything. The blocking helpers run in a thread
(``ctx.run_blocking``): they read the catalog and the disk.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from typing import TYPE_CHECKING, Any

from statbot.access.limits import Limits, storage_full
from statbot.engine.workflow import Context
from statbot.errors import StatbotError
from statbot.workflows import data as D

if TYPE_CHECKING:
    from statbot.access.quotas import Charge, Quotas
    from statbot.analysis.errors import LimitExceeded
    from statbot.analysis.io.datasets import DatasetRef
    from statbot.analysis.io.limits import DataLimits
    from statbot.workflows.services import Services

log = logging.getLogger(__name__)


def quotas(svc: Services) -> Quotas | None:
    if svc.catalog is None:
        return None
    from statbot.access.quotas import Quotas

    return Quotas(svc.catalog, svc.settings)


def user_limits(svc: Services, user_id: int) -> Limits | None:
    found = quotas(svc)
    return found.limits(user_id) if found is not None else None


def data_limits(svc: Services, limits: Limits | None) -> DataLimits:
    """The operator's data limits, with the user's rows per dataset where that is lower."""
    from statbot.analysis.io.limits import DataLimits

    base = DataLimits.from_settings(svc.settings)
    if limits is None or limits.rows_per_dataset >= base.max_rows:
        return base
    return dataclasses.replace(base, max_rows=int(limits.rows_per_dataset))


def user_data_limits(svc: Services, user_id: int) -> tuple[DataLimits, Limits | None]:
    """The data limits for ``user_id``'s files, and the user's quotas they came from."""
    limits = user_limits(svc, user_id)
    return data_limits(svc, limits), limits


def quota_rows(svc: Services, limits: Limits | None) -> int | None:
    """The user's rows per dataset where that, not the operator's STATBOT_MAX_ROWS, is the
    bound (a refusal is then worded as the quota's); None otherwise."""
    if limits is not None and limits.rows_per_dataset < svc.settings.max_rows:
        return int(limits.rows_per_dataset)
    return None


def rows_refusal(svc: Services, limits: Limits | None, exc: LimitExceeded) -> StatbotError:
    """A ``max_rows`` refusal in the quota's words when the user's quota, not the operator's
    STATBOT_MAX_ROWS, was the bound; any other limit as it was."""
    from statbot.jobs.ingest import rows_refusal as refusal

    return refusal(exc, quota_rows(svc, limits))


def used_bytes(svc: Services, user_id: int) -> int:
    """The user's datasets and models on disk: what the storage quota counts."""
    return svc.datasets.user_bytes(user_id) + svc.models.user_bytes(user_id)


def put(svc: Services, user_id: int, frame: Any, content_hash: str | None, name: str) -> DatasetRef:
    """Store a dataset within the user's storage quota: one that takes the user past it is
    removed again and refused (an already stored one, which adds nothing, is kept)."""
    limits = user_limits(svc, user_id)
    if limits is None or math.isinf(limits.storage_mb):
        return svc.datasets.put(user_id, frame, content_hash, name=name)
    before = used_bytes(svc, user_id)
    ref = svc.datasets.put(user_id, frame, content_hash, name=name)
    after = used_bytes(svc, user_id)
    if after > limits.storage_bytes and after > before:
        svc.datasets.delete(ref)
        raise storage_full(limits.storage_mb, after, "this dataset was not kept")
    return ref


def check_room(svc: Services, user_id: int, limits: Limits | None) -> None:
    """Refuse to start a training that could not save its model: storage already full."""
    if limits is None or math.isinf(limits.storage_mb):
        return
    used = used_bytes(svc, user_id)
    if used >= limits.storage_bytes:
        raise storage_full(limits.storage_mb, used, "no new model can be saved")


def storage_limit_mb(limits: Limits | None) -> float | None:
    """What a training job is told (None: no limit)."""
    if limits is None or math.isinf(limits.storage_mb):
        return None
    return limits.storage_mb


async def charge_training(ctx: Context, job_id: str) -> Charge | None:
    """Count the training ``job_id`` against today's free trainings, or spend a credit;
    QuotaExceeded (its message for the user) when neither is left. Says a credit was used."""
    found = quotas(D.services(ctx))
    if found is None:
        return None
    charge: Charge = await ctx.run_blocking(found.start_training, ctx.session.user_id, job_id)
    if charge.paid and not charge.again:
        left = f"{charge.balance} credit(s) left" if charge.balance is not None else ""
        ctx.reply(
            "Today's free trainings are used, so this one costs 1 credit"
            + (f" ({left})." if left else ".")
        )
    return charge


async def give_back(ctx: Context, job_id: str, reason: str) -> None:
    """The training ``job_id`` never ran: its free training or credit goes back (once)."""
    found = quotas(D.services(ctx))
    if found is None:
        return
    if await ctx.run_blocking(found.give_back, job_id, reason):
        log.info("training %s never ran (%s): its charge was given back", job_id, reason)

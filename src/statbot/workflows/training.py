"""/train's last steps: submit the training job, follow its progress bar, report its outcome.

The job's idempotency key derives from the event that started it (the Train press or a Retry
press), so a duplicated or replayed update can never train twice, while a Retry is a new job of
the same choices. A failed or cancelled job says so on its progress bar (which would otherwise
freeze where it stopped) and offers what to do next (issue 9).
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

from statbot.engine.events import EventKind
from statbot.engine.replies import Option, Reply
from statbot.engine.workflow import Context
from statbot.workflows import data as D
from statbot.workflows import quota_checks as Q
from statbot.workflows.explain import explain_after
from statbot.workflows.report import training_report
from statbot.workflows.results import reading
from statbot.workflows.session_data import TrainOutcome, required
from statbot.workflows.train_data import data

if TYPE_CHECKING:
    from statbot.jobs.train_io import TrainOutput
    from statbot.workflows.session_data import TrainData

RETRY, CHANGE_MODEL = "retry", "change_model"
RETRY_WORDS = frozenset({RETRY, "retry", "try again", "again", "train again", "yes"})
CHANGE_WORDS = frozenset({CHANGE_MODEL, "change", "change the model", "model"})


async def submit_training(ctx: Context) -> None:
    """Start the training of the current choices as a job keyed by this event; → training."""
    from statbot.analysis.io.datasets import DatasetRef
    from statbot.jobs.builtin import train_spec
    from statbot.jobs.train_io import DatasetFile, StoredDataset, TrainInput

    svc = D.services(ctx)
    d = data(ctx)
    settings = svc.settings
    source: StoredDataset | DatasetFile
    if d.deferred:
        # Deferred loading: the job reads the file, under the operator's limits, and checks the
        # path against the allowed folders again right before it reads it.
        path = await ctx.run_blocking(D.recheck_server_path, svc, d.deferred.path)
        source = DatasetFile(path, d.deferred.spec, tuple(settings.local_path_roots))
    else:
        # Checked here so that a dataset deleted meanwhile is said now, not by a failed job.
        path = await ctx.run_blocking(D.dataset_file, svc, d.loaded.ref)
        source = StoredDataset(DatasetRef.from_dict(d.loaded.ref))
    runner = svc.job_runner()  # no runner here: said before anything is charged
    user = ctx.session.user_id
    limits = await ctx.run_blocking(Q.user_limits, svc, user)
    await ctx.run_blocking(Q.check_room, svc, user, limits)  # a model needs room to be saved
    target = required(d.target, "the target")
    features = required(d.features, "the features")
    model = required(d.model, "the model")
    job = TrainInput(
        user_id=ctx.session.user_id,
        idempotency_key=f"train:{ctx.session.key}:{ctx.event.event_id}",
        data_dir=svc.data_dir,
        source=source,
        target=target,
        limits=Q.data_limits(svc, limits),
        max_storage_mb=Q.storage_limit_mb(limits),
        features=tuple(features),
        model=model,
        tune=d.tune,  # a Retry keeps it: it is part of the choices
    )
    spec = train_spec(
        job,
        key=str(ctx.session.key),
        timeout_s=settings.job_timeout_seconds,
        memory_mb=settings.job_memory_mb,
    )
    # Charged once per job id (a replayed start charges nothing more); given back if it
    # never runs (issue 12).
    await Q.charge_training(ctx, spec.job_id)
    try:
        info = await runner.submit(spec)
    except Exception:
        await Q.give_back(ctx, spec.job_id, "the job could not be submitted")
        raise
    d.job_id = info.job_id
    d.progress = 0.0
    d.outcome = None
    # the file as the user knows it, read as the chat read it (a deferred server file: its path)
    line = analyze_line(
        d.deferred.path if d.deferred else d.loaded.name, target, features, model, tune=d.tune
    )
    d.analyze = line if d.deferred else reading(line, d.loaded)
    ctx.goto("training")


def analyze_line(
    path: str, target: str, features: list[str], model: str, *, tune: bool = False
) -> str:
    parts = [path, "--target", target, "--features", ",".join(features), "--model", model]
    parts += ["--cv", "5", *(["--tune"] if tune else []), "--json"]
    return "statbot analyze train " + " ".join(shlex.quote(p) for p in parts)


def never_ran(job: dict[str, Any]) -> bool:
    """A finished training job that did no work: cancelled while queued, or its worker could
    not be started. Such a training gives its free training or credit back (issue 12)."""
    from statbot.jobs.base import NOT_STARTED

    if job.get("status") == "cancelled":
        return not job.get("attempts")
    return job.get("status") == "failed" and job.get("error") == NOT_STARTED


async def enter_training(ctx: Context) -> None:
    job_id = required(data(ctx).job_id, "the job")
    info = await D.services(ctx).job_runner().status(job_id)
    if ctx.reprompt and info is not None:
        ctx.reply(Reply.progress(info.job_id, info.progress, info.message or "Training…"))
        return
    position = getattr(info, "queue_position", None)
    if position:
        ctx.reply(f"Your training is queued (position {position}); it starts when a slot is free.")
    ctx.reply(Reply.progress(job_id, 0.0, "Starting the training…"))


async def on_training(ctx: Context) -> None:
    event = ctx.event
    job = event.job or {}
    d = data(ctx)
    if event.kind in (EventKind.TEXT, EventKind.CHOICE, EventKind.UPLOAD):
        ctx.reply("The model is training; I'll report when it is done. /cancel stops it.")
        return
    if job.get("job_id") != d.job_id:
        return  # an old job's late event
    if event.kind is EventKind.JOB_PROGRESS:
        fraction = float(job.get("progress") or 0.0)
        d.progress = fraction
        # A resumed attempt's first event already says "Resumed after a restart".
        ctx.reply(Reply.progress(job["job_id"], fraction, str(job.get("message") or "")))
        return
    status = job.get("status")
    if status == "succeeded" and job.get("result"):
        from statbot.jobs.train_io import TrainOutput

        result = TrainOutput.from_dict(job["result"])
        ctx.reply(Reply.progress(job["job_id"], 1.0, "Done"))
        report = training_report(result, required(d.analyze, "the analyze line"))
        ctx.reply(*report)
        ctx.reply(await _report_file(ctx, result, report[0].text, d))
        await explain_after(ctx, report)  # "What does this mean?" (issue 13)
        ctx.memory["model"] = {"id": result.model_id, "name": result.name}
        ctx.goto("done")
        return
    if never_ran(job):
        await Q.give_back(ctx, str(job["job_id"]), f"the job {status} before it ran")
    cancelled = status == "cancelled"
    reason = "" if cancelled else str(job.get("error") or "it stopped without saying why")
    label = "Cancelled" if cancelled else "Failed"
    ctx.reply(Reply.progress(job["job_id"], d.progress or 0.0, f"✖ {label}", final=True))
    d.outcome = TrainOutcome("cancelled" if cancelled else "failed", reason)
    ctx.goto("failed")


async def _report_file(ctx: Context, result: TrainOutput, text: str, d: TrainData) -> Reply:
    """The training's HTML report (workflows/html_report.py), written off the event loop."""
    from statbot.workflows.html_report import stamp, training_reply

    svc = D.services(ctx)
    path = svc.data_dir / "results" / str(ctx.session.user_id) / f"train-{ctx.event.event_id}.html"
    reply: Reply = await ctx.run_blocking(
        training_reply,
        result,
        text,
        required(d.analyze, "the analyze line"),
        dataset=d.loaded.name,
        path=path,
        created=stamp(ctx.event.at),
    )
    return reply


async def enter_failed(ctx: Context) -> None:
    outcome = data(ctx).outcome or TrainOutcome("failed")
    if outcome.status == "cancelled":
        text, again = "The training was cancelled.", "Train again"
    else:
        error = outcome.error.strip()
        text = f"The training failed: {error}" + ("" if error.endswith(".") else ".")
        again = "Retry"
    ctx.reply(
        Reply.ask(
            f"{text}\n\nNo model was saved. *{again}* runs it again with the same choices; "
            "*Change the model* picks another; /back goes further back.",
            [Option(RETRY, again), Option(CHANGE_MODEL, "Change the model")],
        )
    )


async def on_failed(ctx: Context) -> None:
    answer = ctx.event.choice or ctx.event.text.strip().lower().rstrip("!.")
    if answer in RETRY_WORDS:
        await submit_training(ctx)
    elif answer in CHANGE_WORDS:
        ctx.goto("model")
    else:
        ctx.reply("Press *Retry* to run the training again, or *Change the model*.")


async def on_cancel(ctx: Context) -> None:
    """/cancel (or another command) while training: stop the job's process."""
    d = data(ctx)
    if d.job_id and ctx.session.state == "training":
        runner = D.services(ctx).job_runner()
        cancelled = await runner.cancel(d.job_id)
        if cancelled:
            info = await runner.status(d.job_id)
            if info is not None and info.attempts == 0:  # cancelled while queued
                await Q.give_back(ctx, d.job_id, "cancelled before it ran")
            ctx.reply(Reply.progress(d.job_id, d.progress or 0.0, "✖ Cancelled", final=True))
            ctx.reply("I stopped the training job; no model was saved.")

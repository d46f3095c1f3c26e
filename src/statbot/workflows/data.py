"""Getting a dataset into a conversation: the step /train, /stats, /explore and /predict share.

A dataset arrives as an upload (the ingest saga, ``workflows/ingest.py``: fetched into
``staging/<user>/<upload>``, loaded, stored as Parquet and a catalog row, staging removed; a
failure undoes the earlier steps and keeps the staging folder as ``.failed`` for its TTL), as a
server path inside ``STATBOT_LOCAL_PATH_ROOTS``, or as "the last dataset" remembered in the
session. The session keeps only the dataset's reference; the frame is read from disk, off the
event loop, whenever a step needs it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from statbot.analysis.io.paths import looks_like_path, resolve_server_path
from statbot.engine.events import EventKind
from statbot.engine.replies import Option, Reply
from statbot.engine.workflow import Context
from statbot.errors import StatbotError
from statbot.workflows.ingest import check_frame_size as check_frame_size  # noqa: PLC0414
from statbot.workflows.ingest import ingest_upload
from statbot.workflows.ingest import store_file as store_file  # noqa: PLC0414 (D.store_file)
from statbot.workflows.loaded import Loaded as Loaded  # noqa: PLC0414 (re-export: D.Loaded)

if TYPE_CHECKING:
    from statbot.workflows.services import Services

LAST = "__last__"
USE_PATH = "__path__"
ASK_DATA = (
    "Send me your data: upload a file (CSV, TSV, Excel, Parquet or JSON), or type the path "
    "of a file on the server."
)
_OVERRIDE = re.compile(
    r"^(?:treat|make|set|use)?\s*(?P<col>.+?)\s+(?:as|is|to|=|:)\s+(?:an?\s+)?(?P<kind>\w+)\s*$"
    r"|^(?P<col2>[^:=]+?)\s*[:=]\s*(?P<kind2>\w+)\s*$",
    re.IGNORECASE,
)


def last_dataset(ctx: Context) -> Loaded | None:
    """The user's last dataset (remembered across conversations), if any."""
    last = ctx.memory.get("dataset")
    return Loaded.from_dict(last) if last else None


def services(ctx: Context) -> Services:
    """The bot's services (:class:`statbot.workflows.services.Services`) for this handler."""
    if ctx.services is None:
        raise StatbotError("workflow services are not configured")
    found: Services = ctx.services
    return found


# --- blocking helpers (run through ctx.run_blocking) ------------------------------------------
def write_result(path: Path, data: bytes) -> None:
    """Write a file the chat will attach (table, chart, predictions) under a temporary name and
    rename it: a reply re-sent after a crash never attaches a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    partial.replace(path)


def read_frame(svc: Services, ref: dict[str, Any]) -> Any:
    from statbot.analysis.io.datasets import DatasetRef

    return svc.datasets.get(DatasetRef.from_dict(ref))


def dataset_file(svc: Services, ref: dict[str, Any]) -> Path:
    from statbot.analysis.io.datasets import DatasetRef

    return Path(svc.datasets.parquet_path(DatasetRef.from_dict(ref)))


def store_with_overrides(
    svc: Services, user_id: int, loaded: Loaded, overrides: dict[str, str]
) -> Loaded:
    """Apply the user's type corrections and store the corrected table as its own dataset."""
    from statbot.analysis.io.schema import apply_overrides, infer_schema, render_schema
    from statbot.workflows.quota_checks import put

    frame = apply_overrides(read_frame(svc, loaded.ref), overrides)
    ref = put(svc, user_id, frame, None, loaded.name)
    schema = infer_schema(frame)
    said = [f"{name}: treated as {kind}, as you asked" for name, kind in overrides.items()]
    return Loaded(
        ref=ref.to_dict(),
        name=loaded.name,
        rows=int(frame.shape[0]),
        columns=[str(c) for c in frame.columns],
        kinds={c.name: c.kind for c in schema.columns},
        schema_text=render_schema(schema),
        notes=[*loaded.notes, *said],
        source=loaded.source,
        fmt=loaded.fmt,
        names_row=loaded.names_row,
        header_row=loaded.header_row,
        types={**loaded.types, **_canonical(overrides)},
    )


def _canonical(overrides: dict[str, str]) -> dict[str, str]:
    """The corrections with each type word as the schema names it (``number`` → ``float``),
    as ``statbot analyze --type`` takes them."""
    from statbot.analysis.io.schema import canonical_type

    return {name: canonical_type(word) or word for name, word in overrides.items()}


def preview_overrides(svc: Services, loaded: Loaded, overrides: dict[str, str]) -> str:
    """Check corrections against the data now (raises SchemaMismatch in words); return the
    schema table as it will be."""
    from statbot.analysis.io.schema import apply_overrides, infer_schema, render_schema

    frame = apply_overrides(read_frame(svc, loaded.ref), overrides)
    return render_schema(infer_schema(frame))


# --- conversation pieces ----------------------------------------------------------------------
def ask_for_data(ctx: Context, prompt: str = ASK_DATA) -> None:
    """The prompt of a data step, with a button for the last dataset when there is one."""
    options: list[Option] = []
    last = last_dataset(ctx)
    if last is not None:
        options.append(Option(LAST, f"Use {last.name} ({last.rows} rows)"))
    if services(ctx).settings.local_path_roots:
        options.append(Option(USE_PATH, "A file on the server"))
    ctx.reply(Reply.ask(prompt, options) if options else Reply.say(prompt))


def parse_override(text: str) -> tuple[str, str] | None:
    """ "treat zip as category" / "zip: category" → ("zip", "category")."""
    match = _OVERRIDE.match(text.strip())
    if not match:
        return None
    column = (match.group("col") or match.group("col2") or "").strip().strip("'\"")
    kind = (match.group("kind") or match.group("kind2") or "").strip()
    return (column, kind) if column and kind else None


async def receive(ctx: Context) -> Loaded | Path | None:
    """Handle an event at a data step.

    Returns a stored dataset (:class:`Loaded`), a checked server ``Path`` (the caller decides
    whether to load it now), or None after telling the user what to do. Bad input raises a
    StatbotError whose ``user_message`` the engine shows.
    """
    event = ctx.event
    svc = services(ctx)
    last = last_dataset(ctx)
    if event.kind is EventKind.CHOICE and event.choice == LAST and last is not None:
        return last
    if event.kind is EventKind.CHOICE and event.choice == USE_PATH:
        roots = ", ".join(str(r) for r in svc.settings.local_path_roots)
        ctx.reply(f"Type the path of the file (inside {roots}).")
        return None
    if event.kind is EventKind.UPLOAD and event.upload is not None:
        return await ingest_upload(ctx)
    text = event.text.strip()
    if (
        event.kind is EventKind.TEXT
        and text.lower()
        in (
            "last",
            "the last one",
            "same",
            "same data",
        )
        and last is not None
    ):
        return last
    if event.kind is EventKind.TEXT and looks_like_path(text):
        limit = int(svc.settings.max_file_mb * 2**20)
        return await ctx.run_blocking(
            resolve_server_path, text, list(svc.settings.local_path_roots), limit
        )
    ctx.reply("I need a data file here: upload one, or type the path of a file on the server.")
    return None


async def receive_loaded(ctx: Context) -> Loaded | None:
    """:func:`receive`, with a server path loaded at once, remembered as the current dataset."""
    got = await receive(ctx)
    if got is None:
        return None
    loaded = await load_server_file(ctx, got) if isinstance(got, Path) else got
    remember(ctx, loaded)
    return loaded


def recheck_server_path(svc: Services, path: Path | str) -> Path:
    """Check a server path again right before reading it: since it was typed, the file may
    have become a symlink out of the allowed folders, a FIFO, or too large."""
    limit = int(svc.settings.max_file_mb * 2**20)
    return resolve_server_path(str(path), list(svc.settings.local_path_roots), limit)


async def load_server_file(ctx: Context, path: Path) -> Loaded:
    svc = services(ctx)
    checked = await ctx.run_blocking(recheck_server_path, svc, path)
    return await store_file(ctx, checked, path.name, source={"path": str(path)})


def remember(ctx: Context, loaded: Loaded) -> None:
    """This dataset becomes the conversation's current and the user's last dataset."""
    from statbot.workflows.session_data import AnalysisData

    ctx.typed(AnalysisData).dataset = loaded  # every workflow with a data step declares it
    ctx.memory["dataset"] = loaded.to_dict()
    if loaded.ref.get("digest") and loaded.ref["digest"] not in ctx.session.datasets:
        ctx.session.datasets.append(str(loaded.ref["digest"]))
    for warning in loaded.warnings[:5]:
        ctx.reply(f"Note: {warning}")


def summary_line(loaded: Loaded) -> str:
    return f"*{loaded.name}*: {loaded.rows:,} rows × {len(loaded.columns)} columns."


def column_options(columns: list[str], kinds: dict[str, str] | None = None) -> list[Option]:
    kinds = kinds or {}
    return [Option(c, f"{c} ({kinds[c]})" if c in kinds else c) for c in columns]

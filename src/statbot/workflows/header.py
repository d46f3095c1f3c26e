"""Which row holds the column names (issue 11, "the user may pick the header row").

The loader skips title rows and detects the header by itself; when it had to guess (rows above
the names skipped, or no row that looks like names) the data step shows the columns as read
and asks. The user presses *Looks right*, or *Header is on another row* for a list of the
file's first rows, or types "header row 3" / "header is row 3" / "no header" — also later, at
the steps that take a typed type correction. The file is then read again from its source (the
upload is fetched again by its file id; a server path is checked again), stored as its own
dataset, and the columns are shown again. The pick travels with the dataset
(:attr:`Loaded.header_row`) into the analyses, the training job and the ``statbot analyze``
line (``--header-row N``).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from statbot.engine.events import EventKind, Upload
from statbot.engine.replies import Option, Reply
from statbot.engine.workflow import Context
from statbot.workflows import data as D

LOOKS_RIGHT, OTHER_ROW, ROW = "header_ok", "header_other", "row:"
NO_HEADER = "row:0"
PEEK_ROWS = 8
HINT = 'Column names on another row? Type e.g. "header row 3".'
_REQUEST = re.compile(
    r"^(?:the\s+)?(?:header|column names|names)(?:\s+row)?\s+(?:is|are)?\s*(?:on\s+|in\s+)?"
    r"(?:row|line)?\s*(?P<n>\d{1,4})$"
    r"|^(?:use\s+)?(?:row|line)\s+(?P<m>\d{1,4})(?:\s+as\s+(?:the\s+)?header)?$",
    re.IGNORECASE,
)
_NONE = frozenset({"no header", "no header row", "there is no header", "no column names"})
_OTHER = frozenset(
    {
        "header is on another row",
        "the header is on another row",
        "header on another row",
        "another row",
        "wrong header",
    }
)
_OK = frozenset({"ok", "yes", "looks right", "right", "correct", "go on"})


def parse_request(text: str) -> int | str | None:
    """The row a typed text names for the header (0: none), ``OTHER_ROW`` for "the header is on
    another row" without a number, or None when the text is about something else."""
    said = " ".join(text.strip().lower().rstrip(".!").split())
    if said in _NONE:
        return 0
    if said in _OTHER:
        return OTHER_ROW
    match = _REQUEST.match(said)
    if match is None:
        return None
    return int(match.group("n") or match.group("m"))


def guessed(loaded: D.Loaded) -> bool:
    """Whether the loader had to guess where the names are (a title skipped, or none found)."""
    return loaded.rereadable and loaded.header_row is None and loaded.names_row != 1


def preview(loaded: D.Loaded) -> Reply:
    """The columns as read, with *Looks right* and *Header is on another row*."""
    shown = ", ".join(loaded.columns[:12]) + (" …" if len(loaded.columns) > 12 else "")
    if loaded.names_row is None:
        where = "No row looked like column names, so I numbered the columns"
    elif loaded.names_row > 1:
        where = f"The column names are in row {loaded.names_row} (the rows above it skipped)"
    else:
        where = "The column names are in row 1"
    text = f"{where}: {shown}. Is that right?"
    return Reply.ask(
        text, [Option(LOOKS_RIGHT, "Looks right"), Option(OTHER_ROW, "Header is on another row")]
    )


async def rows_menu(ctx: Context, loaded: D.Loaded) -> Reply:
    """The file's first rows as buttons, and "No header row"."""
    from statbot.analysis.io import peek_rows
    from statbot.analysis.io._peek import row_label
    from statbot.analysis.io.limits import DataLimits

    svc = D.services(ctx)
    path, staging = await _local_copy(ctx, loaded)
    try:
        rows = await ctx.run_blocking(
            peek_rows, path, DataLimits.from_settings(svc.settings), PEEK_ROWS
        )
    finally:
        if staging is not None:
            await ctx.run_blocking(shutil.rmtree, staging, True)
    options = [Option(f"{ROW}{n}", row_label(n, cells)) for n, cells in rows]
    options.append(Option(NO_HEADER, "No header row"))
    question = "Which row holds the column names? (Or type its number.)"
    return Reply.ask(question, options, page_size=9)


async def reread(ctx: Context, loaded: D.Loaded, header_row: int) -> D.Loaded:
    """``loaded``'s file read again with the names in ``header_row`` (0: none), stored as the
    conversation's dataset. Type corrections made before are dropped: they named the columns
    of the other reading."""
    path, staging = await _local_copy(ctx, loaded)
    try:
        again = await D.store_file(
            ctx, path, loaded.name, source=loaded.source, header_row=header_row
        )
    finally:
        if staging is not None:
            await ctx.run_blocking(shutil.rmtree, staging, True)
    D.remember(ctx, again)
    return again


async def _local_copy(ctx: Context, loaded: D.Loaded) -> tuple[Path, Path | None]:
    """The dataset's source file on this machine, and the staging folder to remove after."""
    svc = D.services(ctx)
    if "path" in loaded.source:
        path = await ctx.run_blocking(D.recheck_server_path, svc, loaded.source["path"])
        return path, None
    upload = Upload.from_dict(loaded.source["upload"])
    staging = svc.staging_dir(ctx.session.user_id, f"{ctx.event.event_id}-header")
    return await svc.files.fetch(upload, staging), staging


def chosen_row(ctx: Context) -> int | str | None:
    """What this event says about the header: a row (0: none), ``OTHER_ROW``, ``LOOKS_RIGHT``,
    or None."""
    event = ctx.event
    if event.kind is EventKind.CHOICE:
        if event.choice.startswith(ROW) and event.choice[len(ROW) :].isdigit():
            return int(event.choice[len(ROW) :])
        return event.choice if event.choice in (LOOKS_RIGHT, OTHER_ROW) else None
    if event.kind is not EventKind.TEXT:
        return None
    text = event.text.strip().lower()
    if text in _OK:
        return LOOKS_RIGHT
    if text.isdigit():
        return int(text)
    return parse_request(text)

"""Type corrections ("treat zip as category", "zip: number"): the one code path /train's schema
step, /stats and /explore share (issue 11, "Import you can steer").

/train collects corrections and stores the corrected table when the user says the types look
right; /stats and /explore store each correction at once, so the next analysis reads the
corrected table (its kinds, and the dtype in its Parquet file). Either way a correction is
checked against the data first: one that does not fit says why and changes nothing.
"""

from __future__ import annotations

from statbot.engine.workflow import Context
from statbot.workflows import data as D
from statbot.workflows.choose import NoMatch, resolve_one

HINT = 'Correct a type by typing e.g. "treat zip as category".'


def parse(text: str, *, known_only: bool = False) -> tuple[str, str] | None:
    """(column, type word) when ``text`` reads as a correction. ``known_only``: only when the
    type word is one the schema knows, for steps where other text means something else
    ("compare x to y" is not a correction)."""
    from statbot.analysis.io.schema import canonical_type

    parsed = D.parse_override(text)
    if parsed is None or (known_only and canonical_type(parsed[1]) is None):
        return None
    return parsed


async def propose(
    ctx: Context, loaded: D.Loaded, overrides: dict[str, str], parsed: tuple[str, str]
) -> tuple[dict[str, str], str] | None:
    """``overrides`` with this correction added, and the schema table as it will then be; None
    after telling the user which column they may have meant. A type the column cannot take
    raises SchemaMismatch, whose message the engine shows."""
    column, kind = parsed
    found = resolve_one(column, D.column_options(loaded.columns), "column")
    if isinstance(found, NoMatch):
        ctx.reply(found.message)
        return None
    wanted = {**overrides, found.id: kind}
    schema_text = await ctx.run_blocking(D.preview_overrides, D.services(ctx), loaded, wanted)
    ctx.reply(f"OK: '{found.id}' will be treated as {kind}.")
    return wanted, schema_text


async def offer(ctx: Context, loaded: D.Loaded) -> None:
    """The column types as read, with how to correct one (after a dataset comes in)."""
    schema_text = loaded.schema_text or await ctx.run_blocking(
        D.preview_overrides, D.services(ctx), loaded, {}
    )
    from statbot.workflows.header import HINT as HEADER_HINT

    hints = f"{HINT} {HEADER_HINT}" if loaded.rereadable else HINT
    ctx.reply(f"Column types as I read them:\n`{schema_text}`\n{hints}")


async def apply(ctx: Context, loaded: D.Loaded) -> bool:
    """Store the correction this event types as the conversation's dataset; False when the
    text is not a correction (the step handles it as usual)."""
    parsed = parse(ctx.event.text, known_only=True) if ctx.event.text else None
    if parsed is None:
        return False
    got = await propose(ctx, loaded, {}, parsed)
    if got is not None:
        svc = D.services(ctx)
        stored = await ctx.run_blocking(
            D.store_with_overrides, svc, ctx.session.user_id, loaded, got[0]
        )
        D.remember(ctx, stored)
        ctx.reply(f"Column types now:\n`{stored.schema_text}`")
    return True

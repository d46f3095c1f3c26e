"""``statbot kb search|get|stats|check``: the knowledge base without a chat (issue 13).

The same index, ranking and texts as /kb_search, /kb_get and /kb_stats; ``--json`` prints one
JSON object. Reading an entry here is not counted among the chat's "most read"; ``stats``
shows those counts from ``STATBOT_DATA_DIR``. ``check`` validates the entry files strictly
(every rule of the format, every related id), for whoever writes entries.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from statbot.kb import KnowledgeBase

commands = typer.Typer(
    name="kb", help="Search and read the statistics knowledge base.", no_args_is_help=True
)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
EntriesOpt = Annotated[
    Path | None,
    typer.Option("--entries", help="Read entries from this folder instead of the shipped ones."),
]


def _kb(entries: Path | None) -> KnowledgeBase:
    from statbot.kb import KnowledgeBase

    return KnowledgeBase.load(entries)


def _plain(text: str) -> str:
    from statbot.channels.console.render import defuse, plain

    return defuse(plain(text))


def _echo(data: object) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False))


@commands.command()
def search(
    text: Annotated[str, typer.Argument(help="Words or a question, e.g. 'what is a p-value?'")],
    limit: Annotated[int, typer.Option(min=1, max=50, help="How many results.")] = 10,
    as_json: JsonOpt = False,
    entries: EntriesOpt = None,
) -> None:
    """The entries that best answer TEXT, best first."""
    hits = _kb(entries).search(text, limit=limit)
    if as_json:
        _echo(
            {
                "query": text,
                "results": [
                    {"id": h.entry.id, "title": h.entry.title, "kind": h.entry.kind} for h in hits
                ],
            }
        )
        return
    if not hits:
        typer.echo(f"Nothing matches {text!r}.", err=True)
        raise typer.Exit(1)
    width = max(len(h.entry.id) for h in hits)
    for rank, hit in enumerate(hits, 1):
        typer.echo(f"{rank:>2}. {hit.entry.id.ljust(width)}  {_plain(hit.entry.title)}")


@commands.command()
def get(
    entry_id: Annotated[str, typer.Argument(metavar="ID", help="An entry id, e.g. p-value.")],
    as_json: JsonOpt = False,
    entries: EntriesOpt = None,
) -> None:
    """One entry: its short answer, body, command and related entries."""
    from statbot.kb.render import entry_text

    kb = _kb(entries)
    entry = kb.get(entry_id)
    if entry is None:
        near = ", ".join(h.entry.id for h in kb.search(entry_id, limit=3))
        hint = f" Closest: {near}." if near else ""
        typer.echo(f"statbot kb: no entry with the id {entry_id!r}.{hint}", err=True)
        raise typer.Exit(2)
    if as_json:
        _echo(entry.to_dict())
        return
    typer.echo(_plain(entry_text(entry)))
    if entry.related:
        typer.echo("\nRelated: " + ", ".join(entry.related))


@commands.command()
def stats(as_json: JsonOpt = False, entries: EntriesOpt = None) -> None:
    """Entries by kind and by tag, and the most read in the chat."""
    from statbot.config import load_settings
    from statbot.errors import ConfigError
    from statbot.kb import ReadCounts
    from statbot.kb.render import stats_text

    kb = _kb(entries)
    try:
        data_dir = load_settings().data_dir
    except ConfigError as exc:
        typer.echo(f"statbot: invalid setting {exc}", err=True)
        raise typer.Exit(2) from exc
    reads = ReadCounts.in_data_dir(data_dir)
    counted = reads.most_read(10) if reads.path.exists() else []
    reads.close()
    most = [(e, n) for e, n in ((kb.get(i), n) for i, n in counted) if e is not None]
    if as_json:
        _echo(
            {
                "entries": len(kb.entries),
                "by_kind": kb.by_kind(),
                "by_tag": dict(kb.by_tag()),
                "most_read": [{"id": e.id, "reads": n} for e, n in most],
            }
        )
        return
    typer.echo(_plain(stats_text(kb.by_kind(), kb.by_tag(), most, len(kb.entries))))


@commands.command()
def check(entries: EntriesOpt = None) -> None:
    """Validate the entry files strictly; list every broken rule (exit 1) or say how many."""
    from statbot.kb.loader import read_entries

    found, problems = read_entries(entries)
    for problem in problems:
        typer.echo(problem, err=True)
    if problems:
        raise typer.Exit(1)
    typer.echo(f"{len(found)} entries, all valid.")

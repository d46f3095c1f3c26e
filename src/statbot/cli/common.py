"""What every ``statbot analyze`` command shares: the file argument and ``--json`` option,
loading a file under the configured limits, errors as one line on stderr (exit 2), and output
as one JSON object with full float precision or a plain table."""

from __future__ import annotations

import functools
import inspect
import json
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    import pandas as pd

    from statbot.analysis.io import LoadResult

__all__ = [
    "FileArg",
    "FileOptions",
    "JsonOpt",
    "cell",
    "emit",
    "fail",
    "file_options",
    "load",
    "split",
    "text_table",
    "user_errors",
    "with_file_options",
]

FileArg = Annotated[
    Path, typer.Argument(help="CSV/TSV/TXT, Excel, Parquet or JSON file.", show_default=False)
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON object with full float precision.")
]


def fail(message: str) -> NoReturn:
    """One line on stderr, exit code 2, no traceback."""
    typer.echo(f"statbot analyze: {message}", err=True)
    raise typer.Exit(2)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn statbot errors (DataError, ModelError, ...) into ``fail(user_message)``."""
    from statbot.errors import StatbotError

    try:
        yield
    except StatbotError as exc:
        fail(exc.user_message)


@dataclass
class FileOptions:
    """The options every ``statbot analyze`` command takes about its file (added to each by
    :func:`with_file_options`), and what :func:`load` learnt reading it."""

    command: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    header_row: int | None = None
    html: Path | None = None
    types: list[str] = field(default_factory=list)  # --type COL=KIND, as given
    loaded: LoadResult | None = None
    source: str = ""
    emitted: tuple[dict[str, Any], str] | None = None  # what emit() printed, for --html
    charts: list[tuple[str, bytes]] = field(default_factory=list)  # (caption, PNG), for --html


_OPTIONS: ContextVar[FileOptions] = ContextVar("statbot_analyze_file_options")
HeaderRowOpt = Annotated[
    int | None,
    typer.Option(
        "--header-row",
        min=0,
        help="Row holding the column names, counted from 1 as a spreadsheet shows it "
        "(0: the file has none). Default: title rows are skipped and the header detected.",
        show_default=False,
    ),
]


TypeOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--type",
        metavar="COLUMN=TYPE",
        help="Read a column as this type (category, float, int, bool, datetime, text, ignore), "
        'as the chat\'s "treat zip as category" does; repeat for more columns.',
        show_default=False,
    ),
]


HtmlOpt = Annotated[
    Path | None,
    typer.Option(
        "--html",
        help="Also write the result as one self-contained HTML report (tables, charts, the "
        "command) to this file.",
        show_default=False,
        dir_okay=False,
    ),
]


def file_options() -> FileOptions:
    """The running command's file options (defaults outside a command, e.g. in tests)."""
    return _OPTIONS.get(FileOptions())


def with_file_options(callback: Callable[..., Any]) -> Callable[..., Any]:
    """``callback`` with the ``--header-row``, ``--type`` and ``--html`` options added to its
    signature.

    Applied to every analyze command where the commands are registered (:mod:`statbot.cli`), so each
    command keeps its own options and gains these without repeating them; :func:`load` reads
    them, and the report is written once the command has printed its result."""
    signature = inspect.signature(callback, eval_str=True)
    extra = [
        inspect.Parameter(
            "header_row", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=HeaderRowOpt
        ),
        inspect.Parameter(
            "types", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=TypeOpt
        ),
        inspect.Parameter("html", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=HtmlOpt),
    ]
    params = list(signature.parameters.values())

    @functools.wraps(callback)
    def run(
        *args: Any,
        header_row: int | None = None,
        types: list[str] | None = None,
        html: Path | None = None,
        **kwargs: Any,
    ) -> Any:
        options = FileOptions(callback.__name__, dict(kwargs), header_row, html, list(types or []))
        token = _OPTIONS.set(options)
        try:
            result = callback(*args, **kwargs)
            if html is not None:
                from statbot.cli.report import write_report

                with user_errors():
                    write_report(options, html)
            return result
        finally:
            _OPTIONS.reset(token)

    run.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*params, *extra]
    )
    run.__annotations__ = {
        **callback.__annotations__,
        "header_row": HeaderRowOpt,
        "types": TypeOpt,
        "html": HtmlOpt,
    }
    return run


def load(path: Path) -> pd.DataFrame:
    """Load ``path`` with the configured data limits (and ``--header-row``, ``--type``); how
    columns were read and the load warnings go to stderr."""
    from statbot.analysis.io import load_path
    from statbot.analysis.io.limits import DataLimits
    from statbot.config import load_settings
    from statbot.errors import ConfigError

    if not path.exists():
        fail(f"no such file: {path}")
    try:
        limits = DataLimits.from_settings(load_settings())
    except ConfigError as exc:
        fail(f"invalid setting {exc}")
    options = file_options()
    overrides = _type_options(options.types)
    with user_errors():
        loaded = load_path(path, limits, header_row=options.header_row)
        if overrides:
            from statbot.analysis.io.schema import apply_overrides

            loaded.frame = apply_overrides(loaded.frame, overrides)
    options.loaded, options.source = loaded, str(path)
    for note in loaded.conversions:
        typer.echo(f"note: {note}", err=True)
    for warning in loaded.warnings:
        typer.echo(f"warning: {warning}", err=True)
    return loaded.frame


def _type_options(given: list[str]) -> dict[str, str]:
    """``--type zip=category`` options as column → type (the last one for a column wins)."""
    overrides: dict[str, str] = {}
    for option in given:
        column, sep, kind = option.rpartition("=")
        if not sep or not column.strip() or not kind.strip():
            fail(f"--type takes COLUMN=TYPE (e.g. --type zip=category), not {option!r}")
        overrides[column.strip()] = kind.strip()
    return overrides


def jsonable(value: Any) -> Any:
    """Python/numpy scalars and containers → JSON types; non-finite floats → None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if hasattr(value, "item"):  # numpy scalar
        return jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return str(value)


def emit(result: dict[str, Any], as_json: bool, text: str | None = None) -> None:
    """Print ``result`` as one JSON object (``as_json``) or ``text`` (default: key/value lines)."""
    if text is None:
        text = "\n".join(f"{k}: {cell(v)}" for k, v in result.items())
    file_options().emitted = (jsonable(result), text)
    if as_json:
        typer.echo(json.dumps(jsonable(result), allow_nan=False, ensure_ascii=False))
        return
    typer.echo(text)


def split(value: str) -> list[str]:
    """``"a, b,c"`` → ``["a", "b", "c"]``."""
    return [part.strip() for part in value.split(",") if part.strip()]


def cell(value: Any) -> str:
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:.6g}"
    if value is None:
        return "n/a"
    return str(value)


def text_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned text table; first column left-aligned, the rest right-aligned."""
    cells = [[str(h) for h in headers], *[[cell(v) for v in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for r in cells:
        parts = [
            r[0].ljust(widths[0]),
            *(c.rjust(w) for c, w in zip(r[1:], widths[1:], strict=True)),
        ]
        lines.append("  ".join(parts).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)

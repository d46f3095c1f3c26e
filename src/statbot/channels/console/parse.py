"""What a typed line means. Pure: no I/O besides asking whether a path is a file.

In order of precedence:
1. ``/quit`` or ``/exit`` leaves; ``upload PATH`` sends that file (or says it does not exist).
2. With a menu open: its number (``Done`` is the number after the last option of a
   multi-select), ``done``, or an option's exact label or id picks it; ``more`` turns the page.
3. The path of an existing file sends the file.
4. ``/name args`` is a command (``/tmp/missing.csv`` is not: it is text).
5. Anything else is text (the workflow resolves typed answers such as ``all except a, b``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from statbot.engine.replies import DONE_OPTION, Reply

_SPACES = re.compile(r"[\s_\-]+")
_COMMAND = re.compile(r"^/[A-Za-z0-9_]{1,32}$")  # Telegram's command syntax; "/tmp/x" is not one
QUIT_COMMANDS = frozenset({"quit", "exit"})
MORE_WORDS = frozenset({"more", "m", "more…", "more..."})


@dataclass(frozen=True, slots=True)
class Quit:
    pass


@dataclass(frozen=True, slots=True)
class More:
    pass


@dataclass(frozen=True, slots=True)
class Problem:
    """Said to the user locally; nothing is sent to the bot."""

    message: str


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    args: str = ""


@dataclass(frozen=True, slots=True)
class Pick:
    option_id: str


@dataclass(frozen=True, slots=True)
class SendFile:
    path: Path


@dataclass(frozen=True, slots=True)
class Text:
    text: str


Parsed = Quit | More | Problem | Command | Pick | SendFile | Text


def _norm(text: str) -> str:
    return _SPACES.sub(" ", text.strip().lower()).strip()


def existing_file(text: str, cwd: Path) -> Path | None:
    raw = text.strip().strip("'\"")
    if not raw or "\x00" in raw:
        return None
    candidate = Path(raw).expanduser()
    if not candidate.is_absolute():
        candidate = cwd / candidate
    try:
        return candidate.resolve() if candidate.is_file() else None
    except OSError:
        return None


def pick_from(text: str, menu: Reply) -> Pick | None:
    """The option ``text`` names in ``menu`` (number, label or id), or None."""
    wanted = _norm(text)
    if wanted.isdigit():
        number = int(wanted)
        if 1 <= number <= len(menu.options):
            return Pick(menu.options[number - 1].id)
        if menu.multi and number == len(menu.options) + 1:
            return Pick(DONE_OPTION)
        # not a position: it may still be a label ("2015")
    if menu.multi and wanted == "done":
        return Pick(DONE_OPTION)
    for option in menu.options:
        if wanted in (_norm(option.label), _norm(option.id)):
            return Pick(option.id)
    return None


def parse_line(line: str, menu: Reply | None, cwd: Path) -> Parsed | None:
    """Interpret one typed line; None for a blank line."""
    text = line.strip()
    if not text:
        return None
    head, _, rest = text.partition(" ")
    if head.lower() in {f"/{c}" for c in QUIT_COMMANDS}:
        return Quit()
    if head.lower() == "upload":
        if not rest.strip():
            return Problem("Usage: upload PATH")
        path = existing_file(rest, cwd)
        return SendFile(path) if path else Problem(f"No such file: {rest.strip()}")
    if menu is not None:
        picked = pick_from(text, menu)
        if picked is not None:
            return picked
        if _norm(text) in MORE_WORDS and len(menu.options) > menu.page_size:
            return More()
    path = existing_file(text, cwd)
    if path is not None:
        return SendFile(path)
    if _COMMAND.match(head):
        return Command(head[1:].lower(), rest.strip())
    return Text(text)

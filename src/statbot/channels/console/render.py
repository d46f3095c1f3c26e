"""Replies as terminal text.

- TEXT: the neutral markup (``*bold*``, `` `code` ``) stripped to plain text.
- CHOICES: the prompt, then one numbered line per option of the current page (``[x]``/``[ ]``
  for multi-select), a ``more…`` line when further pages exist, and ``Done`` as the last number of
  a multi-select menu. Numbers are positions in the whole list, so they do not change with pages.
- IMAGE / DOCUMENT: the file is copied to the output folder and its path printed, with the caption.
- PROGRESS: one line rewritten in place on a terminal; on a pipe, one line per new step.
"""

from __future__ import annotations

import filecmp
import math
import re
import shutil
from pathlib import Path
from typing import TextIO

from statbot.engine.replies import Reply, ReplyKind

# A code span may cover several lines (workflows show small tables that way); bold may not.
_MARKUP = re.compile(r"`([^`]+)`|\*([^*\n]+)\*")
BAR_WIDTH = 20
PROMPT = "> "


# C0 controls but tab and newline, DEL and C1 controls (0x9b is a one-byte CSI): text from
# files (column names, cells) must not drive the user's terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def defuse(text: str) -> str:
    """Control characters shown as visible symbols (ESC as "␛"), never sent to the terminal."""
    return _CONTROL.sub(lambda m: chr(0x2400 + ord(m.group())) if m.group() < " " else "�", text)


def plain(text: str) -> str:
    """Neutral markup to plain text: the markers go, the words stay."""
    return _MARKUP.sub(lambda m: m.group(1) or m.group(2), text)


def pages(reply: Reply) -> int:
    return max(1, math.ceil(len(reply.options) / max(1, reply.page_size)))


def choice_lines(reply: Reply, page: int = 0) -> list[str]:
    """The lines of a CHOICES reply showing ``page`` (0-based)."""
    total = pages(reply)
    page = min(max(page, 0), total - 1)
    size = max(1, reply.page_size)
    lines = [plain(reply.text)] if reply.text else []
    chosen = set(reply.selected)
    width = len(str(len(reply.options) + 1))
    start = page * size
    for index, option in enumerate(reply.options[start : start + size], start=start + 1):
        tick = ("[x] " if option.id in chosen else "[ ] ") if reply.multi else ""
        lines.append(f"  {index:>{width}}. {tick}{option.label}")
    if page < total - 1:
        first, last = start + size + 1, min(start + 2 * size, len(reply.options))
        lines.append(f'  more… (type "more" for {first}–{last} of {len(reply.options)})')
    elif total > 1:
        lines.append('  (type "more" to see the list from the top)')
    if reply.multi:
        done = len(reply.options) + 1
        lines.append(f"  {done:>{width}}. Done ({len(chosen)} selected)")
    return lines


def unique_target(folder: Path, file_name: str, source: Path) -> Path:
    """``folder/file_name``, or ``name-2.ext``… when a different file already has that name.
    The same file delivered twice (an outbox re-send) lands on the same path."""
    name = Path(file_name).name or source.name
    target = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    counter = 2
    while target.exists() and not filecmp.cmp(target, source, shallow=False):
        target = folder / f"{stem}-{counter}{suffix}"
        counter += 1
    return target


class ConsoleRenderer:
    """Writes replies to ``out``; files go to ``out_dir``.

    It knows what is on the terminal's current line (a prompt, a progress bar, both), so that
    replies arriving while the user is at the prompt (job progress) do not garble it: the prompt
    is taken away before they are shown and put back after; on a terminal a progress bar is
    redrawn in place with the prompt after it.
    """

    def __init__(self, out: TextIO, out_dir: Path, *, tty: bool) -> None:
        self.out = out
        self.out_dir = out_dir
        self.tty = tty
        self._progress: tuple[str, str] | None = None  # (progress_id, line) being redrawn
        self._open = 0  # characters on the current, unterminated line
        self._prompted = False

    # the prompt ----------------------------------------------------------------------------
    def prompt(self) -> None:
        self.out.write(PROMPT)
        self.out.flush()
        self._open += len(PROMPT)
        self._prompted = True

    def unprompt(self) -> None:
        """Take the prompt away before showing something that arrived meanwhile."""
        if not self._prompted:
            return
        self._prompted = False
        if not self.tty:
            self.out.write("\n")
            self._open = 0
        else:
            self._rewrite(self._progress[1] if self._progress else "")

    def typed(self) -> None:
        """The user pressed Enter: the terminal moved to a new line."""
        self._prompted = False
        self._open = 0
        self._progress = None

    def _rewrite(self, text: str) -> None:
        text = defuse(text)
        pad = " " * max(0, self._open - len(text))
        self.out.write("\r" + text + pad + ("\r" + text if pad else ""))
        self.out.flush()
        self._open = len(text)

    # replies -------------------------------------------------------------------------------
    def show(self, reply: Reply, page: int = 0) -> None:
        if reply.kind is ReplyKind.PROGRESS:
            self._show_progress(reply)
            return
        if reply.kind is ReplyKind.CHOICES:
            self.lines(choice_lines(reply, page))
        elif reply.kind in (ReplyKind.IMAGE, ReplyKind.DOCUMENT):
            self._show_file(reply)
        elif reply.kind is ReplyKind.INVOICE:
            self.lines(invoice_lines(reply))
        elif reply.kind in (ReplyKind.CHECKOUT, ReplyKind.REFUND):
            return  # Bot API calls about a payment; a console has none to answer
        else:
            self.lines([plain(reply.text)])

    def lines(self, lines: list[str]) -> None:
        self.end_progress()
        self.out.write("".join(f"{defuse(line)}\n" for line in lines))
        self.out.flush()

    def end_progress(self) -> None:
        if self._progress is not None and self.tty and self._open:
            self.out.write("\n")
            self._open = 0
        self._progress = None

    def _show_progress(self, reply: Reply) -> None:
        fraction = reply.fraction or 0.0
        filled = round(fraction * BAR_WIDTH)
        bar = "#" * filled + "." * (BAR_WIDTH - filled)
        line = f"[{bar}] {round(fraction * 100):3d}% {plain(reply.text)}"
        progress_id = reply.progress_id or ""
        if self._progress is not None and self._progress[0] != progress_id:
            self.end_progress()
        if self._progress is not None and self._progress[1] == line:
            return
        if self.tty:
            self._rewrite(line)
        else:
            self.out.write(defuse(line) + "\n")
            self.out.flush()
        self._progress = (progress_id, line)

    def _show_file(self, reply: Reply) -> None:
        what = "image" if reply.kind is ReplyKind.IMAGE else "document"
        source = Path(reply.path or "")
        if not reply.path or not source.is_file():
            self.lines([f"[{what} {reply.file_name or source.name} is no longer available]"])
            return
        self.out_dir.mkdir(parents=True, exist_ok=True)
        target = unique_target(self.out_dir, reply.file_name or source.name, source)
        if not target.exists():
            shutil.copyfile(source, target)
        caption = f" — {plain(reply.text)}" if reply.text else ""
        self.lines([f"[{what} saved to {target.resolve()}]{caption}"])


def invoice_lines(reply: Reply) -> list[str]:
    """An invoice, said; the console cannot take Telegram Stars (issue 12)."""
    title = str(reply.meta.get("title", "Invoice"))
    amount = reply.meta.get("amount", "?")
    lines = [f"[invoice] {plain(title)} — {amount} Telegram Stars"]
    if reply.text:
        lines.append(plain(reply.text))
    lines.append("(The console cannot pay: buy in Telegram, or in the sandbox with `statbot run`.)")
    return lines

"""Typed answers where buttons were offered (DESIGN.md "Chat"): every choice can be typed.

Accepted: the option's number in the list, its id or label (case/space/underscore-insensitive),
a unique prefix of its label (or of its id, from 4 characters: the start of a model's id), and
for multi-select ``all``, ``all except a, b``, ``none`` or a comma list. A name that matches
nothing gets the closest suggestion ("no column 'prise' — did you mean 'price'?").
Deterministic: no language model.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from statbot.engine.replies import Option

_SPACES = re.compile(r"[\s_\-]+")
_EXCEPT = re.compile(r"^(?:all|everything)\s+(?:except|but|without)\s+(.+)$", re.IGNORECASE)


def norm(text: str) -> str:
    return _SPACES.sub(" ", text.strip().strip("'\"`").lower()).strip()


@dataclass(frozen=True, slots=True)
class NoMatch:
    """What the user typed did not name an option; ``message`` says so, with a suggestion."""

    message: str
    suggestion: str | None = None


def closest(name: str, candidates: Sequence[str]) -> str | None:
    by_norm = {norm(c): c for c in candidates}
    match = difflib.get_close_matches(norm(name), list(by_norm), n=1, cutoff=0.6)
    return by_norm[match[0]] if match else None


def resolve_one(text: str, options: Sequence[Option], noun: str = "option") -> Option | NoMatch:
    """One option from typed text."""
    wanted = norm(text)
    if not wanted:
        return NoMatch(f"Please choose a {noun}.")
    number = text.strip().strip("'\"`")
    if re.fullmatch(r"[+-]?[0-9]+", number):  # before norm(), which reads "-1" as "1"
        index = int(number) - 1
        if 0 <= index < len(options):
            return options[index]
        return NoMatch(f"There is no {noun} number {number}; choose 1–{len(options)}.")
    for option in options:
        if wanted in (norm(option.id), norm(option.label)):
            return option
    prefixed = [
        o
        for o in options
        if norm(o.label).startswith(wanted) or (len(wanted) >= 4 and norm(o.id).startswith(wanted))
    ]
    if len(prefixed) == 1:
        return prefixed[0]
    names = [o.label for o in options]
    guess = closest(text, names)
    if guess is not None:
        return NoMatch(f"There is no {noun} '{text.strip()}'. Did you mean '{guess}'?", guess)
    sample = ", ".join(names[:6]) + (", …" if len(names) > 6 else "")
    return NoMatch(f"There is no {noun} '{text.strip()}'. Choose one of: {sample}.")


def resolve_many(
    text: str, options: Sequence[Option], noun: str = "column"
) -> list[Option] | NoMatch:
    """Several options: ``all``, ``all except a, b``, ``none``, or a comma/``and`` list."""
    wanted = text.strip()
    low = norm(wanted)
    if low in ("all", "everything", "all of them"):
        return list(options)
    if low in ("none", "nothing"):
        return []
    excluded: list[Option] = []
    match = _EXCEPT.match(wanted)
    if match:
        parts = _split(match.group(1))
        for part in parts:
            found = resolve_one(part, options, noun)
            if isinstance(found, NoMatch):
                return found
            excluded.append(found)
        return [o for o in options if o not in excluded]
    chosen: list[Option] = []
    for part in _split(wanted):
        found = resolve_one(part, options, noun)
        if isinstance(found, NoMatch):
            return found
        if found not in chosen:
            chosen.append(found)
    return chosen


def _split(text: str) -> list[str]:
    parts = re.split(r"\s*(?:,|;|\band\b|&)\s*", text.strip())
    return [p for p in (p.strip() for p in parts) if p]

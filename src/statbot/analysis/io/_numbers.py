"""Text columns that hold formatted numbers: currency, thousands separators, decimal commas,
percentages, accounting negatives — ``$1,234.50``, ``1.234,5 €``, ``€ 1 234,50``, ``(1,234)``.

Private to ``statbot.analysis.io`` (called by ``_text.fix_text`` for every text column). The
decision is per column and all-or-nothing: a column becomes numbers only when every value reads
as a number under ONE convention (one decimal mark, at most one thousands separator, at most one
currency, a percent sign on all values or none). Anything else stays text, so a column of
``1,5`` decimal commas is never read as thousands and ids with leading zeros (``00123``) keep
their zeros. Percentages keep the number written (``12%`` is 12, as R's ``parse_number`` reads
it), and the sentence returned says so — the user is told what was converted, column by column.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

# Longest first: the alternation must prefer "US$" to "$" and "CHF" to nothing.
_CURRENCIES = (
    "US$",
    "HK$",
    "NZ$",
    "R$",
    "A$",
    "C$",
    "S$",
    "USD",
    "EUR",
    "GBP",
    "JPY",
    "CHF",
    "CNY",
    "RUB",
    "INR",
    "BRL",
    "CAD",
    "AUD",
    "SEK",
    "NOK",
    "DKK",
    "PLN",
    "CZK",
    "HUF",
    "TRY",
    "ZAR",
    "MXN",
    "KRW",
    "HKD",
    "SGD",
    "NZD",
    "zł",
    "Kč",
    "kr",
    "Ft",
    "$",
    "€",
    "£",
    "¥",
    "₹",
    "₽",
    "₩",
    "₺",
    "₪",
    "₫",
    "฿",
    "₴",
    "₦",
    "₱",
    "¢",
)
_CUR = "|".join(c.replace("$", r"\$") for c in _CURRENCIES)
_SPACES = "\u00a0\u202f\u2009"  # no-break, narrow no-break, thin: common group separators
_MINUS = "\u2212-"  # "-" last: inside [+...] it must not make a range
_WS = r"[\s" + _SPACES + r"]*"  # RE2's \s is ASCII only
_FULL = (
    rf"^{_WS}(?P<open>\()?{_WS}(?P<s1>[+{_MINUS}])?{_WS}(?P<c1>{_CUR})?{_WS}"
    rf"(?P<s2>[+{_MINUS}])?{_WS}(?P<num>\d(?:[\d.,' {_SPACES}]*\d)?){_WS}"
    rf"(?P<c2>{_CUR})?{_WS}(?P<pct>%)?{_WS}(?P<close>\))?{_WS}$"
)
_GROUPS = {".": (",", " ", "'"), ",": (".", " ", "'")}


@dataclass(frozen=True, slots=True)
class NumberFormat:
    """How one column's numbers were written; ``describe`` is the sentence for the user."""

    decimal: str
    fractions: bool  # some value has digits after the decimal mark
    group: str | None
    currency: str | None
    percent: bool
    parens: bool

    def describe(self, name: str) -> str:
        how: list[str] = []
        if self.currency:
            how.append(f"currency {self.currency} removed")
        if self.percent:
            how.append("% removed (12% is read as 12)")
        if self.group:
            shown = "a space" if self.group == " " else f"'{self.group}'"
            how.append(f"thousands separator {shown}")
        if self.decimal == "," and self.fractions:
            how.append("decimal comma")
        if self.parens:
            how.append("(1,234) read as -1234")
        return f"{name}: read as numbers, " + ", ".join(how)


def _any(arr: pa.ChunkedArray | pa.Array) -> bool:
    return pc.any(arr).as_py() is True


def _all(arr: pa.ChunkedArray | pa.Array) -> bool:
    return pc.all(arr).as_py() is not False


def _fits(num: pa.ChunkedArray, decimal: str, group: str | None) -> bool:
    """Every number reads with this decimal mark and thousands separator, and no integer
    part has a leading zero (``0123`` is a code, not a number; ``0.5`` and ``0`` are fine)."""
    g = "" if group is None else ("\\" + group if group in ".'" else group)
    dec = "\\" + decimal if decimal == "." else decimal
    whole = r"\d+" if group is None else rf"(?:\d{{1,3}}(?:{g}\d{{3}})+|\d+)"
    if not _all(pc.match_substring_regex(num, rf"^{whole}(?:{dec}\d+)?$")):
        return False
    return not _any(pc.match_substring_regex(num, r"^0[\d" + (g or "") + "]"))


def _convention(num: pa.ChunkedArray, hint: str) -> tuple[str, str | None] | None:
    """The one (decimal mark, thousands separator) every value agrees on, or None.

    The file's own decimal mark (``hint``, sniffed from the whole sample) is tried first; the
    other mark is taken only when some value proves it — a decimal part not three digits long,
    which no thousands group could be (``1,5``, not ``1,234``)."""
    present = {c for c in ",. '" if _any(pc.match_substring(num, c))}
    fits: list[tuple[str, str | None]] = []
    for decimal in (hint, "," if hint == "." else "."):
        others = present - {decimal}
        if len(others) > 1:
            continue
        group = next(iter(others), None)
        if group is not None and group not in _GROUPS[decimal]:
            continue
        proof = rf"\{decimal}(?:\d{{1,2}}|\d{{4,}})$"
        if (
            decimal != hint
            and decimal in present
            and not _any(pc.match_substring_regex(num, proof))
        ):
            continue
        if _fits(num, decimal, group):
            fits.append((decimal, group))
    return fits[0] if fits else None


def _decorated(fmt: NumberFormat) -> bool:
    """Plain numbers were typed by the reader already: a text column of them was kept as text
    on purpose (an Excel text cell, a code), so convert only what carries a format."""
    comma = fmt.decimal == "," and fmt.fractions
    return bool(fmt.currency or fmt.percent or fmt.parens or fmt.group or comma)


def _field(parts: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    return pc.struct_field(parts, name)


def to_number(arr: pa.ChunkedArray, hint: str) -> tuple[pa.ChunkedArray, NumberFormat] | None:
    """The column as float64 and how it was written, or None when it is not formatted numbers."""
    sample = arr.slice(0, 4096)
    if sample.null_count == len(sample) or not _all(
        pc.match_substring_regex(pc.drop_null(sample), _FULL)
    ):
        return None
    parts = pc.extract_regex(arr, _FULL)
    if parts.null_count != arr.null_count:
        return None  # some value further down is not a number
    values = pc.drop_null(parts)
    opened = pc.not_equal(_field(values, "open"), "")
    closed = pc.not_equal(_field(values, "close"), "")
    signed = pc.or_(pc.not_equal(_field(values, "s1"), ""), pc.not_equal(_field(values, "s2"), ""))
    if not _all(pc.equal(opened, closed)) or _any(pc.and_(opened, signed)):
        return None
    symbols = set(pc.unique(_field(values, "c1")).to_pylist())
    symbols |= set(pc.unique(_field(values, "c2")).to_pylist())
    symbols.discard("")
    pct = pc.not_equal(_field(values, "pct"), "")
    if len(symbols) > 1 or (_any(pct) and not _all(pct)) or (symbols and _any(pct)):
        return None
    raw = _field(parts, "num")
    num = pc.replace_substring_regex(raw, f"[{_SPACES}]", " ")
    suffix_only = bool(symbols) and not _any(pc.not_equal(_field(values, "c1"), ""))
    found = _convention(pc.drop_null(num), "," if suffix_only and hint == "." else hint)
    if found is None:
        return None
    decimal, group = found
    fractions = _any(pc.match_substring(num, decimal))
    fmt = NumberFormat(
        decimal, fractions, group, next(iter(symbols), None), _any(pct), _any(opened)
    )
    if not _decorated(fmt):
        return None
    text = num if group is None else pc.replace_substring(num, group, "")
    if decimal == ",":
        text = pc.replace_substring(text, ",", ".")
    try:
        out = pc.cast(text, pa.float64())
    except pa.ArrowInvalid:
        return None
    minus = pc.or_(
        pc.match_substring_regex(_field(parts, "s1"), f"[{_MINUS}]"),
        pc.match_substring_regex(_field(parts, "s2"), f"[{_MINUS}]"),
    )
    negative = pc.or_(minus, pc.not_equal(_field(parts, "open"), ""))
    return pc.if_else(negative, pc.negate(out), out), fmt

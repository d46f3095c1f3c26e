"""Tables out of statbot as CSV a spreadsheet opens safely (re-exported by the package)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd


def safe_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV safe to open in a spreadsheet: text starting with = + - @ tab or CR gets a
    leading apostrophe (OWASP CSV injection); floats keep full precision (shortest repr)."""
    import pandas as pd
    from pandas.api import types

    from statbot.analysis.io._clean import FORMULA_START

    def escape(value: Any) -> Any:
        if isinstance(value, str) and value.startswith(FORMULA_START):
            return "'" + value
        return value

    out = pd.DataFrame(index=frame.index)
    for i in range(frame.shape[1]):
        series = frame.iloc[:, i]
        if types.is_float_dtype(series.dtype):
            series = series.map(lambda v: "" if pd.isna(v) else repr(float(v)))
        elif not (
            types.is_numeric_dtype(series.dtype) or types.is_datetime64_any_dtype(series.dtype)
        ):
            series = series.map(escape)
        out[i] = series
    out.columns = [escape(str(c)) for c in frame.columns]
    text: str = out.to_csv(index=False, lineterminator="\n")
    return text.encode("utf-8")

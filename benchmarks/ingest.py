"""Ingest benchmark: statbot's loader vs ``pandas.read_csv`` defaults on the same generated CSV.

Generates a CSV of ``--mb`` megabytes (default 200) with integer, float, categorical, free-text,
boolean and ISO-date columns in a temporary folder, then loads it ``--repeat`` times with each
reader, every run in a fresh subprocess so peak RSS (``ru_maxrss`` of that child) is the reader's
own. Prints one JSON line::

    {"statbot_mb_s": …, "pandas_mb_s": …, "ratio": …, "statbot_peak_rss_ratio": …, …}

Targets (issue #3): ratio ≥ 3, statbot_peak_rss_ratio ≤ 2.5 (peak RSS ÷ file size).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROWS_PER_CHUNK = 200_000


def generate(path: Path, megabytes: float, seed: int = 7) -> int:
    """Write a mixed-type CSV of about ``megabytes`` MB; return its size in bytes."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    target = int(megabytes * 1024 * 1024)
    words = np.array(["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"])
    cities = np.array(["Berlin", "Paris", "Lagos", "Lima", "Osaka", "Quito", "Perth", "Oslo"])
    start = np.datetime64("2015-01-01")
    written, row = 0, 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        header = True
        while written < target:
            n = ROWS_PER_CHUNK
            chunk = pd.DataFrame(
                {
                    "id": np.arange(row, row + n),
                    "price": np.round(rng.lognormal(3.0, 1.0, n), 4),
                    "score": rng.normal(0.0, 1.0, n),
                    "qty": rng.integers(0, 1000, n),
                    "city": cities[rng.integers(0, len(cities), n)],
                    "note": np.char.add(
                        words[rng.integers(0, len(words), n)],
                        rng.integers(0, 10_000, n).astype(str),
                    ),
                    "day": (start + rng.integers(0, 3650, n).astype("timedelta64[D]")).astype(str),
                    "flag": rng.integers(0, 2, n).astype(bool),
                }
            )
            text = chunk.to_csv(index=False, header=header)
            header = False
            if written + len(text) > target:  # stay within the size (the default file limit)
                text = text[: text.rfind("\n", 0, target - written) + 1]
                if not text:
                    break
            handle.write(text)
            written += len(text)
            row += n
    return path.stat().st_size


def _load_statbot(path: str) -> tuple[int, int]:
    from statbot.analysis.io import load_path

    shape = load_path(path).frame.shape
    return int(shape[0]), int(shape[1])


def _load_pandas(path: str) -> tuple[int, int]:
    import pandas as pd

    shape = pd.read_csv(path).shape
    return int(shape[0]), int(shape[1])


_READERS = {"statbot": _load_statbot, "pandas": _load_pandas}


def child(reader: str, path: str) -> None:
    """Run inside the fresh subprocess: time one load (imports excluded), report peak RSS."""
    import resource
    import time

    import pandas  # noqa: F401  (both readers need it; keep its import out of the timing)
    import pyarrow  # noqa: F401

    def cpu() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    t0, c0 = time.perf_counter(), cpu()
    shape = _READERS[reader](path)
    seconds, cpu_seconds = time.perf_counter() - t0, cpu() - c0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "peak_rss_bytes": peak_kb * 1024,
                "shape": shape,
            }
        )
    )


def measure(reader: str, path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", reader, str(path)],
        check=False,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise SystemExit(f"{reader} run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200.0, help="CSV size in MB (default 200)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per reader (median taken)")
    parser.add_argument("--child", nargs=2, metavar=("READER", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory(prefix="statbot-ingest-") as tmp:
        path = Path(tmp) / "ingest.csv"
        size = generate(path, args.mb)
        runs: dict[str, list[dict[str, Any]]] = {"statbot": [], "pandas": []}
        for _ in range(args.repeat):
            for reader, done in runs.items():  # interleaved: machine load drift hits both
                done.append(measure(reader, path))
    mb = size / 1024 / 1024
    secs = {r: statistics.median(x["seconds"] for x in v) for r, v in runs.items()}
    cpu = {r: statistics.median(x["cpu_seconds"] for x in v) for r, v in runs.items()}
    peak = {r: max(x["peak_rss_bytes"] for x in v) for r, v in runs.items()}
    result = {
        "statbot_mb_s": round(mb / secs["statbot"], 2),
        "pandas_mb_s": round(mb / secs["pandas"], 2),
        "ratio": round(secs["pandas"] / secs["statbot"], 2),
        "statbot_peak_rss_ratio": round(peak["statbot"] / size, 3),
        "pandas_peak_rss_ratio": round(peak["pandas"] / size, 3),
        "statbot_cpu_s": round(cpu["statbot"], 2),
        "pandas_cpu_s": round(cpu["pandas"], 2),
        "file_mb": round(mb, 1),
        "rows": runs["statbot"][0]["shape"][0],
        "repeat": args.repeat,
        "nproc": os.cpu_count(),
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "cpu": cpu_model(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

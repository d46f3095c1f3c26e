"""What the training benchmarks (train_overhead.py, leaderboard.py) measure with: one run's CPU
and wall seconds, the machine they ran on, and the thread limit both sides run under.

A sibling module, not a package: the benchmarks run as scripts (``python benchmarks/x.py``),
which puts this folder first on ``sys.path``.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")


def timed(run: Callable[..., T], *args: Any) -> tuple[float, float, T]:
    """(CPU seconds, wall seconds, what ``run`` returned) of one run. CPU seconds are what the
    benchmarks compare: on a shared, busy machine wall time of identical work swings more than
    the difference measured, while single-threaded CPU time is the work itself."""
    cpu, wall = time.process_time(), time.perf_counter()
    found = run(*args)
    return time.process_time() - cpu, time.perf_counter() - wall, found


def machine() -> dict[str, Any]:
    import sklearn

    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "sklearn": sklearn.__version__,
    }


@contextmanager
def thread_limit(threads: int) -> Iterator[None]:
    """Both sides under the same OpenMP/BLAS thread limit (0 = the libraries' default). Every
    native library loads first: threadpoolctl limits only the libraries already loaded."""
    import sklearn.ensemble
    import sklearn.inspection  # noqa: F401
    from threadpoolctl import threadpool_limits

    import statbot.analysis.ml.training  # noqa: F401

    with threadpool_limits(limits=threads or None):
        yield

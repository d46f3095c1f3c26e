"""Job kinds: ``@register_job("train")`` names a function the worker subprocess can run.

A job function runs IN THE SUBPROCESS as ``fn(payload, progress, workdir) -> dict``: ``payload``
and the returned result are JSON; ``progress(fraction, message)`` reports a heartbeat; files it
produces go under ``workdir`` (written to a temporary name, then renamed) or to their final home
with the same discipline, so that a re-run after a crash produces the same outputs, once.

The table of job kinds is filled by importing *job modules*: the runner imports them in the
parent (to validate kinds at submit time) and the worker imports the same list in the child. An
entry is a dotted module name or a path to a ``.py`` file. Raise a
:class:`statbot.errors.StatbotError` for bad input: its ``user_message`` becomes the job's error
and the job is not retried.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from statbot.errors import JobError

Progress = Callable[[float, str], None]
DEFAULT_MODULES = ("statbot.jobs.builtin",)


class JobFunction(Protocol):
    def __call__(
        self, payload: dict[str, Any], progress: Progress, workdir: Path
    ) -> dict[str, Any]: ...


# kind -> function. Registration is code, like a command table: it is filled by imports and
# holds no runtime state, so a process-wide table is the honest shape (cf. Temporal activities).
_JOBS: dict[str, JobFunction] = {}
_LABELS: dict[str, str] = {}


def register_job(kind: str, *, label: str | None = None) -> Callable[[JobFunction], JobFunction]:
    """Decorator: make ``fn`` runnable as jobs of ``kind``. ``label`` names the job for the user
    ("training"), in the message shown when it ends while the chat has moved on."""

    def decorate(fn: JobFunction) -> JobFunction:
        existing = _JOBS.get(kind)
        if existing is not None and _identity(existing) != _identity(fn):
            raise JobError(f"job kind {kind!r} is already registered by {_identity(existing)}")
        _JOBS[kind] = fn
        _LABELS[kind] = label or f"{kind} job"
        return fn

    return decorate


def job_label(kind: str) -> str:
    return _LABELS.get(kind, "job")


def get_job(kind: str) -> JobFunction:
    try:
        return _JOBS[kind]
    except KeyError:
        raise JobError(
            f"unknown job kind {kind!r}; registered: {sorted(_JOBS)}",
            user_message="This kind of job is not available.",
        ) from None


def registered_kinds() -> list[str]:
    return sorted(_JOBS)


def load_job_modules(modules: Iterable[str]) -> None:
    """Import each job module (dotted name or ``.py`` path) once; registers its kinds."""
    for entry in modules:
        if entry.endswith(".py"):
            _load_path(Path(entry))
        else:
            importlib.import_module(entry)


def _load_path(path: Path) -> None:
    path = path.resolve()
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    name = f"statbot_jobs_ext_{path.stem}_{digest}"
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise JobError(f"cannot load job module {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise


def _identity(fn: Any) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"

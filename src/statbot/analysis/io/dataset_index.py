"""Where a :class:`~statbot.analysis.io.datasets.DatasetStore` keeps what it knows of each
dataset besides its Parquet file (issue 12): the contract, and the JSON sidecars used when no
catalog database is handed in (the layout before the catalog; statbot.access.storage has the
catalog's implementation, statbot.access.legacy imports old sidecars into it)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Protocol

from statbot.analysis._atomic import write_atomic
from statbot.analysis.errors import DatasetNotFound

__all__ = ["DatasetIndex", "SidecarIndex"]

log = logging.getLogger(__name__)


class DatasetIndex(Protocol):
    """What a :class:`DatasetStore` knows of each dataset besides its Parquet file. An entry is
    the JSON-able dict ``{"ref", "rows", "columns", "size_bytes", "created", "schema"}``; user
    ids are compared as text."""

    def add(self, user_id: int | str, digest: str, entry: dict[str, Any]) -> None:
        """Record a dataset (a second add of the same user and digest keeps the first)."""

    def get(self, user_id: int | str, digest: str) -> dict[str, Any] | None: ...

    def entries(self, user_id: int | str) -> list[dict[str, Any]]: ...

    def remove(self, user_id: int | str, digest: str) -> bool: ...

    def remove_user(self, user_id: int | str) -> int:
        """Forget every dataset of the user; returns how many there were."""


class SidecarIndex:
    """The index as JSON files: ``<root>/<user>/<digest>.json`` next to each Parquet file."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, user_id: int | str, digest: str) -> Path:
        return self.root / str(user_id) / f"{digest}.json"

    def add(self, user_id: int | str, digest: str, entry: dict[str, Any]) -> None:
        path = self._path(user_id, digest)
        if not path.exists():
            text = json.dumps(entry)
            write_atomic(path, lambda tmp: _write_text(tmp, text))

    def get(self, user_id: int | str, digest: str) -> dict[str, Any] | None:
        try:
            entry: dict[str, Any] = json.loads(self._path(user_id, digest).read_text("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise DatasetNotFound(f"unreadable sidecar {digest}: {exc}") from exc
        return entry

    def entries(self, user_id: int | str) -> list[dict[str, Any]]:
        folder = self.root / str(user_id)
        found = []
        for sidecar in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            try:
                entry = self.get(user_id, sidecar.stem)
            except DatasetNotFound as exc:
                log.warning("skipping dataset %s: %s", sidecar, exc)
                continue
            if entry is not None:
                found.append(entry)
        return found

    def remove(self, user_id: int | str, digest: str) -> bool:
        path = self._path(user_id, digest)
        existed = path.exists()
        path.unlink(missing_ok=True)
        return existed

    def remove_user(self, user_id: int | str) -> int:
        folder = self.root / str(user_id)
        sidecars = list(folder.glob("*.json")) if folder.is_dir() else []
        for sidecar in sidecars:
            sidecar.unlink(missing_ok=True)
        return len(sidecars)


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")

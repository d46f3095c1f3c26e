"""The catalog's side of what statbot stores on disk (issue 12): the datasets' index as rows of
the ``datasets`` table, behind the :class:`~statbot.analysis.io.dataset_index.DatasetIndex`
contract the dataset store is written against. The analysis room never imports the catalog;
whoever builds a store (workflows' Services) hands this in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa

from statbot.access.models import Dataset

if TYPE_CHECKING:
    from statbot.access.catalog import Catalog

_T = cast(sa.Table, Dataset.__table__)


def dataset_row(user_id: int | str, digest: str, entry: dict[str, Any]) -> dict[str, Any]:
    """A store's index entry (the old sidecar's JSON) as a ``datasets`` row."""
    ref = entry.get("ref") or {}
    return {
        "user_id": str(user_id),
        "digest": digest,
        "name": str(ref.get("name") or digest),
        "rows": int(entry["rows"]),
        "columns": int(entry["columns"]),
        "size_bytes": int(entry.get("size_bytes") or 0),
        "created": str(entry["created"]),
        "schema": dict(entry.get("schema") or {}),
    }


class CatalogDatasets:
    """The datasets' index on the catalog (a :class:`DatasetIndex`)."""

    def __init__(self, catalog: Catalog) -> None:
        self.engine = catalog.engine

    def add(self, user_id: int | str, digest: str, entry: dict[str, Any]) -> None:
        row = dataset_row(user_id, digest, entry)
        try:
            with self.engine.begin() as connection:
                if self._find(connection, user_id, digest) is None:
                    connection.execute(_T.insert().values(row))
        except sa.exc.IntegrityError:
            # The same content stored at the same moment by another process: it is there.
            if self.get(user_id, digest) is None:
                raise

    def get(self, user_id: int | str, digest: str) -> dict[str, Any] | None:
        with self.engine.connect() as connection:
            row = self._find(connection, user_id, digest)
        return _entry(user_id, row) if row is not None else None

    def entries(self, user_id: int | str) -> list[dict[str, Any]]:
        query = sa.select(_T).where(_T.c.user_id == str(user_id)).order_by(_T.c.created)
        with self.engine.connect() as connection:
            return [_entry(user_id, row) for row in connection.execute(query)]

    def remove(self, user_id: int | str, digest: str) -> bool:
        where = sa.and_(_T.c.user_id == str(user_id), _T.c.digest == digest)
        with self.engine.begin() as connection:
            return int(connection.execute(sa.delete(_T).where(where)).rowcount) > 0

    def remove_user(self, user_id: int | str) -> int:
        with self.engine.begin() as connection:
            result = connection.execute(sa.delete(_T).where(_T.c.user_id == str(user_id)))
            return int(result.rowcount)

    def total_bytes(self, user_id: int | str) -> int:
        """What the user's datasets take on disk (for the storage quota)."""
        query = sa.select(sa.func.coalesce(sa.func.sum(_T.c.size_bytes), 0)).where(
            _T.c.user_id == str(user_id)
        )
        with self.engine.connect() as connection:
            return int(connection.scalar(query) or 0)

    @staticmethod
    def _find(connection: sa.Connection, user_id: int | str, digest: str) -> sa.Row[Any] | None:
        query = sa.select(_T).where(_T.c.user_id == str(user_id), _T.c.digest == digest)
        return connection.execute(query).first()


def _entry(user_id: int | str, row: sa.Row[Any]) -> dict[str, Any]:
    return {
        "ref": {"user_id": user_id, "digest": row.digest, "name": row.name},
        "rows": int(row.rows),
        "columns": int(row.columns),
        "size_bytes": int(row.size_bytes),
        "created": row.created,
        "schema": dict(row.schema),
    }

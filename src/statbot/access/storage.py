"""The catalog's side of what statbot stores on disk (issue 12): the datasets' index as rows of
the ``datasets`` table and the models' as rows of ``models``, behind the contracts the stores
are written against (:class:`~statbot.analysis.io.dataset_index.DatasetIndex`,
:class:`~statbot.analysis.ml.model_index.ModelIndex`). The analysis room never imports the
catalog; whoever builds a store (workflows' Services, the training job) hands these in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import sqlalchemy as sa

from statbot.access.models import Dataset, SavedModel

if TYPE_CHECKING:
    from statbot.access.catalog import Catalog
    from statbot.analysis.ml.card import ModelCard

_T = cast(sa.Table, Dataset.__table__)
_M = cast(sa.Table, SavedModel.__table__)


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


def model_row(user_id: int | str, card: dict[str, Any]) -> dict[str, Any]:
    """A model's card (its JSON dict) as a ``models`` row."""
    return {
        "user_id": str(user_id),
        "model_id": str(card["model_id"]),
        "name": str(card.get("name") or card["model_id"]),
        "created_at": str(card.get("created_at") or ""),
        "card": card,
    }


class CatalogModels:
    """The models' index on the catalog (a :class:`ModelIndex`)."""

    def __init__(self, catalog: Catalog) -> None:
        self.engine = catalog.engine

    def add(self, user_id: int | str, card: ModelCard) -> None:
        row = model_row(user_id, card.to_dict())
        try:
            with self.engine.begin() as connection:
                if self._find(connection, user_id, card.model_id) is None:
                    connection.execute(_M.insert().values(row))
        except sa.exc.IntegrityError:
            if self.get(user_id, card.model_id) is None:  # not a concurrent save of the same
                raise

    def get(self, user_id: int | str, model_id: str) -> ModelCard | None:
        with self.engine.connect() as connection:
            row = self._find(connection, user_id, model_id)
        return _card(row) if row is not None else None

    def cards(self, user_id: int | str) -> list[ModelCard]:
        query = (
            sa.select(_M)
            .where(_M.c.user_id == str(user_id))
            .order_by(_M.c.created_at, _M.c.model_id)
        )
        with self.engine.connect() as connection:
            return [_card(row) for row in connection.execute(query)]

    def rename(self, user_id: int | str, model_id: str, name: str) -> None:
        with self.engine.begin() as connection:
            row = self._find(connection, user_id, model_id)
            if row is not None:
                card = {**row.card, "name": name}
                connection.execute(
                    sa.update(_M).where(*_key(user_id, model_id)).values(name=name, card=card)
                )

    def remove(self, user_id: int | str, model_id: str) -> bool:
        with self.engine.begin() as connection:
            return (
                int(connection.execute(sa.delete(_M).where(*_key(user_id, model_id))).rowcount) > 0
            )

    def remove_user(self, user_id: int | str) -> int:
        with self.engine.begin() as connection:
            return int(
                connection.execute(sa.delete(_M).where(_M.c.user_id == str(user_id))).rowcount
            )

    @staticmethod
    def _find(connection: sa.Connection, user_id: int | str, model_id: str) -> sa.Row[Any] | None:
        return connection.execute(sa.select(_M).where(*_key(user_id, model_id))).first()


def _key(user_id: int | str, model_id: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (_M.c.user_id == str(user_id), _M.c.model_id == model_id)


def _card(row: sa.Row[Any]) -> ModelCard:
    from statbot.analysis.ml.card import ModelCard

    return ModelCard.from_dict({**row.card, "name": row.name})

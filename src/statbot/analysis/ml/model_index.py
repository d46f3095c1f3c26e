"""Where :class:`~statbot.analysis.ml.saved.SavedModels` finds the models a user has (issue 12):
the contract, and the card files themselves when no catalog database is handed in (the layout
before the catalog). In the app the index is the catalog's ``models`` table
(statbot.access.storage.CatalogModels). Either way each model keeps its JSON card next to its
skops file: the card is part of the model (its checksum and library versions are checked at
every load), the index is what lists, names and finds models."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from statbot.analysis.ml.card import ModelCard
from statbot.errors import ModelError

__all__ = ["CardFiles", "ModelIndex"]

log = logging.getLogger(__name__)


class ModelIndex(Protocol):
    """The models of each user, by id. User ids are compared as text."""

    def add(self, user_id: int | str, card: ModelCard) -> None:
        """Record a saved model (again: no change)."""

    def get(self, user_id: int | str, model_id: str) -> ModelCard | None: ...

    def cards(self, user_id: int | str) -> list[ModelCard]:
        """The user's models, oldest first."""

    def rename(self, user_id: int | str, model_id: str, name: str) -> None: ...

    def remove(self, user_id: int | str, model_id: str) -> bool: ...

    def remove_user(self, user_id: int | str) -> int:
        """Forget every model of the user; returns how many there were."""


class CardFiles:
    """The index as the cards on disk: ``<root>/<user>/<model_id>.json``. The files are written
    and removed by SavedModels; this only reads them."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def add(self, user_id: int | str, card: ModelCard) -> None:
        """The card file is the entry: nothing more to write."""

    def get(self, user_id: int | str, model_id: str) -> ModelCard | None:
        from statbot.analysis.ml.saved import read_card

        path = self.root / str(user_id) / f"{model_id}.skops"
        return read_card(path) if path.with_suffix(".json").exists() else None

    def cards(self, user_id: int | str) -> list[ModelCard]:
        from statbot.analysis.ml.saved import read_card

        directory = self.root / str(user_id)
        found = []
        for card_path in directory.glob("*.json") if directory.is_dir() else []:
            try:
                found.append(read_card(card_path))
            except ModelError:
                log.warning("skipping damaged card %s", card_path)
        return sorted(found, key=lambda c: (c.created_at, c.model_id))

    def rename(self, user_id: int | str, model_id: str, name: str) -> None:
        """The card file carries the name: SavedModels rewrites it."""

    def remove(self, user_id: int | str, model_id: str) -> bool:
        return (self.root / str(user_id) / f"{model_id}.json").exists()

    def remove_user(self, user_id: int | str) -> int:
        directory = self.root / str(user_id)
        return len(list(directory.glob("*.json"))) if directory.is_dir() else 0

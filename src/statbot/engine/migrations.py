"""Session schema migrations, applied when a stored session is older than the code.

A migration is registered for the version it upgrades *from*: ``fn(raw) -> raw`` receives the
session as its JSON dict (``Session.to_dict()``) at version ``n`` and returns it at ``n + 1``.
Steps without a registered function are identity steps. The key and the store version (the
fencing counter) are never changed by a migration, whatever the function returns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from statbot.engine.session import SCHEMA_VERSION, Session

log = logging.getLogger(__name__)

Migration = Callable[[dict[str, Any]], dict[str, Any]]


class Migrations:
    """The upgrade steps, ``from_version -> fn``; ``target``: the schema version the code speaks."""

    def __init__(self, target: int = SCHEMA_VERSION) -> None:
        self.target = target
        self._steps: dict[int, Migration] = {}

    def register(self, from_version: int) -> Callable[[Migration], Migration]:
        """Decorator: ``@migrations.register(1)`` upgrades version 1 to 2."""

        def add(fn: Migration) -> Migration:
            self.add(from_version, fn)
            return fn

        return add

    def add(self, from_version: int, fn: Migration) -> None:
        if from_version in self._steps:
            raise ValueError(f"a migration from schema version {from_version} already exists")
        if from_version >= self.target:
            raise ValueError(
                f"migration from {from_version} is not below the target version {self.target}"
            )
        self._steps[from_version] = fn

    def needed(self, session: Session) -> bool:
        return session.schema_version < self.target

    def apply(self, session: Session) -> Session:
        """Upgrade ``session`` to ``target``; raises whatever a migration raises."""
        if not self.needed(session):
            return session
        raw = session.to_dict()
        start = session.schema_version
        for version in range(start, self.target):
            step = self._steps.get(version)
            if step is not None:
                raw = step(raw)
        raw["key"] = str(session.key)
        raw["version"] = session.version
        raw["schema_version"] = self.target
        log.info("migrated session %s from schema %d to %d", session.key, start, self.target)
        return Session.from_dict(raw)

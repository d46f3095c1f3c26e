"""A bounded cache of the sessions this process committed last (LRU).

Loading a session on every event costs a store round trip and a JSON decode; the manager instead
keeps the object it just committed and applies the next event of that key to it. This is safe
because every commit is fenced by the version: if anyone else (another replica, an expiry sweep)
committed in between, the commit raises StaleVersionError, the entry is dropped and the event is
re-applied on a fresh load. The cache is bounded (least recently used go first), so it does
not grow with the number of conversations ever seen.
"""

from __future__ import annotations

from collections import OrderedDict

from statbot.engine.session import Session


class SessionCache:
    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._items: OrderedDict[str, Session] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def take(self, key: str) -> Session | None:
        """Remove and return the cached session: the caller now owns (and may mutate) it."""
        return self._items.pop(key, None)

    def put(self, session: Session) -> None:
        """Keep ``session`` (just committed) as the current state of its key."""
        if self.max_size <= 0:
            return
        key = str(session.key)
        self._items[key] = session
        self._items.move_to_end(key)
        while len(self._items) > self.max_size:
            self._items.popitem(last=False)

    def drop(self, key: str) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()

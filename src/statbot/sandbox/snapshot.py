"""The sandbox's state as plain JSON (no pickle): what ``persist.py`` writes; ``restore.py`` reads.

A snapshot holds what a restarted sandbox needs to continue where it stopped (issue 9, 2a): per
bot the next ``update_id``, the undelivered updates, the webhook and the command menus; the users;
every chat with its messages (files by ``file_id``), next ``message_id`` and the callback queries;
the index of stored files; the page's event feed and its ``seq``.

Bots are matched by id (the digits of the token); the token itself is never written. Bots and
chats in a snapshot whose bot is not served this time are kept as they are ("dormant") and written
back, so running once with other tokens loses nothing.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from statbot.sandbox.files import FileStore, StoredFile
from statbot.sandbox.state import Bot, Chat, Message, SandboxState

FORMAT = 1
_MESSAGE_FIELDS = tuple(f.name for f in dataclasses.fields(Message))
FILE_FIELDS = tuple(f.name for f in dataclasses.fields(StoredFile) if f.name != "disk_path")
_DISK_NUMBER = re.compile(r"(\d+)_")


class KeptFiles(FileStore):
    """A ``FileStore`` in a folder that outlives the process, whose index can be saved."""

    @property
    def counter(self) -> int:
        return self._counter

    def entries(self) -> list[StoredFile]:
        return list(self._by_id.values())

    def restore(self, files: list[StoredFile], counter: int) -> None:
        self._by_id = {f.file_id: f for f in files}
        self._by_unique = {f.file_unique_id: f for f in files}
        self._by_path = {f.file_path: f for f in files}
        # Files written after the last snapshot (a crash) are on disk but not in it: never reuse
        # their numbers, or a new upload would overwrite one.
        on_disk = [_disk_number(p.name) for p in self.root.iterdir()] if self.root.is_dir() else []
        self._counter = max([counter, *on_disk])

    def clear(self) -> None:
        super().clear()
        self._counter = 0
        for path in self.root.iterdir():  # the folder is ours: leftovers of a crash go too
            if path.is_file():
                path.unlink(missing_ok=True)


def _disk_number(name: str) -> int:
    match = _DISK_NUMBER.match(name)
    return int(match.group(1)) if match else 0


@dataclass
class Dormant:
    """Snapshot entries of bots not served by this process, written back unchanged."""

    bots: list[dict[str, Any]] = field(default_factory=list)
    chats: list[dict[str, Any]] = field(default_factory=list)

    def reset(self) -> None:
        """What ``SandboxState.reset`` does to the bots it serves."""
        self.chats.clear()
        for bot in self.bots:
            bot["updates"], bot["callback_queries"] = [], []


class Encoder:
    """Encodes snapshots as JSON text, re-encoding only what changed since the previous one.

    Messages and the event feed are nearly all of a snapshot. Events, chat actions and callback
    answers never change once recorded, and a message changes only by an edit, which bumps
    ``Message.edits``; so their JSON is cached by object identity and version, and the snapshot
    of a sandbox with thousands of messages costs a join, not an encode, in the event loop.
    """

    def __init__(self) -> None:
        self._cache: dict[int, tuple[object, int, str]] = {}
        self._used: dict[int, tuple[object, int, str]] = {}

    def encode(self, state: SandboxState, dormant: Dormant) -> list[str]:
        """The snapshot of ``state`` as pieces of JSON text to concatenate."""
        self._used = {}
        try:
            files = state.files
            head = {
                "format": FORMAT,
                "event_seq": state.event_seq,
                "users": [
                    {"id": u.id, "first_name": u.first_name, "username": u.username}
                    for u in state.users.values()
                ],
                "files": {
                    "counter": files.counter if isinstance(files, KeptFiles) else 0,
                    "items": [
                        _dump_file(f)
                        for f in (files.entries() if isinstance(files, KeptFiles) else [])
                    ],
                },
            }
            bots = [self._bot(b) for b in state.bots.values()]
            bots += [_json(raw) for raw in dormant.bots]
            chats = [self._chat(c) for c in state.chats.values()]
            chats += [_json(raw) for raw in dormant.chats]
            events = [self._cached(e, 0, _same) for e in state.events]
            return [
                _json(head)[:-1],
                ',"bots":[',
                ",".join(bots),
                '],"chats":[',
                ",".join(chats),
                '],"events":[',
                ",".join(events),
                "]}",
            ]
        finally:
            self._cache, self._used = self._used, {}  # only what is still there stays cached

    def _cached(self, item: Any, version: int, make: Callable[[Any], Any]) -> str:
        key = id(item)
        hit = self._cache.get(key)
        if hit is None or hit[0] is not item or hit[1] != version:
            hit = (item, version, _json(make(item)))  # holding ``item`` keeps its id unique
        self._used[key] = hit
        return hit[2]

    def _bot(self, bot: Bot) -> str:
        updates = [self._cached(u, 0, _same) for u in bot.updates]  # queued updates never change
        return f'{_json(_dump_bot(bot))[:-1]},"updates":[{",".join(updates)}]}}'

    def _chat(self, chat: Chat) -> str:
        header = {
            "bot_id": chat.bot_id,
            "user_id": chat.user.id,
            "chat_instance": chat.chat_instance,
            "next_message_id": chat.next_message_id,
            "started": chat.started,
            "blocked": chat.blocked,
            "last_bot_seq": chat.last_bot_seq,
        }
        actions = [self._cached(a, 0, _same) for a in chat.actions]
        answers = [self._cached(a, 0, _same) for a in chat.callback_answers]
        messages = [self._cached(m, m.edits, _dump_message) for m in chat.messages.values()]
        return (
            f'{_json(header)[:-1]},"actions":[{",".join(actions)}]'
            f',"callback_answers":[{",".join(answers)}],"messages":[{",".join(messages)}]}}'
        )


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _same(value: Any) -> Any:
    return value


def _dump_file(stored: StoredFile) -> dict[str, Any]:
    raw = {name: getattr(stored, name) for name in FILE_FIELDS}
    raw["disk_name"] = stored.disk_path.name  # relative: the state folder may move
    return raw


def _dump_bot(bot: Bot) -> dict[str, Any]:
    hook = bot.webhook
    return {
        "id": bot.id,
        "next_update_id": bot.next_update_id,
        "allowed_updates": list(bot.allowed_updates) if bot.allowed_updates else None,
        "webhook": None
        if hook is None
        else {
            "url": hook.url,
            "secret_token": hook.secret_token,
            "max_connections": hook.max_connections,
        },
        "commands": [
            {"scope": scope, "language": language, "commands": list(commands)}
            for (scope, language), commands in bot.commands.items()
        ],
        "callback_queries": [
            [query_id, chat_id, answered]
            for query_id, (chat_id, answered) in bot.callback_queries.items()
        ],
        "charges": [{"charge_id": k, **v} for k, v in bot.charges.items()],
    }


def _dump_message(message: Message) -> dict[str, Any]:
    raw = {name: getattr(message, name) for name in _MESSAGE_FIELDS}
    for name in ("photo", "document"):
        stored = raw[name]
        raw[name] = stored.file_id if isinstance(stored, StoredFile) else None
    return raw

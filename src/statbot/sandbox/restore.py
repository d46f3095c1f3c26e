"""Restoring the sandbox's state from a snapshot (the format is described in ``snapshot.py``).

The whole snapshot is parsed first and only then replaces the state, so a damaged snapshot
raises ``SnapshotError`` and leaves the state as it was.
"""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

from statbot.sandbox.files import StoredFile
from statbot.sandbox.payments import TOO_LATE
from statbot.sandbox.snapshot import FILE_FIELDS, FORMAT, Dormant, KeptFiles
from statbot.sandbox.state import Bot, Chat, Message, SandboxState, User, Webhook


class SnapshotError(ValueError):
    """A snapshot that cannot be restored (wrong shape, unknown format, dangling reference)."""


def restore(state: SandboxState, data: Any) -> Dormant:
    """Replace ``state``'s users, files, bots' queues and chats with the snapshot ``data``.

    Raises ``SnapshotError`` (and changes nothing) when ``data`` is not a restorable snapshot.
    """
    try:
        return _restore(state, data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, SnapshotError):
            raise
        raise SnapshotError(f"{type(exc).__name__}: {exc}") from exc


def _restore(state: SandboxState, data: Any) -> Dormant:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise SnapshotError(f"not a sandbox snapshot of format {FORMAT} (found {found!r})")
    users = {}
    for raw in data["users"]:
        user = User(
            id=int(raw["id"]), first_name=str(raw["first_name"]), username=str(raw["username"])
        )
        users[user.id] = user
    if not users:
        raise SnapshotError("the snapshot has no users")
    files = [_load_file(state.files.root, raw) for raw in data["files"]["items"]]
    by_file_id = {f.file_id: f for f in files}
    served = {bot.id: bot for bot in state.bots.values()}
    dormant = Dormant()
    bots: dict[str, Bot] = {}
    for raw in data["bots"]:
        bot = served.get(int(raw["id"]))
        if bot is None:
            dormant.bots.append(dict(raw))
        else:
            bots[bot.token] = _load_bot(bot, raw)
    chats: dict[tuple[int, int], Chat] = {}
    for raw in data["chats"]:
        if int(raw["bot_id"]) not in served:
            dormant.chats.append(dict(raw))
            continue
        chat = _load_chat(raw, users[int(raw["user_id"])], by_file_id)
        chats[(chat.bot_id, chat.id)] = chat
    events = [dict(e) for e in data["events"]]
    if any(not isinstance(e.get("seq"), int) for e in events):
        raise SnapshotError("an event has no seq")
    event_seq = max([int(data["event_seq"]), *(e["seq"] for e in events)])
    # Everything parsed: now replace (nothing below can fail on the snapshot's content).
    state.users = users
    if isinstance(state.files, KeptFiles):
        state.files.restore(files, int(data["files"]["counter"]))
    state.bots.update(bots)
    state.chats = chats
    state.events.clear()
    state.events.extend(events)
    state.event_seq = event_seq
    return dormant


def _load_file(root: Path, raw: dict[str, Any]) -> StoredFile:
    name = Path(str(raw["disk_name"])).name  # never a path out of the files folder
    values = {key: raw[key] for key in FILE_FIELDS if key in raw}
    for key in ("file_size", "width", "height"):
        values[key] = int(values.get(key, 0))
    return StoredFile(disk_path=root / name, **values)


def _load_bot(served: Bot, raw: dict[str, Any]) -> Bot:
    updates = [dict(u) for u in raw["updates"]]
    if any(not isinstance(u.get("update_id"), int) or len(u) < 2 for u in updates):
        raise SnapshotError("a pending update has no update_id or no content")
    hook = raw.get("webhook")
    allowed = raw.get("allowed_updates")
    next_id = max([int(raw["next_update_id"]), *(u["update_id"] + 1 for u in updates)])
    return Bot(
        token=served.token,
        id=served.id,
        first_name=served.first_name,
        username=served.username,
        updates=collections.deque(updates),
        next_update_id=next_id,
        allowed_updates=[str(a) for a in allowed] if allowed else None,
        webhook=None
        if hook is None
        else Webhook(
            url=str(hook["url"]),
            secret_token=None if hook.get("secret_token") is None else str(hook["secret_token"]),
            max_connections=int(hook.get("max_connections", 40)),
        ),
        commands={
            (str(item["scope"]), str(item["language"])): [
                {"command": str(c["command"]), "description": str(c["description"])}
                for c in item["commands"]
            ]
            for item in raw.get("commands", [])
        },
        callback_queries={
            str(query_id): (int(chat_id), bool(answered))
            for query_id, chat_id, answered in raw.get("callback_queries", [])
        },
        charges={
            str(item["charge_id"]): {k: v for k, v in item.items() if k != "charge_id"}
            for item in raw.get("charges", [])
        },
    )


def _load_chat(raw: dict[str, Any], user: User, by_file_id: dict[str, StoredFile]) -> Chat:
    chat = Chat(
        bot_id=int(raw["bot_id"]),
        user=user,
        chat_instance=str(raw["chat_instance"]),
        next_message_id=int(raw["next_message_id"]),
        started=bool(raw.get("started", True)),
        blocked=bool(raw.get("blocked", False)),
        last_bot_seq=int(raw.get("last_bot_seq", 0)),
        actions=[dict(a) for a in raw.get("actions", [])],
        callback_answers=[dict(a) for a in raw.get("callback_answers", [])],
    )
    for item in raw["messages"]:
        values = dict(item)
        for name in ("photo", "document"):
            file_id = values.get(name)
            if file_id is not None:
                if file_id not in by_file_id:
                    raise SnapshotError(f"a message refers to the unknown file {file_id!r}")
                values[name] = by_file_id[file_id]
        message = Message(**values)
        if not isinstance(message.message_id, int):
            raise SnapshotError("a message has no integer message_id")
        if message.payment_status == "pending":
            # Its checkout ended with the process that had it (no answer can arrive now).
            message.payment_status, message.payment_error = "expired", TOO_LATE
        chat.messages[message.message_id] = message
    chat.next_message_id = max([chat.next_message_id, *(m + 1 for m in chat.messages)])
    return chat

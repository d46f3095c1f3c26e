"""/broadcast through the bot's own wiring (ChatDriver): an admin composes, sees the count,
confirms; each recipient's conversation gets the message once; the admin gets the counts."""

from __future__ import annotations

from pathlib import Path

from statbot.access.broadcasts import Broadcasts
from statbot.access.models import Broadcast, User
from statbot.engine.events import ConversationKey, Event, EventKind
from statbot.engine.replies import OutboxItem
from statbot.testing import ChatDriver

ADMIN = ConversationKey("test", 1, 1)


class Recorder(ChatDriver):
    """A ChatDriver that also keeps which conversation each reply went to."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.by_key: dict[str, list[str]] = {}

    async def _deliver(self, key: str, items: list[OutboxItem]) -> list[int]:
        for item in items:
            self.by_key.setdefault(key, []).append(item.reply.text)
        return await super()._deliver(key, items)


def add_users(chat: ChatDriver, roles: dict[int, str]) -> None:
    assert chat.services.catalog is not None
    with chat.services.catalog.session() as s:
        for uid, role in roles.items():
            s.add(User(id=uid, name=f"u{uid}", role=role, first_seen=1.0, last_seen=1.0))


def finished(replies: list[object]) -> bool:
    return any("finished:" in getattr(r, "text", "") for r in replies)


async def test_an_admin_broadcasts_to_a_role_and_hears_the_counts(tmp_path: Path) -> None:
    async with Recorder(tmp_path / "var", key=ADMIN) as chat:
        add_users(chat, {1: "admin", 2: "analyst", 3: "analyst", 4: "viewer"})
        replies = await chat.send("/broadcast")
        assert "Type the message" in replies[-1].text
        replies = await chat.send("Maintenance at *noon*, back in 10 minutes.")
        labels = [o.label for o in replies[-1].options]
        assert labels == ["All users (4)", "Admins (1)", "Analysts (2)", "Viewers (1)"]
        replies = await chat.send("analysts")
        assert replies[0].text == "It goes to 2 users (analysts), and reads:"
        assert replies[1].text == "Maintenance at *noon*, back in 10 minutes."
        replies = await chat.press("Send to 2 users")
        assert "Broadcast #1 is going out to 2 users" in replies[-1].text
        await chat.wait_for(finished, 20)
        assert chat.last_text() == "Broadcast #1 finished: sent to 2, 0 blocked the bot, 0 failed."
        text = "Maintenance at *noon*, back in 10 minutes."
        assert chat.by_key["test:2:2"] == chat.by_key["test:3:3"] == [text]
        assert "test:4:4" not in chat.by_key
        assert await chat.state() == (None, None)


async def test_a_replayed_notice_or_confirm_sends_nothing_twice(tmp_path: Path) -> None:
    async with Recorder(tmp_path / "var", key=ADMIN) as chat:
        add_users(chat, {1: "admin", 2: "viewer"})
        await chat.send("/broadcast hello all")
        await chat.send("all")
        await chat.press("Send")
        await chat.wait_for(finished, 20)
        # The same notice submitted again (a crash before the catalog knew it was queued):
        # the engine drops it by its id, and the catalog would refuse to send it anyway.
        notice = Event(
            key=ConversationKey("test", 2, 2),
            kind=EventKind.NOTICE,
            event_id="b1:2",
            text="hello all",
            meta={"broadcast": 1},
        )
        await chat.manager.submit(notice)
        await chat.manager.drain()
        assert chat.by_key["test:2:2"] == ["hello all"]
        assert chat.services.catalog is not None
        catalog = chat.services.catalog
        # The confirming event replayed finds its broadcast: still one.
        b = Broadcasts(catalog)
        key = next(iter(b.active()), None)
        assert key is None
        with catalog.session() as s:
            rows = s.query(Broadcast).all()
            assert len(rows) == 1 and rows[0].state == "done"
            again = b.create(
                key=str(rows[0].key), created_by=1, reply_to=str(ADMIN), audience="all", text="x"
            )
        assert again.id == 1


async def test_only_admins_may_broadcast(tmp_path: Path) -> None:
    async with Recorder(tmp_path / "var", key=ADMIN) as chat:
        add_users(chat, {1: "analyst", 2: "viewer"})
        replies = await chat.send("/broadcast hi")
        # The role gate (access/gate.py) refuses it before the workflow runs.
        assert [r.text for r in replies] == ["/broadcast needs the admin role; you are an analyst."]
        assert await chat.state() == (None, None)
        assert chat.services.catalog is not None
        with chat.services.catalog.session() as s:
            assert s.query(Broadcast).count() == 0


async def test_cancel_at_the_confirmation_sends_nothing(tmp_path: Path) -> None:
    async with Recorder(tmp_path / "var", key=ADMIN) as chat:
        add_users(chat, {1: "owner", 2: "viewer"})
        await chat.send("/broadcast hi")
        await chat.press("All users")
        replies = await chat.press("Cancel")
        assert replies[-1].text == "Not sent."
        assert chat.services.catalog is not None
        with chat.services.catalog.session() as s:
            assert s.query(Broadcast).count() == 0
        assert list(chat.by_key) == ["test:1:1"]

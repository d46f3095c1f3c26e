"""Events: what happened in a conversation. Frozen, JSON-serialisable."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, slots=True, order=True)
class ConversationKey:
    """Identifies one conversation: a user in a chat on a channel."""

    channel: str
    chat_id: int
    user_id: int

    def __str__(self) -> str:
        return f"{self.channel}:{self.chat_id}:{self.user_id}"

    @classmethod
    def parse(cls, text: str) -> ConversationKey:
        channel, chat, user = text.rsplit(":", 2)
        return cls(channel, int(chat), int(user))


class EventKind(StrEnum):
    COMMAND = "command"  # text = command name without "/", args = the rest
    TEXT = "text"
    CHOICE = "choice"  # choice = option id, token = the callback token shown with it
    UPLOAD = "upload"
    JOB_PROGRESS = "job_progress"
    JOB_FINISHED = "job_finished"
    TIMER = "timer"
    # A message the bot starts on its own (a broadcast, a broadcast's final counts): ``text`` is
    # sent as it is and ``meta`` rides on the reply; the conversation's state does not move.
    NOTICE = "notice"
    # Telegram Stars payments (issue 12); ``payment`` carries the details. They are answered
    # outside the conversation's steps: a user may pay an old invoice in the middle of /train.
    PRE_CHECKOUT = "pre_checkout"  # the user pressed Pay: the bot must answer within 10 s
    PAYMENT = "payment"  # a successful payment: the Stars are the bot's
    REFUND = "refund"  # a payment was refunded (``refunded_payment``)
    REFUND_RESULT = "refund_result"  # how our refund call ended; ``text``: Telegram's error


PAYMENT_KINDS = frozenset(
    {EventKind.PRE_CHECKOUT, EventKind.PAYMENT, EventKind.REFUND, EventKind.REFUND_RESULT}
)


@dataclass(frozen=True, slots=True)
class Upload:
    """A file the user sent. ``path`` is set once the channel has staged it locally."""

    file_name: str
    size: int
    file_id: str = ""
    mime_type: str | None = None
    path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "file_name": self.file_name,
            "size": self.size,
            "file_id": self.file_id,
            "mime_type": self.mime_type,
            "path": self.path,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Upload:
        return cls(
            file_name=str(data["file_name"]),
            size=int(data["size"]),
            file_id=str(data.get("file_id", "")),
            mime_type=data.get("mime_type"),
            path=data.get("path"),
        )


@dataclass(frozen=True, slots=True)
class Payment:
    """A payment as the channel reports it, in the currency's smallest unit (Stars: whole).

    ``query_id`` is set for a pre-checkout (what the answer names), ``charge_id`` (Telegram's
    ``telegram_payment_charge_id``, the payment's identity) for a successful or refunded one.
    """

    currency: str
    total_amount: int
    payload: str
    query_id: str = ""
    charge_id: str = ""
    provider_charge_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "total_amount": self.total_amount,
            "payload": self.payload,
            "query_id": self.query_id,
            "charge_id": self.charge_id,
            "provider_charge_id": self.provider_charge_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Payment:
        return cls(
            currency=str(data["currency"]),
            total_amount=int(data["total_amount"]),
            payload=str(data["payload"]),
            query_id=str(data.get("query_id", "")),
            charge_id=str(data.get("charge_id", "")),
            provider_charge_id=str(data.get("provider_charge_id", "")),
        )


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened, addressed to one conversation.

    ``event_id`` is the dedupe identity: ``u<update_id>`` for channel updates (the channel sets
    ``update_id``), ``j<job_id>:<seq>`` for job events, ``t<timer_id>`` for timers.

    ``name``, ``username`` and ``language`` describe the sender when the channel knows them (a
    Telegram update does): the access room keeps them on the user's row (issue 12). They are
    stored only when set, and an inbox entry written before they existed reads back without.
    """

    key: ConversationKey
    kind: EventKind
    event_id: str
    update_id: int | None = None
    text: str = ""
    args: str = ""
    choice: str = ""
    token: str = ""
    upload: Upload | None = None
    job: dict[str, Any] | None = None
    meta: dict[str, Any] | None = None  # a NOTICE's reply meta
    payment: Payment | None = None
    at: float = field(default_factory=time.time)
    name: str = ""
    username: str = ""
    language: str = ""

    @classmethod
    def from_update(
        cls, key: ConversationKey, update_id: int, kind: EventKind, **fields: Any
    ) -> Event:
        return cls(key=key, kind=kind, event_id=f"u{update_id}", update_id=update_id, **fields)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "key": str(self.key),
            "kind": self.kind.value,
            "event_id": self.event_id,
            "update_id": self.update_id,
            "text": self.text,
            "args": self.args,
            "choice": self.choice,
            "token": self.token,
            "upload": self.upload.to_dict() if self.upload else None,
            "job": self.job,
            "meta": self.meta,
            "payment": self.payment.to_dict() if self.payment else None,
            "at": self.at,
        }
        for name in ("name", "username", "language"):
            if getattr(self, name):
                data[name] = getattr(self, name)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        upload = data.get("upload")
        payment = data.get("payment")
        return cls(
            key=ConversationKey.parse(data["key"]),
            kind=EventKind(data["kind"]),
            event_id=str(data["event_id"]),
            update_id=data.get("update_id"),
            text=data.get("text", ""),
            args=data.get("args", ""),
            choice=data.get("choice", ""),
            token=data.get("token", ""),
            upload=Upload.from_dict(upload) if upload else None,
            job=data.get("job"),
            meta=data.get("meta"),
            payment=Payment.from_dict(payment) if payment else None,
            at=float(data.get("at", 0.0)),
            name=str(data.get("name", "")),
            username=str(data.get("username", "")),
            language=str(data.get("language", "")),
        )

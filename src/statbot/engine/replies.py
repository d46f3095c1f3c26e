"""Replies: what the bot says. Channel-neutral and JSON-serialisable (they live in the outbox).

Text uses a tiny neutral markup: ``*bold*``, `` `code` `` and nothing else; channels render it
(HTML for Telegram, plain for the console). Workflows never format for Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# The option id a channel sends when the user presses Done in a multi-select menu.
DONE_OPTION = "__done__"


class ReplyKind(StrEnum):
    TEXT = "text"
    CHOICES = "choices"
    IMAGE = "image"
    DOCUMENT = "document"
    PROGRESS = "progress"
    # Telegram Stars (issue 12). Not messages the user reads as text: the channel sends an
    # invoice (a Pay button), answers a pre-checkout query, or asks for a refund.
    INVOICE = "invoice"
    CHECKOUT = "checkout"
    REFUND = "refund"


STARS = "XTR"  # Telegram Stars: the only currency of digital goods sold in a bot


@dataclass(frozen=True, slots=True)
class Option:
    """One button. ``id`` is what comes back in a CHOICE event; ``label`` is shown."""

    id: str
    label: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One message from the bot.

    - TEXT: ``text``.
    - CHOICES: ``text`` is the prompt, ``options`` the buttons; ``multi`` for toggles with a Done
      button, ``selected`` the ids currently ticked; ``page_size`` for pagination.
      ``token`` binds the buttons to the session version that offered them (stale detection).
    - IMAGE / DOCUMENT: ``path`` to a file under the data dir, ``file_name``, ``text`` as caption.
    - PROGRESS: ``progress_id`` names the message that is edited in place, ``fraction`` 0..1,
      ``text`` the current step.
    - INVOICE: ``text`` the description; ``meta`` title, payload (ours, comes back with the
      payment), currency and amount.
    - CHECKOUT: the answer to a pre-checkout query; ``meta`` query_id, ok, error (shown to the
      user when not ok).
    - REFUND: give a payment back; ``meta`` user_id and charge_id.
    """

    kind: ReplyKind
    text: str = ""
    options: tuple[Option, ...] = ()
    multi: bool = False
    selected: tuple[str, ...] = ()
    page_size: int = 8
    token: str = ""
    path: str | None = None
    file_name: str | None = None
    progress_id: str | None = None
    fraction: float | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    # Constructors read better in workflows than the raw dataclass.
    @classmethod
    def say(cls, text: str) -> Reply:
        return cls(ReplyKind.TEXT, text=text)

    @classmethod
    def ask(
        cls,
        text: str,
        options: list[Option] | tuple[Option, ...],
        *,
        multi: bool = False,
        selected: tuple[str, ...] = (),
        page_size: int = 8,
    ) -> Reply:
        return cls(
            ReplyKind.CHOICES,
            text=text,
            options=tuple(options),
            multi=multi,
            selected=tuple(selected),
            page_size=page_size,
        )

    @classmethod
    def image(cls, path: str, caption: str = "", file_name: str | None = None) -> Reply:
        return cls(ReplyKind.IMAGE, text=caption, path=path, file_name=file_name)

    @classmethod
    def document(cls, path: str, file_name: str, caption: str = "") -> Reply:
        return cls(ReplyKind.DOCUMENT, text=caption, path=path, file_name=file_name)

    @classmethod
    def progress(
        cls, progress_id: str, fraction: float, text: str, *, final: bool = False
    ) -> Reply:
        """``final``: the job ended here (failed, cancelled) short of 100%; always shown."""
        return cls(
            ReplyKind.PROGRESS,
            text=text,
            progress_id=progress_id,
            fraction=max(0.0, min(1.0, fraction)),
            meta={"final": True} if final else {},
        )

    @classmethod
    def invoice(cls, title: str, description: str, payload: str, stars: int) -> Reply:
        """An invoice of ``stars`` Telegram Stars; ``payload`` identifies the offer."""
        meta = {"title": title, "payload": payload, "currency": STARS, "amount": int(stars)}
        return cls(ReplyKind.INVOICE, text=description, meta=meta)

    @classmethod
    def checkout(cls, query_id: str, *, ok: bool, error: str = "") -> Reply:
        """Answer a pre-checkout query: go ahead, or refuse with ``error`` (for the user)."""
        return cls(ReplyKind.CHECKOUT, meta={"query_id": query_id, "ok": ok, "error": error})

    @classmethod
    def refund(cls, user_id: int, charge_id: str) -> Reply:
        """Give the payment ``charge_id`` of ``user_id`` back."""
        return cls(ReplyKind.REFUND, meta={"user_id": int(user_id), "charge_id": charge_id})

    @property
    def final(self) -> bool:
        """A progress bar's last state (done, failed or cancelled): never skipped."""
        return (self.fraction or 0.0) >= 1.0 or bool(self.meta.get("final"))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind.value}
        if self.text:
            data["text"] = self.text
        if self.options:
            data["options"] = [[o.id, o.label] for o in self.options]
            data["multi"] = self.multi
            data["selected"] = list(self.selected)
            data["page_size"] = self.page_size
        if self.token:
            data["token"] = self.token
        for name in ("path", "file_name", "progress_id", "fraction"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        if self.meta:
            data["meta"] = self.meta
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Reply:
        return cls(
            kind=ReplyKind(data["kind"]),
            text=data.get("text", ""),
            options=tuple(Option(str(i), str(label)) for i, label in data.get("options", [])),
            multi=bool(data.get("multi", False)),
            selected=tuple(data.get("selected", ())),
            page_size=int(data.get("page_size", 8)),
            token=data.get("token", ""),
            path=data.get("path"),
            file_name=data.get("file_name"),
            progress_id=data.get("progress_id"),
            fraction=data.get("fraction"),
            meta=dict(data.get("meta", {})),
        )


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A reply waiting to be delivered. ``seq`` orders a conversation's replies."""

    key: str
    seq: int
    event_id: str
    reply: Reply
    delivered: bool = False

"""Logging, set up once. Secrets registered here never reach a log line.

Two formats (``STATBOT_LOG_FORMAT``): ``text``, one human line per record, and ``json``, one JSON
object per line (``time``, ``level``, ``logger``, ``message``, and ``exception`` when there is
one) for log shippers. Both go through the same :class:`RedactingFilter` before formatting.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Literal, TextIO

LogFormat = Literal["text", "json"]

_BOT_PATH = re.compile(r"(/bot|/file/bot)\d+:[A-Za-z0-9_-]+")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactingFilter(logging.Filter):
    """Replaces registered secrets and anything shaped like a bot token URL with ``***``."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if s)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return _BOT_PATH.sub(r"\1***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if record.exc_info and record.exc_text is None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        if redacted != message or record.args:
            record.msg = redacted
            record.args = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line. Uses the record's ``exc_text`` as the filter left it (redacted);
    ``ensure_ascii`` keeps every line writable to a stderr whose encoding is ASCII."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, str] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry)


def make_formatter(fmt: LogFormat = "text") -> logging.Formatter:
    if fmt == "json":
        return JsonFormatter()
    if fmt == "text":
        return logging.Formatter(TEXT_FORMAT)
    raise ValueError(f"unknown log format {fmt!r}: 'text' or 'json'")


def setup_logging(
    level: str = "INFO",
    secrets: tuple[str, ...] = (),
    fmt: LogFormat = "text",
    *,
    stream: TextIO | None = None,
) -> None:
    """Configure the root logger once: one handler with redaction, in ``fmt``, on ``stream``
    (default: stderr as it is now)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_statbot", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler._statbot = True  # type: ignore[attr-defined]
    handler.setFormatter(make_formatter(fmt))
    handler.addFilter(RedactingFilter(secrets))
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs full request URLs (with the token) at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)

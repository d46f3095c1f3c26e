"""Logging, set up once. Secrets registered here never reach a log line."""

from __future__ import annotations

import logging
import re
import sys

_BOT_PATH = re.compile(r"(/bot|/file/bot)\d+:[A-Za-z0-9_-]+")


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
        if redacted != message or record.args:
            record.msg = redacted
            record.args = None
        return True


def setup_logging(level: str = "INFO", secrets: tuple[str, ...] = ()) -> None:
    """Configure the root logger once: one stderr handler with redaction."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_statbot", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._statbot = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs full request URLs (with the token) at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)

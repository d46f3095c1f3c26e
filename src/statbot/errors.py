"""The root of statbot's exception tree.

    StatbotError
    ├── ConfigError            invalid settings (names the setting)
    ├── SessionError           engine/session problems (see statbot.engine.errors)
    ├── DataError              bad or oversized user data (see statbot.analysis.errors)
    ├── ModelError             model files, cards, prediction schema
    ├── JobError               job runner failures
    ├── ChannelError           transport problems (Telegram, sandbox, console)
    └── AccessError            the catalog database, roles, quotas, payments (statbot.access)

Every error has ``user_message``: a sentence written for the person in the chat,
distinct from ``str(exc)`` which is written for the log.
"""

from __future__ import annotations


class StatbotError(Exception):
    """Root of all statbot errors."""

    def __init__(self, message: str, *, user_message: str | None = None) -> None:
        super().__init__(message)
        self.user_message = user_message or message


class ConfigError(StatbotError):
    """A setting is missing or invalid; ``setting`` names it."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(f"{setting}: {message}")
        self.setting = setting


class SessionError(StatbotError):
    """Base for engine and session-store errors."""


class DataError(StatbotError):
    """User data could not be read or violates a limit."""


class ModelError(StatbotError):
    """A model file, card or prediction input is unusable."""


class JobError(StatbotError):
    """A background job failed or could not be scheduled."""


class ChannelError(StatbotError):
    """A transport (Telegram, sandbox, console) failed."""


class AccessError(StatbotError):
    """The catalog (users, roles, quotas, ledger) is unusable or refuses an action."""

"""Engine errors.

SessionError (statbot.errors)
├── StaleVersionError     a commit's expected version is not the stored one
├── WorkflowDefinitionError  a workflow is malformed (raised when it is defined)
├── TransitionError       a handler asked for a transition its state does not allow
├── QuarantinedSessionError  a stored session cannot be resumed (unknown workflow/state)
├── DamagedSessionError   a stored session record cannot be read (damaged, or a newer version)
├── RetryLater            a handler's own store is down: leave the event in the inbox, retry it
├── LeaseLostError        this process no longer holds the conversation's lease (another took it)
└── KeyBusyError          another process holds the conversation's lease: an operation waits
"""

from __future__ import annotations

from statbot.errors import SessionError


class StaleVersionError(SessionError):
    """Raised by a store when ``expected_version`` does not match the stored version."""

    def __init__(self, key: str, expected: int, actual: int) -> None:
        super().__init__(f"stale commit for {key}: expected version {expected}, stored {actual}")
        self.key = key
        self.expected = expected
        self.actual = actual


class WorkflowDefinitionError(SessionError):
    """A workflow definition is invalid; raised at definition time."""


class TransitionError(SessionError):
    """A handler requested a transition that its state does not declare."""


class QuarantinedSessionError(SessionError):
    """The stored session refers to a workflow or state that no longer exists."""


class DamagedSessionError(SessionError):
    """A stored session record that cannot be read: damaged JSON, missing fields, or written by
    a newer statbot (its ``schema_version`` is above this one's). ``body`` is kept so that the
    engine can quarantine it for the operator; ``version`` is the stored version to fence on."""

    def __init__(self, key: str, version: int, body: str, reason: str) -> None:
        super().__init__(f"session {key} cannot be read: {reason}")
        self.key = key
        self.version = version
        self.body = body
        self.reason = reason


class RetryLater(SessionError):
    """Raised by a handler whose event must not be consumed while a store it writes is
    unreachable (a payment credited to the ledger: issue 12). The engine does not answer or
    commit; the event stays in the inbox and is retried with backoff, and on the next start."""


class LeaseLostError(SessionError):
    """A fenced commit (or a lease step) found the key's lease held by someone else: this
    process paused or stalled past the lease's time to live and another replica took the
    conversation over. Nothing was written; the new holder applies what is pending."""

    def __init__(self, key: str) -> None:
        super().__init__(f"the lease of {key} was lost; another process owns it now")
        self.key = key


class KeyBusyError(SessionError):
    """Another process holds the conversation's lease, so an operation on it (an expiry step,
    a redelivery) was not run here: the holder's turn covers it."""

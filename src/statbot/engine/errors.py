"""Engine errors.

SessionError (statbot.errors)
├── StaleVersionError     a commit's expected version is not the stored one
├── WorkflowDefinitionError  a workflow is malformed (raised when it is defined)
├── TransitionError       a handler asked for a transition its state does not allow
├── QuarantinedSessionError  a stored session cannot be resumed (unknown workflow/state)
└── DatasetTooLargeError  a dataset exceeds ``max_dataframe_size_mb``
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


class DatasetTooLargeError(SessionError):
    """A file to attach to a session is larger than ``max_dataframe_size_mb``."""

    def __init__(self, path: str, size_bytes: int, limit_mb: float) -> None:
        size_mb = size_bytes / (1024 * 1024)
        super().__init__(
            f"{path}: {size_mb:.1f} MB exceeds the {limit_mb:g} MB limit",
            user_message=(
                f"That dataset is {size_mb:.1f} MB, more than the {limit_mb:g} MB I can work "
                "with. Please send a smaller file (fewer rows or columns)."
            ),
        )
        self.path = path
        self.size_bytes = size_bytes
        self.limit_mb = limit_mb

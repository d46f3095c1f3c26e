"""The knowledge base's one error: an entry file breaks the format of issue 13.

``problems`` lists every broken rule of every file at once, so the person writing entries sees
all of them in one run instead of one per run.
"""

from __future__ import annotations

from statbot.errors import StatbotError


class KbError(StatbotError):
    """Entry files that break the format; ``problems`` are ``"<file>: <rule>"`` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            "knowledge base entries are invalid:\n" + "\n".join(problems),
            user_message="The knowledge base is not available right now.",
        )
        self.problems = list(problems)

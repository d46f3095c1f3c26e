"""The console channel: drive any workflow from a terminal (``statbot chat``)."""

from __future__ import annotations

from statbot.channels.console.channel import ConsoleChannel, console_key, stdin_lines
from statbot.channels.console.parse import parse_line
from statbot.channels.console.render import ConsoleRenderer, choice_lines, plain

__all__ = [
    "ConsoleChannel",
    "ConsoleRenderer",
    "choice_lines",
    "console_key",
    "parse_line",
    "plain",
    "stdin_lines",
]

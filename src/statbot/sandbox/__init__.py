"""The sandbox: a local Telegram Bot API emulator with a web chat page and a control API.

An unchanged bot (python-telegram-bot, aiogram, or any HTTP client) talks to it as to
``https://api.telegram.org``; people chat through the page; tests act as users through
``SandboxClient``. Start one in-process with ``run_sandbox()`` or from the shell with
``statbot sandbox``.
"""

from statbot.sandbox.client import (
    ChatView,
    SandboxClient,
    SandboxError,
    SandboxTimeout,
    SentMessage,
)
from statbot.sandbox.server import RunningSandbox, build_app, run_sandbox
from statbot.sandbox.state import DEFAULT_TOKEN, SandboxConfig, SandboxState

__all__ = [
    "DEFAULT_TOKEN",
    "ChatView",
    "RunningSandbox",
    "SandboxClient",
    "SandboxConfig",
    "SandboxError",
    "SandboxState",
    "SandboxTimeout",
    "SentMessage",
    "build_app",
    "run_sandbox",
]

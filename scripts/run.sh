#!/usr/bin/env bash
# `make run`: start statbot the way this machine is configured (settings from the environment,
# .env or statbot.toml — the same sources statbot itself reads).
#
#   token configured  → the Telegram bot (polling; webhook if STATBOT_WEBHOOK_URL is set).
#   no token          → the sandbox: a local Telegram stand-in with a web chat page, and the real
#                       bot talking to it; open the printed http://127.0.0.1:PORT in a browser.
#                       (`.venv/bin/statbot chat` talks to the bot in the terminal instead.)
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/statbot run

#!/usr/bin/env bash
# `make run`: start statbot the way this machine is configured (settings from the environment,
# .env or statbot.toml — the same sources statbot itself reads).
#
#   token configured  → the Telegram bot: `statbot run` (polling; webhook if STATBOT_WEBHOOK_URL).
#   no token          → talk to statbot in this terminal: `statbot chat` (same engine, workflows
#                       and session store; Ctrl-D or /quit leaves, and the conversation continues
#                       on the next start).
set -euo pipefail
cd "$(dirname "$0")/.."
STATBOT=.venv/bin/statbot

mode="$(.venv/bin/python - <<'PY'
import sys
from statbot.config import load_settings
from statbot.errors import ConfigError
try:
    print(load_settings().mode)
except ConfigError as exc:
    sys.exit(f"statbot: invalid setting {exc}")
PY
)"

case "$mode" in
  polling | webhook)
    exec "$STATBOT" run
    ;;
  sandbox)
    # No token: the console channel.
    exec "$STATBOT" chat
    ;;
  *)
    echo "run.sh: unknown mode '$mode'" >&2
    exit 2
    ;;
esac

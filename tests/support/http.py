"""Plain-HTTP helpers for tests that talk to a server in another process (no event loop)."""

from __future__ import annotations

import json
import urllib.request
from typing import Any


def post_json(url: str, payload: dict[str, object], timeout: float = 20) -> dict[str, Any]:
    """POST ``payload`` as JSON; the decoded JSON answer."""
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body: dict[str, Any] = json.load(response)
        return body

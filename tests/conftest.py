"""Suite-wide test settings. Backend fixtures live next to the tests that use them."""

from __future__ import annotations

import os

# Charts render off-screen; no display in CI.
os.environ.setdefault("MPLBACKEND", "Agg")

"""The package's public surface, and that the emulator stays light (no bot client, no pandas)."""

from __future__ import annotations

import subprocess
import sys
import types

import statbot.sandbox as sandbox


def test_all_names_exist_and_are_public() -> None:
    assert len(set(sandbox.__all__)) == len(sandbox.__all__)
    # __all__ is exactly what the package imports for its users: nothing missing, nothing stale.
    exported = {
        name
        for name, value in vars(sandbox).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(sandbox.__all__) == exported


def test_importing_the_sandbox_loads_no_bot_client_or_data_stack() -> None:
    code = (
        "import sys\n"
        "import statbot.sandbox, statbot.sandbox.server\n"
        "heavy = ('telegram', 'aiogram', 'pandas', 'sklearn', 'matplotlib', 'PIL')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""

"""Server-side data paths (``STATBOT_LOCAL_PATH_ROOTS``), checked before anything is opened.

The path is resolved with symlinks followed *before* the containment check, so neither ``..``
nor a symlink can lead outside the allowed folders. Only regular files are accepted (no devices,
FIFOs, sockets or directories), within the size limit. With no roots configured the feature is
off, and the user is told so.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

from statbot.errors import DataError


def looks_like_path(text: str) -> bool:
    t = text.strip()
    return t.startswith(("/", "~/", "./", "../")) or (os.sep in t and " " not in t.strip())


class PathRefused(DataError):
    """A server path was refused; ``user_message`` says why in words."""


def resolve_server_path(text: str, roots: Sequence[Path], max_bytes: int) -> Path:
    raw = text.strip().strip("'\"")
    if not roots:
        raise PathRefused(
            "server paths disabled",
            user_message="Loading files from the server is turned off on this bot "
            "(the operator has not configured STATBOT_LOCAL_PATH_ROOTS). Please upload the file.",
        )
    if "\x00" in raw:
        raise PathRefused("NUL in path", user_message="That is not a valid file path.")
    resolved_roots = [Path(r).resolve() for r in roots]
    not_found = PathRefused(
        f"no such file {raw!r}", user_message=f"I cannot find '{raw}' on the server."
    )
    try:
        candidate = Path(raw).expanduser()  # RuntimeError for "~nosuchuser/..."
        if not candidate.is_absolute():
            candidate = resolved_roots[0] / candidate
        # Containment first, on the path as far as it resolves: whether a file exists outside
        # the roots is none of the user's business ("cannot find" vs "outside" would tell).
        if not _inside(candidate.resolve(strict=False), resolved_roots):
            allowed = ", ".join(str(r) for r in resolved_roots)
            raise PathRefused(
                f"outside roots: {candidate}",
                user_message=f"'{raw}' is outside the folders I may read ({allowed}).",
            )
        real = candidate.resolve(strict=True)
    except PermissionError:  # inside the allowed folders, so saying why is no leak
        raise PathRefused(
            f"permission denied: {raw!r}",
            user_message=f"Permission denied: statbot may not open '{raw}' (a folder on the way "
            "is not readable for it). Ask the server's operator to make it readable.",
        ) from None
    except (OSError, RuntimeError):
        raise not_found from None
    if not _inside(real, resolved_roots):  # the file was swapped for a link in between
        raise not_found
    info = real.stat()
    if stat.S_ISDIR(info.st_mode):
        raise PathRefused(
            "directory", user_message=f"'{raw}' is a folder; send the path of a file in it."
        )
    if not stat.S_ISREG(info.st_mode):
        raise PathRefused(
            "not a regular file",
            user_message=f"'{raw}' is not a regular file (a device, pipe or socket); I only "
            "read ordinary data files.",
        )
    if info.st_size > max_bytes:
        raise PathRefused(
            "too large",
            user_message=f"'{raw}' is {info.st_size / 2**20:.1f} MB; the limit is "
            f"{max_bytes / 2**20:.0f} MB.",
        )
    return real


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)

"""How a workflow gets the bytes of an upload, whatever the channel.

The console stages the file itself (``Upload.path`` is set); Telegram only knows a ``file_id``
until the workflow asks for the file, so the download happens inside the conversation (and a
too-large file is answered there, in words) rather than in the ingress, which must stay fast.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path
from typing import Protocol

from statbot.engine.events import Upload

MAX_NAME_BYTES = 120
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def safe_file_name(name: str, default: str = "upload") -> str:
    """The last part of an untrusted file name, safe to create inside a staging folder.

    Directory parts (``/`` or ``\\``) are dropped, control characters (NUL, newlines) replaced,
    ``.``/``..``/empty become ``default``, and a name too long for the file system is shortened
    keeping its extension (the loader reads the format from it).
    """
    base = _CONTROL.sub("_", re.split(r"[/\\]", name)[-1]).strip()
    if base in ("", ".", ".."):
        return default
    if len(base.encode()) <= MAX_NAME_BYTES:
        return base
    stem, dot, ext = base.rpartition(".")
    suffix = f".{ext}" if dot and stem and len(ext.encode()) <= 16 else ""
    keep = (stem if suffix else base).encode()[: MAX_NAME_BYTES - len(suffix.encode())]
    return keep.decode(errors="ignore").rstrip() + suffix or default


class FileSource(Protocol):
    async def fetch(self, upload: Upload, dest_dir: Path) -> Path:
        """Put the upload's bytes under ``dest_dir`` and return the file's path."""
        ...


class LocalFiles:
    """For channels whose uploads are already files on this machine (console, tests)."""

    async def fetch(self, upload: Upload, dest_dir: Path) -> Path:
        if not upload.path:
            raise FileNotFoundError(f"upload {upload.file_name!r} has no local path")
        return await asyncio.to_thread(_copy, Path(upload.path), dest_dir, upload.file_name)


def _copy(source: Path, dest_dir: Path, file_name: str) -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = dest_dir / safe_file_name(file_name)
    shutil.copyfile(source, target)
    return target

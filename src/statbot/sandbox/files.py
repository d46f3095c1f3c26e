"""Uploaded files: bytes on disk in a temp dir, ids shaped like Telegram's."""

from __future__ import annotations

import asyncio
import mimetypes
import re
import secrets
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    disk_path: Path
    file_size: int
    file_name: str
    mime_type: str
    file_path: str  # what getFile returns, relative to /file/bot<token>/
    width: int = 0
    height: int = 0

    def read(self) -> bytes:
        return self.disk_path.read_bytes()

    def as_document(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.file_name,
            "mime_type": self.mime_type,
            "file_size": self.file_size,
        }

    def as_photo(self) -> list[dict[str, Any]]:
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_size": self.file_size,
                "width": self.width,
                "height": self.height,
            }
        ]

    def as_file(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.file_size,
            "file_path": self.file_path,
        }


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF, JPEG or WebP image from its header; None if not an image."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP" and len(data) >= 30:
        if data[12:16] == b"VP8X":
            width = int.from_bytes(data[24:27], "little") + 1
            height = int.from_bytes(data[27:30], "little") + 1
            return width, height
        if data[12:16] == b"VP8 ":
            width, height = struct.unpack("<HH", data[26:30])
            return int(width) & 0x3FFF, int(height) & 0x3FFF
        if data[12:16] == b"VP8L":
            bits = int.from_bytes(data[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(width), int(height)
        i += 2 + length
    return None


class FileStore:
    """Keeps every file sent by a bot or a user; ``file_id`` and ``file_unique_id`` index it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._by_id: dict[str, StoredFile] = {}
        self._by_unique: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._counter = 0

    async def put(
        self, data: bytes, file_name: str, mime_type: str | None, kind: str
    ) -> StoredFile:
        """Store bytes; ``kind`` is "photos" or "documents" (the folder in ``file_path``)."""
        self._counter += 1
        safe = _SAFE_NAME.sub("_", Path(file_name).name) or "file"
        suffix = Path(safe).suffix or (".jpg" if kind == "photos" else "")
        disk = self.root / f"{self._counter:06d}_{safe}"
        await asyncio.to_thread(disk.write_bytes, data)  # up to 50 MB: off the event loop
        guessed = mime_type or mimetypes.guess_type(safe)[0] or "application/octet-stream"
        size = image_size(data) if kind == "photos" else None
        stored = StoredFile(
            file_id=("AgAC" if kind == "photos" else "BQAC") + secrets.token_urlsafe(30),
            file_unique_id="AQAD" + secrets.token_urlsafe(9),
            disk_path=disk,
            file_size=len(data),
            file_name=safe,
            mime_type=guessed,
            file_path=f"{kind}/file_{self._counter}{suffix}",
            width=size[0] if size else 0,
            height=size[1] if size else 0,
        )
        self._by_id[stored.file_id] = stored
        self._by_unique[stored.file_unique_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        """By ``file_id`` (what a bot may send again); never by ``file_unique_id``."""
        return self._by_id.get(file_id)

    def by_unique_id(self, file_unique_id: str) -> StoredFile | None:
        return self._by_unique.get(file_unique_id)

    def by_path(self, file_path: str) -> StoredFile | None:
        return self._by_path.get(file_path)

    def clear(self) -> None:
        for stored in self._by_id.values():
            stored.disk_path.unlink(missing_ok=True)
        self._by_id.clear()
        self._by_unique.clear()
        self._by_path.clear()

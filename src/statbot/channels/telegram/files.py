"""Downloads uploads from Telegram into the staging area, inside the conversation.

Telegram's cloud Bot API serves downloads up to 20 MB; a larger file gets a message that suggests
the server-path option instead of a failure. The limit is a setting, since a local Bot API server
lifts it.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from telegram import Bot, File
from telegram.error import BadRequest, TelegramError

from statbot.engine.events import Upload
from statbot.engine.files import safe_file_name
from statbot.errors import ChannelError


def too_big_message(size_mb: float, limit_mb: float) -> str:
    return (
        f"This file is {size_mb:.1f} MB, but bots can only download files up to "
        f"{limit_mb:g} MB from Telegram. Put the file in a server folder the operator "
        "allows and send me its path instead."
    )


class FileTooBigError(ChannelError):
    def __init__(self, size_mb: float, limit_mb: float) -> None:
        message = too_big_message(size_mb, limit_mb)
        super().__init__(message, user_message=message)
        self.size_mb = size_mb
        self.limit_mb = limit_mb


class TelegramFiles:
    """A :class:`statbot.engine.files.FileSource` for Telegram uploads."""

    def __init__(self, bot: Bot, *, max_download_mb: float = 20.0) -> None:
        self.bot = bot
        self.max_download_mb = max_download_mb

    async def fetch(self, upload: Upload, dest_dir: Path) -> Path:
        size_mb = upload.size / (1024 * 1024)
        if size_mb > self.max_download_mb:
            raise FileTooBigError(size_mb, self.max_download_mb)
        try:
            file = await self.bot.get_file(upload.file_id)
        except BadRequest as exc:
            if "too big" in str(exc).lower():
                raise FileTooBigError(size_mb, self.max_download_mb) from exc
            raise ChannelError(
                f"getFile failed: {exc}",
                user_message="I could not fetch that file from Telegram; please send it again.",
            ) from exc
        except TelegramError as exc:
            raise ChannelError(
                f"getFile failed: {exc}",
                user_message="Telegram did not hand me the file just now; please send it again.",
            ) from exc
        target = dest_dir / safe_file_name(upload.file_name)
        try:
            await _download(file, target)
        except RuntimeError as exc:  # PTB: getFile gave no file_path
            raise ChannelError(
                f"download failed: {exc}",
                user_message="Telegram did not hand me the file just now; please send it again.",
            ) from exc
        except TelegramError as exc:
            raise ChannelError(
                f"download failed: {exc}",
                user_message="The download from Telegram failed; please send the file again.",
            ) from exc
        return target


async def _download(file: File, target: Path) -> None:
    """The bytes come over the network on the event loop; every disk operation runs in a thread.

    ``File.download_to_drive`` writes (and, for a local Bot API server's absolute ``file_path``,
    copies a file of up to GBs) on the event loop, which would stall every conversation.
    """
    await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
    local = Path(file.file_path) if file.file_path else None
    if local is not None and local.is_absolute() and await asyncio.to_thread(local.is_file):
        await asyncio.to_thread(shutil.copyfile, local, target)
        return
    data = await file.download_as_bytearray()
    await asyncio.to_thread(target.write_bytes, data)

"""Signal handling in one place: SIGTERM and SIGINT ask the app to stop gracefully."""

from __future__ import annotations

import asyncio
import logging
import signal

log = logging.getLogger(__name__)


def install_stop_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()

    def _request(sig: signal.Signals) -> None:
        if stop.is_set():
            log.warning("%s again: already stopping", sig.name)
            return
        log.info("%s received: stopping gracefully", sig.name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, _request, sig)


def remove_stop_signals() -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.remove_signal_handler(sig)

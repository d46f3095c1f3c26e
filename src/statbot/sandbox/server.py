"""The sandbox process: Bot API + control API + web chat page on one aiohttp server."""

from __future__ import annotations

import contextlib
import logging
import socket
import tempfile
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from aiohttp import web

from statbot.sandbox.botapi import BotApi
from statbot.sandbox.client import SandboxClient
from statbot.sandbox.control import Control
from statbot.sandbox.params import ApiError
from statbot.sandbox.pay_control import PaymentControl
from statbot.sandbox.persist import Persister
from statbot.sandbox.state import DEFAULT_TOKEN, SandboxConfig, SandboxState

log = logging.getLogger(__name__)

_STATIC = resources.files("statbot.sandbox") / "static"


def _static(name: str, content_type: str) -> web.RouteDef:
    async def serve(request: web.Request) -> web.Response:
        body = (_STATIC / name).read_bytes()
        return web.Response(
            body=body, content_type=content_type, headers={"Cache-Control": "no-cache"}
        )

    return web.get("/" if name == "index.html" else f"/static/{name}", serve)


def build_app(state: SandboxState) -> web.Application:
    """The aiohttp application; ``state`` holds bots (add them before serving), users, chats."""
    api = BotApi(state)
    control = Control(state)
    # Room for a 50 MB upload plus multipart overhead; bigger bodies get Telegram's 413.
    app = web.Application(
        client_max_size=state.config.max_upload_bytes + 1024 * 1024,
        middlewares=[control.errors],
    )
    app.add_routes(api.routes())
    app.add_routes(control.routes())
    app.add_routes(PaymentControl(control).routes())
    app.add_routes(
        [
            _static("index.html", "text/html"),
            _static("app.css", "text/css"),
            _static("app.js", "application/javascript"),
        ]
    )

    async def resume_webhooks(_app: web.Application) -> None:
        # A webhook restored from a snapshot has no delivery task yet: set it again, keeping
        # the pending updates, as Telegram keeps delivering to it across our restarts.
        for bot in state.bots.values():
            hook, bot.webhook = bot.webhook, None
            if hook is not None:
                values = {"url": hook.url, "max_connections": hook.max_connections}
                if hook.secret_token is not None:
                    values["secret_token"] = hook.secret_token
                try:
                    await api.execute(bot, "setWebhook", values)
                except ApiError as exc:
                    log.warning("the restored webhook of bot %d is refused: %s", bot.id, exc)

    async def close_webhooks(_app: web.Application) -> None:
        hooks = [(bot, bot.webhook) for bot in state.bots.values()]
        await api.webhooks.close()  # stops delivery, which also unsets the webhooks
        for bot, hook in hooks:
            bot.webhook = hook  # still set, as far as the bot knows: the final snapshot keeps it

    app.on_startup.append(resume_webhooks)
    app.on_cleanup.append(close_webhooks)
    return app


@dataclass
class RunningSandbox:
    """A started sandbox: where to point a bot and a browser, and a client to drive it."""

    host: str
    port: int
    state: SandboxState
    client: SandboxClient

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """Use as STATBOT_TELEGRAM_API_URL: the bot calls ``{api_url}/bot<token>/<method>``."""
        return self.base_url

    @property
    def page_url(self) -> str:
        return self.base_url + "/"


@contextlib.asynccontextmanager
async def run_sandbox(
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | Iterable[str] = DEFAULT_TOKEN,
    config: SandboxConfig | None = None,
    files_dir: Path | None = None,
    *,
    state_dir: Path | None = None,
) -> AsyncIterator[RunningSandbox]:
    """Serve the sandbox until the block exits. ``port=0`` picks a free port.

    With ``state_dir`` the sandbox continues from the state saved there and keeps saving it
    (``persist.py``): chats, files, update ids and the page's history survive a restart.
    Without it everything lives in memory and files in a temporary folder (or ``files_dir``).
    """
    tokens = [token] if isinstance(token, str) else list(token)
    with contextlib.ExitStack() as stack:
        persister: Persister | None = None
        if state_dir is not None:
            if files_dir is not None:
                raise ValueError("give files_dir or state_dir, not both")
            persister = Persister.open(state_dir, tokens, config)
            state = persister.state
        else:
            if files_dir is None:
                temp = stack.enter_context(tempfile.TemporaryDirectory(prefix="sandbox-"))
                files_dir = Path(temp)
            state = SandboxState(files_dir, config)
            for item in tokens:
                state.add_bot(item)
        # Long polls (getUpdates, /_sandbox/wait) may still be open at exit; do not wait them out.
        runner = web.AppRunner(build_app(state), access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            site = web.SockSite(runner, sock)
            await site.start()
            bound_port = int(sock.getsockname()[1])
            running = RunningSandbox(
                host, bound_port, state, SandboxClient(f"http://{host}:{bound_port}")
            )
            log.info("sandbox serving on http://%s:%d/", host, bound_port)
            if persister is not None:
                persister.remember_port(bound_port)
                persister.start()
            try:
                yield running
            finally:
                await running.client.close()
        finally:
            try:
                await runner.cleanup()
            finally:
                if persister is not None:
                    await persister.close()  # after the server stopped: nothing changes any more

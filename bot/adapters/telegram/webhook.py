"""Webhook mode: a small aiohttp server that accepts updates only with the secret token.

Hand-written instead of python-telegram-bot's tornado webhook server for two reasons: PTB
runs a webhook without any secret when none is configured (then anyone who finds the port
can post updates: press anyone's buttons, speak as an anonymous admin), and it compares the
secret with `!=`. Here a webhook never runs without a secret: TELEGRAM_WEBHOOK_SECRET, or a
strong one generated at start and given to Telegram with `setWebhook`; the
`X-Telegram-Bot-Api-Secret-Token` header is compared in constant time
(`hmac.compare_digest`), and a request without the right one is answered 403 and never
reaches a handler. aiohttp is already the bot's Bot API transport, so nothing new is pulled in.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.settings import Settings

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
PATH = "/telegram"
MAX_UPDATE_BYTES = 1024 * 1024  # an update is a few KiB; refuse anything absurd unread


def webhook_secret(settings: Settings) -> str:
    """The configured secret, or a fresh one: 43 characters of A-Z a-z 0-9 _ - (256 bits)."""
    configured = settings.telegram_webhook_secret
    if configured is not None and configured.get_secret_value():
        return configured.get_secret_value()
    log.info("TELEGRAM_WEBHOOK_SECRET is not set: generated a secret for this run")
    return secrets.token_urlsafe(32)


class WebhookServer:
    """Receives Telegram's POSTs on PATH and feeds them to the application's update queue."""

    def __init__(
        self,
        application: Application,  # type: ignore[type-arg]
        secret: str,
        allowed_updates: list[str],
    ) -> None:
        self.application = application
        self._allowed_updates = allowed_updates
        self._secret = secret.encode()
        self._runner: web.AppRunner | None = None

    async def start(self, listen: str, port: int, url: str) -> None:
        app = web.Application(client_max_size=MAX_UPDATE_BYTES)
        app.router.add_post(PATH, self.handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, listen, port).start()
        # Telegram learns the secret only here, and then sends it with every update.
        await self.application.bot.set_webhook(
            url, secret_token=self._secret.decode(), allowed_updates=self._allowed_updates
        )

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, self._secret):
            log.warning("refused a webhook request without the right secret token")
            return web.Response(status=403, text="forbidden")
        try:
            data = await request.json()
            if not isinstance(data, dict):
                raise TypeError("an update is a JSON object")
            update = Update.de_json(data, self.application.bot)
        except (ValueError, TypeError, KeyError, AttributeError, json.JSONDecodeError):
            return web.Response(status=400, text="not an update")
        await self.application.update_queue.put(update)
        return web.Response(text="ok")

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

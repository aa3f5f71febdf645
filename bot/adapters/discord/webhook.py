"""Edit or follow up an interaction response from its stored token, in any bot process.

The interaction object itself is gone after a restart; the application id and token kept
in the generation's handle are all Discord needs. This goes through the same webhook
adapter discord.py uses for `Interaction.edit_original_response`, so a test backend that
replaces that adapter sees these calls too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiohttp
import discord
from discord.http import handle_message_parameters
from discord.webhook.async_ import async_context

from bot.adapters.discord.render import NO_MENTIONS


def client_session(client: discord.Client) -> aiohttp.ClientSession:
    # discord.py keeps the session private; Webhook.partial(client=...) reads it the same way.
    session: aiohttp.ClientSession = client.http._HTTPClient__session  # type: ignore[attr-defined]
    return session


class InteractionLink:
    def __init__(self, client: discord.Client, application_id: int, token: str) -> None:
        self.client = client
        self.application_id = application_id
        self.token = token

    async def edit_original(
        self,
        *,
        content: str | None = None,
        embed: discord.Embed | None = None,
        attachments: Sequence[discord.File] | None = None,
        view: discord.ui.View | None = None,
        clear_view: bool = False,
    ) -> str | None:
        """Edit the original response; the id of the message it is (None if not said)."""
        kwargs: dict[str, Any] = {"content": content, "allowed_mentions": NO_MENTIONS}
        if embed is not None:
            kwargs["embeds"] = [embed]
        if attachments is not None:
            # The full list replaces the message's files: editing twice leaves one image.
            kwargs["attachments"] = list(attachments)
        if view is not None or clear_view:
            kwargs["view"] = view
        http = self.client.http
        with handle_message_parameters(**kwargs) as params:
            message = await async_context.get().edit_original_interaction_response(
                self.application_id,
                self.token,
                session=client_session(self.client),
                proxy=http.proxy,
                proxy_auth=http.proxy_auth,
                payload=params.payload,
                multipart=params.multipart,
                files=params.files,
            )
        found = message.get("id") if isinstance(message, dict) else None
        return str(found) if found else None

    async def edit_text(self, text: str) -> None:
        """A status edit: the acknowledgement's text only."""
        await self.edit_original(content=text)

    async def original_filenames(self) -> list[str]:
        """The names of the files the original response shows now."""
        http = self.client.http
        message = await async_context.get().get_original_interaction_response(
            self.application_id,
            self.token,
            session=client_session(self.client),
            proxy=http.proxy,
            proxy_auth=http.proxy_auth,
        )
        return [str(a.get("filename")) for a in message.get("attachments") or []]

    async def delete_original(self) -> None:
        http = self.client.http
        await async_context.get().delete_original_interaction_response(
            self.application_id,
            self.token,
            session=client_session(self.client),
            proxy=http.proxy,
            proxy_auth=http.proxy_auth,
        )

    def _followup(self) -> discord.Webhook:
        # Type 3 (application) is what `Interaction.followup` builds; only it may be ephemeral.
        data = {"id": self.application_id, "type": 3, "token": self.token}
        return discord.Webhook.from_state(data=data, state=self.client._connection)  # type: ignore[arg-type]

    async def send_ephemeral(self, content: str) -> None:
        await self._followup().send(content, ephemeral=True, allowed_mentions=NO_MENTIONS)

"""Signed gallery links (what `/gallery` posts and `imaginebot gallery link` prints) and
brush-editor links (what the 🖌 button opens)."""

from __future__ import annotations

from bot.web import editor_links, grants
from bot.web.editor_links import EditorLink
from bot.web.signing import Signer


class GalleryLinks:
    def __init__(self, signer: Signer, public_url: str, hours: float) -> None:
        self._signer = signer
        self.public_url = public_url.rstrip("/")
        self.hours = hours

    def make(
        self,
        platform: str,
        scope_id: str,
        *,
        user_id: str | None,
        admin: bool,
        hours: float | None = None,
        generation: int = 0,
    ) -> str:
        """A link that opens `scope_id`'s gallery for `user_id` (admin: can hide pictures),
        while the scope's link generation is still `generation`."""
        grant = grants.make_grant(
            platform,
            scope_id,
            user_id=user_id,
            admin=admin,
            hours=hours or self.hours,
            generation=generation,
        )
        token = grants.encode(self._signer, grant, grants.LINK)
        return f"{self.public_url}{grant.path}enter?t={token}"


class EditorLinks:
    """Editor links for the chat adapters: made for one picture and one person, valid
    EDITOR_LINK_HOURS, each working once (bot/web/editor_links.py)."""

    def __init__(
        self, signer: Signer, public_url: str, hours: float, webapp_name: str | None = None
    ) -> None:
        self._signer = signer
        self.public_url = public_url.rstrip("/")
        self.hours = hours
        self.webapp_name = webapp_name

    def make(
        self,
        platform: str,
        scope_id: str,
        generation_id: str,
        *,
        user_id: str,
        admin: bool = False,
        route: str | None = None,
        channel_limit: int | None = None,
        webapp: bool = False,
    ) -> EditorLink:
        return editor_links.make_link(
            platform,
            scope_id,
            generation_id,
            user_id=user_id,
            admin=admin,
            minutes=self.hours * 60,
            route=route,
            channel_limit=channel_limit,
            webapp=webapp,
        )

    def url(self, link: EditorLink) -> str:
        return f"{self.public_url}{link.path}?t={editor_links.encode(self._signer, link)}"

    def start_app_url(self, bot_username: str, link: EditorLink) -> str | None:
        """`https://t.me/<bot>/<app>?startapp=<link>` when the operator registered the Mini
        App (TELEGRAM_WEBAPP_NAME); None otherwise, or when the link is too long for it."""
        if self.webapp_name is None or not link.webapp:
            return None
        try:
            param = editor_links.as_start_param(editor_links.encode(self._signer, link))
        except ValueError:
            return None
        return f"https://t.me/{bot_username}/{self.webapp_name}?startapp={param}"

"""Signed gallery links: what `/gallery` posts and `imaginebot gallery link` prints."""

from __future__ import annotations

from bot.web import grants
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

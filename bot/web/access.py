"""What the chat adapters need of the gallery: a link for a chat, and the admins' on/off switch.

The adapters see only the `GalleryAccess` Protocol (no store, no web server): `/gallery`
asks for a link, `/settings gallery` and Telegram's `/gallery off` flip the switch.
"""

from __future__ import annotations

from typing import Protocol

from bot.web.links import GalleryLinks
from bot.web.queries import GalleryStore


class GalleryAccess(Protocol):
    hours: float

    async def link(
        self, platform: str, scope_id: str, *, user_id: str | None, admin: bool
    ) -> str | None:
        """A signed link to the scope's gallery, or None while its admins have it switched off."""
        ...

    async def enabled(self, platform: str, scope_id: str) -> bool: ...

    async def set_enabled(self, platform: str, scope_id: str, enabled: bool) -> None: ...

    async def revoke(self, platform: str, scope_id: str) -> None:
        """Close every link and session given out so far (a leaked admin link among them)."""
        ...


class StoreGalleryAccess:
    def __init__(self, links: GalleryLinks, store: GalleryStore) -> None:
        self._links = links
        self._store = store
        self.hours = links.hours

    async def link(
        self, platform: str, scope_id: str, *, user_id: str | None, admin: bool
    ) -> str | None:
        generation = await self._store.gallery_generation(platform, scope_id)
        if generation is None:
            return None
        return self._links.make(
            platform, scope_id, user_id=user_id, admin=admin, generation=generation
        )

    async def enabled(self, platform: str, scope_id: str) -> bool:
        return await self._store.gallery_enabled(platform, scope_id)

    async def set_enabled(self, platform: str, scope_id: str, enabled: bool) -> None:
        await self._store.set_gallery_enabled(platform, scope_id, enabled)

    async def revoke(self, platform: str, scope_id: str) -> None:
        await self._store.revoke_gallery(platform, scope_id)

"""History and privacy: the rows a user may see or act on, deletion, and /forget-me."""

from __future__ import annotations

import asyncio
import logging

from bot.core.errors import NotFound, PermissionDenied
from bot.core.images.files import ImageFiles
from bot.core.language import Text
from bot.core.models import Generation, Requester, Scope, StoredImage
from bot.core.requests.access import Need, check_access
from bot.core.requests.preferences import Preferences
from bot.core.store import Refusal, Store

log = logging.getLogger(__name__)


class History:
    def __init__(self, store: Store, files: ImageFiles, preferences: Preferences) -> None:
        self._store = store
        self._files = files
        self._preferences = preferences

    async def generation(self, generation_id: str) -> Generation:
        generation = await self._store.get(generation_id)
        if generation is None:
            raise NotFound(Text("That request is no longer in the history."))
        return await self._store.with_images(generation)

    async def generation_for(
        self,
        generation_id: str,
        actor: Requester,
        scope: Scope,
        need: Need = Need.SCOPE,
        *,
        moderator: bool = False,
    ) -> Generation:
        """The generation a button names, if `actor` pressing it in `scope` may use it:
        raises NotFound, or WrongScope / NotOwner (both PermissionDenied) otherwise."""
        generation = await self.generation(generation_id)
        check_access(generation, actor, scope, need, moderator=moderator)
        return generation

    async def picture(self, generation: Generation, index: int) -> tuple[bytes, StoredImage]:
        """Image `index` (1-based) of a generation a follow-up or an edit starts from: its
        bytes and its row; NotFound, in plain words, when it or its file is gone."""
        image = generation.image(index)
        if image is None:
            raise NotFound(Text("That picture has no image {index}.", index=index))
        try:
            data = await asyncio.to_thread(self._files.read, image.path)
        except FileNotFoundError:
            raise NotFound(Text("That picture's file is no longer stored.")) from None
        return data, image

    async def history(
        self, requester: Requester, limit: int = 10, *, scope: Scope | None = None
    ) -> list[Generation]:
        """The requester's newest rows; with `scope`, only the ones made there."""
        return await self._store.history(
            requester.platform, requester.user_id, limit, scope_id=scope.id if scope else None
        )

    async def deletable(
        self,
        generation_id: str,
        requester: Requester,
        scope: Scope,
        *,
        moderator: bool = False,
    ) -> Generation:
        """The row, if the requester (or a moderator of the row's own scope) may delete it.
        Adapters check this, remove the platform message, then `erase` the row: a row is
        never gone while its picture still shows."""
        try:
            return await self.generation_for(
                generation_id, requester, scope, Need.OWNER_OR_MODERATOR, moderator=moderator
            )
        except PermissionDenied as exc:
            if exc.code == "not_owner":
                raise PermissionDenied(
                    Text("Only the person who asked for this picture can delete it."),
                    code=exc.code,
                ) from None
            raise

    async def erase(self, generation: Generation) -> None:
        """Delete a row and its files (after `deletable`)."""
        await self._store.delete(generation.id)
        self._files.remove(generation.image_path)

    async def delete_generation(
        self,
        generation_id: str,
        requester: Requester,
        scope: Scope,
        *,
        moderator: bool = False,
    ) -> Generation:
        """The requester, or a moderator of the row's own scope, deletes a row and its file."""
        generation = await self.deletable(generation_id, requester, scope, moderator=moderator)
        await self.erase(generation)
        return generation

    async def forget_user(self, requester: Requester) -> int:
        """Delete the user's history rows, image files (each image, grid, input picture and
        an edit's mask: removing one of a request's files removes them all) and personal
        settings."""
        paths = await self._store.forget_user(requester.platform, requester.user_id)
        for path in paths:
            self._files.remove(path)
        await self._preferences.forget_user(requester)
        log.info("forgot user %s:%s (%d images)", requester.platform, requester.user_id, len(paths))
        return len(paths)

    async def recent_refusals(self, scope: Scope, limit: int = 10) -> list[Refusal]:
        """What was refused in this scope lately, for its admins."""
        return await self._store.recent_refusals(scope.platform, scope.id, limit)

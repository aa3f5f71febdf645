"""Community styles: a scope's own styles beside the built-in catalogue.

Admins create, edit, hide, delete, export and import them (the adapters and the CLI check that
the caller is an admin before calling here; `Scope` names whose styles they are). Every text
goes through the checks a prompt goes through (clean text, the operator's banned terms, the
moderation check) and every reference picture through those of an input picture (decoded,
metadata stripped, moderated), then is stored like one (`<random>-input.<ext>`, a name the
bot made). A scope's catalogue (built-in plus its visible styles) is cached per process and
dropped everywhere when any process changes a style (a version number in Redis, as the
settings caches do), so autocomplete reads memory.

A style used by code (`#k3f9`) from another scope is that scope's style, unless private; a
request's row names an own style by its id and another scope's by its code.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Mapping, Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.core.errors import (
    BadStyleText,
    ContentRefused,
    NotFound,
    UnknownStyle,
    UserFacingError,
)
from bot.core.images.files import ImageFiles
from bot.core.language import Number, Plural, Text, UserText
from bot.core.limits.safety import BannedTerms, Moderator
from bot.core.models import Requester, Scope, Style
from bot.core.requests.input_images import InputImages
from bot.core.requests.style_recipes import (
    CODE,
    MAX_DESCRIPTION_CHARS,
    MAX_NAME_CHARS,
    MAX_REFERENCES,
    StyleDraft,
    code_of,
    digest,
    export_text,
    parse_export,
    picture_hash,
    slug,
)
from bot.core.requests.styles import StyleCatalogue
from bot.core.store import Store
from bot.core.text import clean_text
from bot.settings import Settings

log = logging.getLogger(__name__)

EMOJI = "🎨"
# A change made where no shared Redis tells this process (the CLI beside a bot on the embedded
# queue) shows within this long.
CACHE_SECONDS = 30.0
DRAFT_FIELDS = frozenset(StyleDraft.model_fields)


def style_of(row: Mapping[str, Any], *, by_code: bool = False) -> Style:
    """A stored row as a Style; `by_code`: used from another scope, so named by its code."""
    return Style(
        id=row["code"] if by_code else row["style_id"],
        name=row["name"],
        emoji=EMOJI,
        description=row["description"],
        template=row["template"],
        negative=row["negative"],
        code=row["code"],
        aspect=row["aspect"],
        count=row["count"],
        provider=row["provider"],
        style_references=tuple(row["refs"]),
        preview_path=row["preview_path"],
        hidden=row["hidden"],
        private=row["private"],
    )


def draft_of(style: Style) -> StyleDraft:
    return StyleDraft(
        name=style.name,
        description=style.description,
        template=style.template,
        negative=style.negative,
        aspect=style.aspect,
        count=style.count,
        provider=style.provider,
        hidden=style.hidden,
        private=style.private,
    )


class CommunityStyles:
    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        builtins: StyleCatalogue,
        files: ImageFiles,
        inputs: InputImages,
        banned: BannedTerms,
        moderator: Moderator | None,
        redis: Redis | None = None,
        version_key: str = "imaginebot:styles-version",
    ) -> None:
        self._settings = settings
        self._store = store
        self.builtins = builtins
        self._files = files
        self._inputs = inputs
        self._banned = banned
        self._moderator = moderator
        self._redis = redis
        self._version_key = version_key
        self._version: bytes | None = None
        self._catalogues: dict[tuple[str, str], tuple[float, StyleCatalogue]] = {}

    # -- reading ----------------------------------------------------------------------------------

    async def _fresh(self) -> bool:
        if self._redis is None:
            return True
        try:
            version = await self._redis.get(self._version_key) or b"0"
        except (RedisError, OSError):
            self._catalogues.clear()
            return False
        if version != self._version:
            self._catalogues.clear()
            self._version = version
        return True

    async def changed(self, scope: Scope) -> None:
        """Drop the scope's cached catalogue here and, through Redis, in every process."""
        self._catalogues.pop((scope.platform, scope.id), None)
        if self._redis is None:
            return
        self._catalogues.clear()
        try:
            await self._redis.incr(self._version_key)
        except (RedisError, OSError) as exc:
            log.warning("style change not announced to other bot processes (%s)", exc)

    async def changed_everywhere(self) -> None:
        """Styles changed behind the caches (a chat's records moved): forget every scope's."""
        self._catalogues.clear()
        if self._redis is not None:
            try:
                await self._redis.incr(self._version_key)
            except (RedisError, OSError) as exc:
                log.warning("style change not announced to other bot processes (%s)", exc)

    async def catalogue(self, scope: Scope) -> StyleCatalogue:
        """The built-in styles and the scope's visible community styles, in that order."""
        key = (scope.platform, scope.id)
        cached = self._catalogues.get(key) if await self._fresh() else None
        now = time.monotonic()
        if cached is None or now - cached[0] > CACHE_SECONDS:
            rows = await self._store.community_styles(scope.platform, scope.id)
            own = [style_of(r) for r in rows if not r["hidden"]]
            cached = (now, StyleCatalogue([*self.builtins, *own]) if own else self.builtins)
            self._catalogues[key] = cached
        return cached[1]

    async def styles_of(self, scope: Scope) -> list[Style]:
        """The scope's own styles, hidden ones too (what its admins manage)."""
        rows = await self._store.community_styles(scope.platform, scope.id)
        return [style_of(r) for r in rows]

    async def find(self, scope: Scope, text: str) -> Style | None:
        """A style by id or name in the scope's catalogue, or by code (`#k3f9`) anywhere."""
        key = text.strip().lower()
        if key.startswith("#"):
            if not CODE.match(key):
                return None
            row = await self._store.community_style_by_code(key, scope.platform, scope.id)
            if row is None:
                return None
            own = (row["platform"], row["scope_id"]) == (scope.platform, scope.id)
            return style_of(row, by_code=not own)
        return (await self.catalogue(scope)).find(text)

    async def get(self, scope: Scope, text: str) -> Style:
        style = await self.find(scope, text)
        if style is not None:
            return style
        if text.strip().startswith("#"):
            shown = "".join(c for c in text.strip() if c.isprintable())[:16]
            raise UnknownStyle(
                Text(
                    "No style has the code “{code}”, or its owners made it private.",
                    code=UserText(shown),
                ),
                [],
            )
        return (await self.catalogue(scope)).get(text)  # raises with suggestions

    async def _own_row(self, scope: Scope, text: str) -> dict[str, Any]:
        key = slug(text) if not text.strip().startswith("#") else ""
        for row in await self._store.community_styles(scope.platform, scope.id):
            if key in (row["style_id"], slug(row["name"])) or text.strip().lower() == row["code"]:
                return row
        shown = UserText("".join(c for c in text.strip() if c.isprintable())[:40])
        raise NotFound(Text("This chat has no style of its own called “{name}”.", name=shown))

    # -- checking ---------------------------------------------------------------------------------

    def _check_words(self, draft: StyleDraft) -> StyleDraft:
        name = clean_text(draft.name)
        description = clean_text(draft.description)
        template, negative = clean_text(draft.template), clean_text(draft.negative)
        limit = self._settings.max_prompt_chars
        if not name or len(name) > MAX_NAME_CHARS or not slug(name):
            raise BadStyleText(
                Text(
                    "A style's name is 1 to {most} characters with a letter or digit.",
                    most=Number(MAX_NAME_CHARS),
                )
            )
        if slug(name) in self.builtins or self.builtins.find(name) is not None:
            raise BadStyleText(
                Text("“{name}” is a built-in style; choose another name.", name=UserText(name))
            )
        if len(description) > MAX_DESCRIPTION_CHARS:
            raise BadStyleText(
                Text(
                    "A description is at most {most} characters.",
                    most=Number(MAX_DESCRIPTION_CHARS),
                )
            )
        if "{prompt}" not in template:
            raise BadStyleText(
                Text(
                    "The recipe needs {placeholder} where the member's words go.",
                    placeholder="{prompt}",
                )
            )
        if len(template) > limit or len(negative) > limit:
            raise BadStyleText(
                Text(
                    "The recipe and the negative prompt are at most {most} characters.",
                    most=Number(limit),
                )
            )
        if draft.provider is not None and draft.provider not in self._settings.providers:
            configured = ", ".join(self._settings.providers)
            raise BadStyleText(
                Text("The preferred provider must be one of: {providers}.", providers=configured)
            )
        return draft.model_copy(
            update={
                "name": name,
                "description": description,
                "template": template,
                "negative": negative,
            }
        )

    async def _check_content(self, draft: StyleDraft) -> None:
        texts = [draft.name, draft.description, draft.template, draft.negative]
        if self._banned.matches(*texts):
            raise ContentRefused(Text("This style uses words that are not allowed on this bot."))
        if self._moderator is not None and await self._moderator.flagged(" ".join(texts)):
            raise ContentRefused(
                Text("The content check flagged this style's words, so it was not saved.")
            )

    async def _clean_pictures(self, pictures: Sequence[bytes]) -> list[bytes]:
        if len(pictures) > MAX_REFERENCES:
            raise BadStyleText(
                Plural(
                    "A style takes at most {count} reference picture.",
                    "A style takes at most {count} reference pictures.",
                    MAX_REFERENCES,
                )
            )
        cleaned = []
        for number, data in enumerate(pictures, start=1):
            async with self._inputs.slot():
                picture = (await self._inputs.clean(data)).data
                if await self._inputs.flagged(picture):
                    raise ContentRefused(
                        Text(
                            "The content check flagged reference picture {number}, "
                            "so the style was not saved.",
                            number=number,
                        )
                    )
            cleaned.append(picture)
        return cleaned

    async def _code(self, full_digest: str) -> str:
        """Four characters, or more when a different definition holds the shorter code."""
        for length in range(4, 13):
            code = code_of(full_digest, length)
            if await self._store.code_digests(code) <= {full_digest}:
                return code
        raise UserFacingError(Text("No free style code was found; change the style slightly."))

    # -- changing ---------------------------------------------------------------------------------

    async def create(
        self,
        scope: Scope,
        requester: Requester,
        draft: StyleDraft,
        pictures: Sequence[bytes] = (),
    ) -> Style:
        """A new style of the scope; refused in plain words when a text or picture fails a
        check or the name is taken."""
        draft = self._check_words(draft)
        await self._check_content(draft)
        style_id = slug(draft.name)
        taken = await self._store.community_style(scope.platform, scope.id, style_id)
        if taken is not None:
            raise BadStyleText(
                Text(
                    "This chat already has a style called “{name}”.",
                    name=UserText(str(taken["name"])),
                )
            )
        cleaned = await self._clean_pictures(pictures)
        refs = await asyncio.to_thread(self._store_pictures, cleaned)
        hashes = [picture_hash(p) for p in cleaned]
        now = time.time()
        return await self._save(
            scope,
            draft,
            hashes,
            refs,
            {
                # Someone of another platform (the operator at the CLI) is not kept by id.
                "created_by": requester.user_id if requester.platform == scope.platform else None,
                "created_by_name": clean_text(requester.display_name)[:64] or None,
                "created_at": now,
            },
        )

    async def _save(
        self,
        scope: Scope,
        draft: StyleDraft,
        hashes: Sequence[str],
        refs: Sequence[str],
        extra: Mapping[str, Any],
    ) -> Style:
        full = digest(draft, hashes)
        code = await self._code(full)
        values = {
            **extra,
            "platform": scope.platform,
            "scope_id": scope.id,
            "style_id": slug(draft.name),
            **draft.model_dump(),
            "refs": tuple(refs),
            "code": code,
            "digest": full,
            "updated_at": time.time(),
        }
        values.setdefault("preview_path", None)
        try:
            await self._store.save_community_style(values)
        except BaseException:
            for path in refs if "old_style_id" not in extra else ():
                self._files.remove(path)
            raise
        await self.changed(scope)
        saved = await self._store.community_style(scope.platform, scope.id, values["style_id"])
        assert saved is not None  # written just now, in this process
        log.info(
            "scope %s:%s: style %s saved as %s", scope.platform, scope.id, saved["style_id"], code
        )
        return style_of(saved)

    def _store_pictures(self, pictures: Sequence[bytes]) -> list[str]:
        return [str(self._files.write(secrets.token_hex(8), p, part="input")[0]) for p in pictures]

    async def edit(
        self,
        scope: Scope,
        text: str,
        changes: Mapping[str, Any],
        pictures: Sequence[bytes] | None = None,
    ) -> Style:
        """Change some of a style's fields (`changes`, by StyleDraft's names); `pictures`
        replaces the reference pictures (None keeps them; empty removes them)."""
        unknown = set(changes) - DRAFT_FIELDS
        if unknown:
            raise BadStyleText(
                Text(
                    "A style has no field {fields}.",
                    fields=UserText(", ".join(sorted(unknown))),
                )
            )
        row = await self._own_row(scope, text)
        try:
            draft = StyleDraft(**{**draft_of(style_of(row)).model_dump(), **changes})
        except ValueError:
            raise BadStyleText(Text("One of the changes is not valid for a style.")) from None
        draft = self._check_words(draft)
        await self._check_content(draft)
        new_id = slug(draft.name)
        if new_id != row["style_id"] and await self._store.community_style(
            scope.platform, scope.id, new_id
        ):
            raise BadStyleText(
                Text(
                    "This chat already has a style called “{name}”.",
                    name=UserText(draft.name),
                )
            )
        old_refs: tuple[str, ...] = row["refs"]
        if pictures is None:
            refs = list(old_refs)
            data = await asyncio.to_thread(lambda: [self._files.read(p) for p in old_refs])
        else:
            data = await self._clean_pictures(pictures)
            refs = await asyncio.to_thread(self._store_pictures, data)
        kept = {k: row[k] for k in ("created_by", "created_by_name", "created_at")}
        hashes = [picture_hash(p) for p in data]
        # The preview shows the look: kept while the look is the same, dropped when it changed.
        same_look = digest(draft, hashes) == row["digest"]
        preview = row["preview_path"] if same_look else None
        extra = {**kept, "old_style_id": row["style_id"], "preview_path": preview}
        style = await self._save(scope, draft, hashes, refs, extra)
        stale = None if same_look else row["preview_path"]
        for path in (*(old_refs if pictures is not None else ()), stale):
            self._files.remove(path)
        return style

    async def delete(self, scope: Scope, text: str) -> Style:
        row = await self._own_row(scope, text)
        await self._store.delete_community_style(scope.platform, scope.id, row["style_id"])
        for path in (*row["refs"], row["preview_path"]):
            self._files.remove(path)
        await self.changed(scope)
        return style_of(row)

    # -- travelling -------------------------------------------------------------------------------

    async def export(self, scope: Scope, text: str) -> str:
        """The style as small YAML text: a scope's own, or any style this scope can use by code."""
        if text.strip().startswith("#"):
            style = await self.get(scope, text)
        else:
            style = style_of(await self._own_row(scope, text))
        return export_text(draft_of(style), style.code or "", len(style.style_references))

    async def import_text(
        self, scope: Scope, requester: Requester, text: str, name: str | None = None
    ) -> Style:
        """A style from exported text (or a code, `#k3f9`, of a style this scope may use),
        as a new style of this scope; `name` renames it."""
        if CODE.match(text.strip().lower()):
            source = await self.get(scope, text)
            draft = draft_of(source).model_copy(update={"hidden": False, "private": False})
            pictures = await asyncio.to_thread(
                lambda: [self._files.read(p) for p in source.style_references]
            )
        else:
            draft, pictures = parse_export(text), []
        if name is not None:
            draft = draft.model_copy(update={"name": name})
        return await self.create(scope, requester, draft, pictures)

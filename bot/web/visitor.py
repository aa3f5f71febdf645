"""The visitor's language: which locale a gallery or editor page is written in.

The page follows the person who opens it, not the chat the link came from: a gallery link is
read by everyone a group shares it with, and an editor link may be opened by an admin rather
than the requester, so neither carries a locale (the links stay as short as they were). In
order:

1. the language the visitor picked with the page's language links (`?lang=de`), kept in a
   `lang` cookie (SameSite=Lax, a year) so it sticks on every page of every gallery;
2. the browser's `Accept-Language`, best quality first, each tag read by the same
   `locale_from_tag` as a platform's language tag, so the web and the chats agree (`pt-PT` is
   read in Brazilian Portuguese, `zh-TW` in English rather than Simplified Chinese);
3. English.

A `lang` value (query or cookie) is only ever one of our locale names: anything else is
ignored, so neither the cookie nor the address can put text into the page.
"""

from __future__ import annotations

import re
from typing import Final
from urllib.parse import urlencode

from aiohttp import web

from bot.core.language import ENGLISH, LANGUAGES, PSEUDO, locale_from_tag
from bot.core.requests.languages import own_name

COOKIE: Final = "lang"
QUERY: Final = "lang"
COOKIE_SECONDS: Final = 365 * 24 * 3600
LOCALE_KEY: Final = web.RequestKey("locale", str)
MAX_HEADER: Final = 1024  # a longer Accept-Language is read up to here
MAX_TAGS: Final = 32
# The pseudo-locale may be asked for by name (the tests' end-to-end runs), never offered.
NAMED: Final = frozenset({*LANGUAGES, PSEUDO})
_QUALITY = re.compile(r"q\s*=\s*([01](?:\.\d{0,3})?)\s*$", re.IGNORECASE)


def from_accept_language(header: object) -> str | None:
    """The first of our locales the header asks for (best quality first, the header's order
    among equals), or None. Total: any value gives a locale or None."""
    if not isinstance(header, str):
        return None
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(header[:MAX_HEADER].split(",")[:MAX_TAGS]):
        tag, _, params = item.partition(";")
        quality = 1.0
        if params:
            found = _QUALITY.search(params)
            quality = float(found.group(1)) if found else 0.0
        if quality > 0:
            ranked.append((-quality, position, tag.strip()))
    for _, _, tag in sorted(ranked):
        locale = locale_from_tag(tag)
        if locale is not None:
            return locale
    return None


def named(value: object) -> str | None:
    """`value` when it is one of our locale names exactly (a `lang` query or cookie)."""
    return value if isinstance(value, str) and value in NAMED else None


def locale_of(request: web.Request) -> str:
    """The visitor's locale (the order is in the module docstring), worked out once."""
    if LOCALE_KEY in request:
        return request[LOCALE_KEY]
    locale = (
        named(request.query.get(QUERY))
        or named(request.cookies.get(COOKIE))
        or from_accept_language(request.headers.get("Accept-Language"))
        or ENGLISH
    )
    request[LOCALE_KEY] = locale
    return locale


def remember(request: web.Request, response: web.StreamResponse, *, secure: bool) -> None:
    """Keep a language picked with a link (`?lang=`) for the visitor's next pages."""
    picked = named(request.query.get(QUERY))
    if picked is not None and picked != request.cookies.get(COOKIE):
        response.set_cookie(
            COOKIE,
            picked,
            path="/",
            max_age=COOKIE_SECONDS,
            httponly=True,
            samesite="Lax",
            secure=secure,
        )


def language_links(request: web.Request) -> list[tuple[str, str, str]]:
    """(locale, its own name, this page's address in it) for each language we offer; the
    page's other query parameters (filters, an editor's token) are kept."""
    query = {k: v for k, v in request.query.items() if k != QUERY}
    return [
        (locale, own_name(locale), f"{request.path}?{urlencode({**query, QUERY: locale})}")
        for locale in LANGUAGES
    ]

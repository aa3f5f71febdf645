"""Telegram's 🖌: a Mini App button only in private chats and only over HTTPS (Telegram's
rules), a direct startapp link in groups when the app is registered, else a signed link;
each link names the picture and its requester, and Mini App links need initData."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from bot.adapters.telegram.result_buttons import result_keyboard
from bot.adapters.telegram.web_edits import BrushButtons
from bot.core.models import FollowUps, Generation, Kind
from bot.web import editor_links
from bot.web.links import EditorLinks
from bot.web.signing import Signer
from tests.support.generations import generation

SIGNER = Signer(b"s" * 32)


def picture(scope: str, **changes: object) -> Generation:
    made = generation("a fox").model_copy(
        update={"scope_id": scope, "chat_id": scope.removeprefix("dm:"), "user_id": "42"}
    )
    offers = FollowUps(vary=True, info=True, edit_region=True)
    return made.model_copy(update={"follow_ups": offers, **changes})


def brush(url: str, app: str | None = None, username: str | None = "imagine_bot") -> BrushButtons:
    return BrushButtons(EditorLinks(SIGNER, url, 24, app), lambda: username)


def token_of(url: str) -> editor_links.EditorLink:
    query = parse_qs(urlsplit(url).query)
    if "startapp" in query:
        token = editor_links.from_start_param(query["startapp"][0])
        assert token is not None
        return editor_links.decode(SIGNER, token)
    return editor_links.decode(SIGNER, query["t"][0])


def test_a_private_chat_over_https_gets_a_mini_app_for_the_requester() -> None:
    button = brush("https://pics.example.org")(picture("dm:42"))
    assert button is not None and button.web_app is not None and button.url is None
    link = token_of(button.web_app.url)
    assert (link.scope_id, link.user_id, link.webapp) == ("dm:42", "42", True)
    assert link.generation_id == "0123456789abcdef"


def test_groups_get_a_direct_link_with_a_registered_app_else_a_plain_link() -> None:
    direct = brush("https://pics.example.org", app="editor")(picture("-100"))
    assert direct is not None and direct.web_app is None and direct.url is not None
    assert direct.url.startswith("https://t.me/imagine_bot/editor?startapp=")
    assert token_of(direct.url).webapp  # opened in Telegram: initData checked
    plain = brush("https://pics.example.org")(picture("-100"))
    assert plain is not None and plain.url is not None and plain.web_app is None
    assert not token_of(plain.url).webapp
    # Without the username (getMe not answered yet), a plain link rather than a broken one.
    unnamed = brush("https://pics.example.org", app="editor", username=None)(picture("-100"))
    assert unnamed is not None and unnamed.url is not None and not token_of(unnamed.url).webapp


def test_without_https_no_mini_app_is_offered_anywhere() -> None:
    for scope in ("dm:42", "-100"):
        button = brush("http://gallery.test:8080", app="editor")(picture(scope))
        assert button is not None and button.web_app is None and button.url is not None
        assert button.url.startswith("http://gallery.test:8080/g/telegram/")


def test_no_brush_where_no_provider_repaints_a_region_and_it_goes_first_in_the_last_row() -> None:
    make = brush("https://pics.example.org")
    assert make(picture("-100", follow_ups=FollowUps(vary=True, info=True))) is None
    assert make(picture("-100", kind=Kind.DESCRIBE)) is None
    shown = picture("-100")
    rows = result_keyboard(shown, make(shown)).inline_keyboard
    assert [b.text for b in rows[-1]] == ["🖌 Vary (Region)", "🪄 Edit", "ℹ️ Info"]

"""The visitor's language (bot/web/visitor.py): Accept-Language, the language link and its
cookie, English last."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from hypothesis import given
from hypothesis import strategies as st

from bot.core.language import LANGUAGES, PSEUDO
from bot.web import visitor


def request(path: str = "/g/discord/1/", **headers: str) -> web.Request:
    return make_mocked_request("GET", path, headers=headers)


def test_the_best_quality_we_speak_wins_in_the_headers_order_among_equals() -> None:
    assert visitor.from_accept_language("ar") == "ar"
    assert visitor.from_accept_language("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7") == "fr"
    assert visitor.from_accept_language("en;q=0.5, de-AT;q=0.9") == "de"
    assert visitor.from_accept_language("ko, pt-PT;q=0.4") == "pt_BR"  # Korean: none
    assert visitor.from_accept_language("zh-TW, ru;q=0.1") == "ru"  # never Simplified
    assert visitor.from_accept_language("zh-CN") == "zh_Hans"
    assert visitor.from_accept_language("de;q=0, es") == "es"  # q=0: "not this one"
    assert visitor.from_accept_language("*") is None
    assert visitor.from_accept_language("") is None


@given(st.one_of(st.text(max_size=300), st.none(), st.integers(), st.binary()))
def test_any_header_gives_one_of_our_locales_or_none_never_an_exception(header: object) -> None:
    assert visitor.from_accept_language(header) in {*LANGUAGES, None}


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["de", "ar", "xx", "pt-br", "*", "en-GB", "zh-Hant", "ja-JP"]),
            st.one_of(st.none(), st.floats(0, 1), st.text(max_size=6)),
        ),
        max_size=8,
    )
)
def test_any_well_formed_list_gives_a_supported_locale_or_none(
    items: list[tuple[str, object]],
) -> None:
    header = ", ".join(tag if quality is None else f"{tag};q={quality}" for tag, quality in items)
    assert visitor.from_accept_language(header) in {*LANGUAGES, None}


def test_the_language_link_beats_the_cookie_which_beats_the_browser() -> None:
    assert visitor.locale_of(request(**{"Accept-Language": "ru"})) == "ru"
    assert visitor.locale_of(request(**{"Accept-Language": "ru", "Cookie": "lang=de"})) == "de"
    picked = request("/g/discord/1/?lang=ar", **{"Accept-Language": "ru", "Cookie": "lang=de"})
    assert visitor.locale_of(picked) == "ar"
    assert visitor.locale_of(request()) == "en"


def test_only_our_locale_names_are_taken_from_the_address_or_the_cookie() -> None:
    for value in ("xx", "de<script>", "DE", "de-DE", ""):
        assert visitor.locale_of(request(f"/?lang={value}", Cookie=f"lang={value}")) == "en"
    assert visitor.locale_of(request(f"/?lang={PSEUDO}")) == PSEUDO  # asked by name only
    assert PSEUDO not in {code for code, _, _ in visitor.language_links(request())}


def test_a_picked_language_is_remembered_lax_for_every_path() -> None:
    response = web.Response()
    visitor.remember(request("/g/discord/1/?lang=ja"), response, secure=True)
    cookie = response.cookies[visitor.COOKIE]
    assert cookie.value == "ja" and cookie["path"] == "/" and cookie["samesite"] == "Lax"
    assert cookie["secure"] and cookie["httponly"]
    unchanged = web.Response()
    visitor.remember(request("/?lang=ja", Cookie="lang=ja"), unchanged, secure=True)
    visitor.remember(request("/?lang=xx"), unchanged, secure=True)
    assert visitor.COOKIE not in unchanged.cookies


def test_the_links_keep_the_pages_other_parameters() -> None:
    links = visitor.language_links(request("/g/discord/1/?q=fox&lang=de"))
    assert [code for code, _, _ in links] == list(LANGUAGES)
    assert ("ar", "العربية", "/g/discord/1/?q=fox&lang=ar") in links

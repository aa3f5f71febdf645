"""Editor links: signed, of their own kind, naming one picture and one person, expiring; every
outside string is refused, never raises."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.web import editor_links, grants
from bot.web.editor_links import LinkRefused, as_start_param, from_start_param, make_link
from bot.web.signing import Signer

SIGNER = Signer(b"k" * 32)


def link(**extra: object) -> editor_links.EditorLink:
    fields: dict[str, object] = {"user_id": "42", "admin": False, "minutes": 30, **extra}
    return make_link("telegram", "-100123", "0f" * 8, **fields)  # type: ignore[arg-type]


def test_a_link_decodes_to_what_was_signed() -> None:
    made = link(route=None)
    back = editor_links.decode(SIGNER, editor_links.encode(SIGNER, made))
    assert back == made
    assert back.path == "/g/telegram/-100123/edit/" + "0f" * 8
    discord = make_link(
        "discord", "555", "ab", user_id="7", admin=True, minutes=5, route="dm", channel_limit=10
    )
    assert editor_links.decode(SIGNER, editor_links.encode(SIGNER, discord)) == discord
    app = link(webapp=True)
    assert editor_links.decode(SIGNER, editor_links.encode(SIGNER, app)).webapp
    assert editor_links.decode(SIGNER, editor_links.encode(SIGNER, discord)) == discord


def test_expired_altered_or_foreign_tokens_are_refused() -> None:
    token = editor_links.encode(SIGNER, link())
    with pytest.raises(LinkRefused, match="expired"):
        editor_links.decode(SIGNER, token, now=time.time() + 31 * 60)
    with pytest.raises(LinkRefused, match="signature"):
        editor_links.decode(Signer(b"x" * 32), token)
    body, _, mac = token.partition(".")
    with pytest.raises(LinkRefused):
        editor_links.decode(SIGNER, f"{body}A.{mac}")
    # A gallery link (or session) is never an editor link, and an editor link is no grant.
    gallery = grants.make_grant("telegram", "-100123", user_id="42", admin=True, hours=1)
    with pytest.raises(LinkRefused, match="editor link was expected"):
        editor_links.decode(SIGNER, grants.encode(SIGNER, gallery, grants.LINK))
    with pytest.raises(grants.InvalidGrant):
        grants.decode(SIGNER, token, grants.LINK)


def test_signed_but_malformed_payloads_are_refused() -> None:
    good = {
        "k": "edit",
        "p": "telegram",
        "s": "-1",
        "g": "ab",
        "u": "42",
        "a": False,
        "e": time.time() + 60,
        "n": "c" * 32,
    }
    assert editor_links.decode(SIGNER, SIGNER.sign(good)).user_id == "42"
    for change in (
        {"p": "cli"},
        {"s": "not a chat"},
        {"g": "XYZ"},
        {"u": "42 ; drop"},
        {"a": "yes"},
        {"e": "soon"},
        {"e": True},
        {"n": "short"},
        {"r": "everywhere"},
        {"l": -1},
        {"w": "yes"},
        {"u": 42},
    ):
        with pytest.raises(LinkRefused):
            editor_links.decode(SIGNER, SIGNER.sign({**good, **change}))
    with pytest.raises(LinkRefused):
        editor_links.decode(SIGNER, SIGNER.sign({k: v for k, v in good.items() if k != "n"}))


def test_the_start_parameter_form_is_telegrams_alphabet_and_comes_back() -> None:
    token = editor_links.encode(SIGNER, link())
    param = as_start_param(token)
    assert "." not in param and len(param) <= 512
    assert from_start_param(param) == token
    assert editor_links.decode(SIGNER, from_start_param(param) or "") == editor_links.decode(
        SIGNER, token
    )


@given(st.text(max_size=300))
def test_any_string_is_refused_or_a_link_never_an_exception(text: str) -> None:
    try:
        editor_links.decode(SIGNER, text)
    except LinkRefused:
        pass
    param = from_start_param(text)
    assert param is None or "." in param


@given(st.one_of(st.none(), st.text(max_size=5)), st.integers(1, 4))
def test_an_index_is_one_of_the_requests_pictures_or_none(text: str | None, count: int) -> None:
    index = editor_links.valid_index(text, count)
    assert index is None or (1 <= index <= count and text == str(index))

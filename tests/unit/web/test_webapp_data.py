"""Telegram Mini App initData, checked the documented way: the HMAC under the key made from
the bot token with "WebAppData", in constant time, and a recent auth_date."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.web.webapp_data import InitDataRefused, sign, validate

TOKEN = "123456:ABC-secret"


def init_data(auth_date: float | None = None, **extra: str) -> str:
    pairs = {
        "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
        "user": json.dumps({"id": 42, "first_name": "Alice", "last_name": "B"}),
        "auth_date": str(int(time.time() if auth_date is None else auth_date)),
        **extra,
    }
    return sign(pairs, TOKEN)


def test_signing_follows_telegrams_documented_algorithm() -> None:
    """Computed here step by step from the documentation, not with the module's helpers."""
    data = init_data(start_param="xyz")
    pairs = dict(parse_qsl(data))
    check = "\n".join(f"{k}={v}" for k, v in sorted(pairs.items()) if k != "hash")
    secret = hmac.new(b"WebAppData", TOKEN.encode(), hashlib.sha256).digest()
    assert pairs["hash"] == hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    user = validate(data, TOKEN, max_age=600)
    assert (user.user_id, user.name, user.start_param) == ("42", "Alice B", "xyz")


def test_altered_foreign_or_old_data_is_refused() -> None:
    data = init_data()
    with pytest.raises(InitDataRefused, match="hash"):
        validate(data, "999:other-bot", max_age=600)
    pairs = dict(parse_qsl(data))
    pairs["user"] = json.dumps({"id": 43, "first_name": "Mallory"})
    with pytest.raises(InitDataRefused, match="hash"):
        validate(urlencode(pairs), TOKEN, max_age=600)
    with pytest.raises(InitDataRefused, match="window"):
        validate(init_data(time.time() - 601), TOKEN, max_age=600)
    with pytest.raises(InitDataRefused, match="window"):
        validate(init_data(time.time() + 3600), TOKEN, max_age=600)
    with pytest.raises(InitDataRefused, match="twice"):
        validate(data + "&auth_date=1", TOKEN, max_age=600)
    no_user = sign({"auth_date": str(int(time.time()))}, TOKEN)
    with pytest.raises(InitDataRefused, match="user"):
        validate(no_user, TOKEN, max_age=600)


@given(st.text(max_size=400))
def test_any_string_is_refused_never_an_exception(text: str) -> None:
    with pytest.raises(InitDataRefused):
        validate(text, TOKEN, max_age=600)


@given(st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=20), max_size=5))
def test_signed_pairs_of_any_shape_give_a_user_or_a_refusal(pairs: dict[str, str]) -> None:
    try:
        user = validate(sign(pairs, TOKEN), TOKEN, max_age=600)
    except InitDataRefused:
        return
    assert int(user.user_id) > 0

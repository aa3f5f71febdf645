"""Signed gallery links and session cookies: an HMAC-SHA256 over a small JSON payload.

Why not a library: the whole format is `base64url(json) "." base64url(hmac)`, checked with
`hmac.compare_digest`; the standard library does it in a few lines, and every field is ours
to validate (kind, scope, expiry) rather than a library's. The key comes from WEB_SECRET, or
is generated once and kept in DATA_DIR/web_secret (mode 0600) so links survive a restart.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
from contextlib import suppress
from pathlib import Path
from typing import Any

KEY_FILE = "web_secret"


class BadSignature(ValueError):
    """The token was altered, signed with another key, or is not a token at all."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_key(secret: str | None, data_dir: Path) -> bytes:
    """WEB_SECRET when set; otherwise the key in DATA_DIR, made on first use."""
    if secret:
        return hashlib.sha256(secret.encode("utf-8")).digest()
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / KEY_FILE
    with suppress(FileExistsError):
        # O_EXCL: two processes starting at once never write two different keys.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32))
    text = path.read_text(encoding="ascii").strip()
    if len(text) < 64:
        raise ValueError(f"{path} holds no signing key; delete it to make a new one")
    return bytes.fromhex(text)


class Signer:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, body: bytes) -> bytes:
        return hmac.new(self._key, body, hashlib.sha256).digest()

    def sign(self, payload: dict[str, Any]) -> str:
        body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
        return f"{_b64(body)}.{_b64(self._mac(body))}"

    def verify(self, token: str) -> dict[str, Any]:
        """The payload of an untouched token; BadSignature for anything else."""
        body_part, _, mac_part = token.partition(".")
        try:
            body, mac = _unb64(body_part), _unb64(mac_part)
        except (binascii.Error, ValueError):
            raise BadSignature("not a token") from None
        if not hmac.compare_digest(mac, self._mac(body)):
            raise BadSignature("signature does not match")
        try:
            payload = json.loads(body)
        except ValueError:
            raise BadSignature("not a token") from None
        if not isinstance(payload, dict):
            raise BadSignature("not a token")
        return payload

    def digest(self, purpose: str, value: str) -> str:
        """A keyed digest for `purpose` (CSRF tokens, cookie names): hex, 32 characters."""
        return hmac.new(self._key, f"{purpose}\0{value}".encode(), hashlib.sha256).hexdigest()[:32]

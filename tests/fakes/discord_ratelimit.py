"""Discord's REST rate limits for the fake: per-route buckets, the global limit, 429s.

Discord answers every rate-limited route with `X-RateLimit-Limit`, `-Remaining`, `-Reset`
(epoch seconds), `-Reset-After` (seconds) and `-Bucket` (an opaque hash shared by routes that
share a limit), and a request over the limit with 429, the same headers, `Via` (discord.py
treats a 429 without it as a Cloudflare ban) and a JSON body with `retry_after` and `global`.
The global limit (50 requests per second per bot) applies to bot-token routes; interaction
callbacks and interaction-token webhooks are exempt from it, and an interaction's callback
(one per interaction) is not bucketed here.

Buckets (on in every test, with Discord's published or observed budgets):
  POST channels/{id}/messages             5 per 5 s per channel
  DELETE channels/{id}/messages/{id}      5 per 1 s per channel
  webhooks/{app}/{token}[/messages/{id}]  5 per 2 s per interaction token (follow-ups, edits)
  everything else with a bot token        only the global limit

Opt-in, per test: `global_every = N` answers every N-th bot-token request with a global 429
(Discord sends these when a bot's whole traffic is over budget, which a bot cannot see coming
from the headers); `force(kind, count)` answers the next `count` requests of one kind with
a shared-scope 429 while the bucket still shows requests remaining (Discord's per-resource
limits look exactly like that), or with a global 429 for kind "global". A request that arrives before the wait a 429 asked for is
recorded in `early` (Discord counts those towards a Cloudflare ban); tests assert it stays empty.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

GLOBAL_PER_SECOND = 50
GLOBAL_RETRY_AFTER = 0.3  # what an injected global 429 asks the bot to wait
SHARED_RETRY_AFTER = 0.2  # what a forced shared-scope 429 asks the bot to wait


def ms(seconds: float) -> float:
    """A wait rounded up to whole milliseconds, as sent: the fake holds the bot to that."""
    return max(0.001, math.ceil(seconds * 1000) / 1000)


@dataclass
class Bucket:
    limit: int
    window: float
    remaining: int = 0
    resets_at: float = 0.0  # time.time() when the window ends
    blocked_until: float = 0.0  # a 429 said: nothing on this bucket before then

    def refresh(self, now: float) -> None:
        if now >= self.resets_at:
            self.remaining = self.limit
            self.resets_at = now + self.window


@dataclass
class Answered429:
    kind: str
    path: str
    scope: str  # "user" (bucket), "shared" (forced) or "global"
    retry_after: float
    at: float


@dataclass
class RateLimits:
    enabled: bool = True
    global_every: int | None = None
    buckets: dict[str, Bucket] = field(default_factory=dict)
    answered: list[Answered429] = field(default_factory=list)
    early: list[str] = field(default_factory=list)
    errors: list[str] | None = None  # the fake's log of refused requests, 429s included
    _forced: dict[str, int] = field(default_factory=dict)
    _when: dict[str, Callable[[web.Request], bool]] = field(default_factory=dict)
    _global_count: int = 0
    _global_window: tuple[float, int] = (0.0, 0)
    _global_blocked_until: float = 0.0

    def force(
        self, kind: str, count: int, when: Callable[[web.Request], bool] | None = None
    ) -> None:
        """The next `count` requests of `kind` (see `classify`; "global" for any bot-token
        request) that `when` accepts get a 429: shared-scope for a bucket, else global."""
        self._forced[kind] = self._forced.get(kind, 0) + count
        if when is not None:
            self._when[kind] = when

    def _take_forced(self, kind: str, request: web.Request) -> bool:
        if not self._forced.get(kind):
            return False
        when = self._when.get(kind)
        if when is not None and not when(request):
            return False
        self._forced[kind] -= 1
        return True

    def count(self, kind: str | None = None) -> int:
        return sum(1 for a in self.answered if kind is None or a.kind == kind)

    # -- routes -----------------------------------------------------------------------------

    @staticmethod
    def classify(request: web.Request) -> tuple[str, str | None, tuple[int, float] | None, bool]:
        """(kind, major parameter, (limit, window) or None, counts towards the global limit)."""
        info = request.match_info
        template = info.route.resource.canonical if info.route.resource else request.path
        method = request.method
        if "/interactions/" in template or not template.startswith("/api/"):
            return "exempt", None, None, False
        if "/webhooks/" in template:
            return "webhook", f"{info.get('app')}/{info.get('token')}", (5, 2.0), False
        if template.endswith("/channels/{cid}/messages") and method == "POST":
            return "channel_message", info["cid"], (5, 5.0), True
        if template.endswith("/channels/{cid}/messages/{mid}") and method == "DELETE":
            return "channel_delete", info["cid"], (5, 1.0), True
        return f"{method} {template}", None, None, True

    # -- the check ----------------------------------------------------------------------------

    def _too_many(
        self, kind: str, request: web.Request, scope: str, retry_after: float, bucket: str | None
    ) -> web.Response:
        now = time.time()
        self.answered.append(Answered429(kind, request.path, scope, retry_after, now))
        if self.errors is not None:
            self.errors.append(f"{request.method} {request.path}: 429 ({scope})")
        headers = {
            "Content-Type": "application/json",
            "Via": "1.1 google",
            "Retry-After": str(math.ceil(retry_after)),
            "X-RateLimit-Scope": scope,
        }
        if scope == "global":
            headers["X-RateLimit-Global"] = "true"
        elif bucket is not None:
            headers.update(self._headers(bucket))
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": scope == "global",
        }
        return web.Response(body=json.dumps(body).encode(), status=429, headers=headers)

    def _headers(self, key: str) -> dict[str, str]:
        bucket = self.buckets[key]
        now = time.time()
        return {
            "X-RateLimit-Limit": str(bucket.limit),
            "X-RateLimit-Remaining": str(bucket.remaining),
            "X-RateLimit-Reset": f"{bucket.resets_at:.3f}",
            "X-RateLimit-Reset-After": f"{max(0.0, bucket.resets_at - now):.3f}",
            "X-RateLimit-Bucket": hashlib.sha1(key.split(":")[0].encode()).hexdigest()[:16],
        }

    def _global(self, kind: str, request: web.Request) -> web.Response | None:
        now = time.time()
        if now < self._global_blocked_until:
            self.early.append(f"{request.method} {request.path} (global)")
        started, used = self._global_window
        if now - started >= 1.0:
            started, used = now, 0
        used += 1
        self._global_window = (started, used)
        self._global_count += 1
        injected = self.global_every is not None and self._global_count % self.global_every == 0
        injected = self._take_forced("global", request) or injected
        if used > GLOBAL_PER_SECOND or injected:
            wait = ms(GLOBAL_RETRY_AFTER if injected else started + 1.0 - now)
            self._global_blocked_until = now + wait
            return self._too_many(kind, request, "global", wait, None)
        return None

    async def check(self, request: web.Request) -> tuple[web.Response | None, str | None]:
        """A 429 to answer instead of handling the request, or the bucket to report on."""
        if not self.enabled:
            return None, None
        kind, major, budget, counts_global = self.classify(request)
        if kind == "exempt":
            return None, None
        if counts_global and (refused := self._global(kind, request)) is not None:
            return refused, None
        if budget is None:
            return None, None
        key = f"{kind}:{major}"
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = Bucket(*budget)
        now = time.time()
        if now < bucket.blocked_until:
            self.early.append(f"{request.method} {request.path}")
        bucket.refresh(now)
        if self._take_forced(kind, request):
            bucket.blocked_until = now + SHARED_RETRY_AFTER
            return self._too_many(kind, request, "shared", SHARED_RETRY_AFTER, key), None
        if bucket.remaining <= 0:
            wait = ms(bucket.resets_at - now)
            bucket.blocked_until = now + wait
            return self._too_many(kind, request, "user", wait, key), None
        bucket.remaining -= 1
        return None, key

    def decorate(self, response: web.StreamResponse, key: str | None) -> None:
        if key is not None and not response.prepared:
            response.headers.update(self._headers(key))

    def middleware(self) -> Any:
        @web.middleware
        async def limit(request: web.Request, handler: Any) -> web.StreamResponse:
            refused, key = await self.check(request)
            if refused is not None:
                return refused
            response: web.StreamResponse = await handler(request)
            self.decorate(response, key)
            return response

        return limit

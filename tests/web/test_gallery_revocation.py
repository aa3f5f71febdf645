"""Revoking gallery links (issue 26.9): `imaginebot run` with WEB_PORT, the fake Telegram and
the fake Discord, the links the bot posted opened with a plain HTTP client. Before, switching
a gallery off and on again reopened every old link and 7-day session, a leaked admin link
included, and no link could be revoked."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.fakes.discord_gateway import MEMBER, SERVER_MANAGER, DiscordDriver
from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.server import ServerThread
from tests.fakes.telegram_api import TelegramDriver
from tests.support import ROOT, free_port, process, wait_for
from tests.support.web import HOST, bot_env, discord_link, log_of

pytestmark = pytest.mark.e2e

GROUP = -100200301
ALICE, ADMIN = 31, 33


@pytest.fixture
def openai() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI()
    server = ServerThread(fake.app()).start()
    fake.base_url = server.url
    yield fake
    server.stop()


class Visitor:
    """One browser: a cookie jar that keeps the session a link opened."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.client = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))

    async def open(self, link: str) -> int:
        local = link.replace(f"http://{HOST}:{self.port}", f"http://127.0.0.1:{self.port}")
        async with self.client.get(local) as response:
            return response.status

    async def look(self, path: str) -> int:
        async with self.client.get(f"http://127.0.0.1:{self.port}{path}") as response:
            return response.status

    async def close(self) -> None:
        await self.client.close()


def serving(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def url_of(message: dict[str, Any]) -> str:
    return str(message["reply_markup"]["inline_keyboard"][0][0]["url"])


def telegram_links(t: TelegramDriver, root: Path) -> tuple[str, str]:
    """(the group's link, the admin's private link) from one `/gallery` by an admin."""
    before = {k for k, m in t.fake.messages.items() if k[0] == ADMIN}
    asked = t.send(GROUP, ADMIN, "/gallery")
    (answer,) = wait_for(
        lambda: t.replies_to(asked), 15, message=lambda: f"/gallery\n{log_of(root)}"
    )

    def private() -> list[dict[str, Any]]:
        return [
            m
            for k, m in list(t.fake.messages.items())
            if k[0] == ADMIN and k not in before and m.get("reply_markup")
        ]

    (admin,) = wait_for(private, 15, message="the admin's private link")
    return url_of(answer), url_of(admin)


def said(t: TelegramDriver, text: str, root: Path) -> str:
    asked = t.send(GROUP, ADMIN, text)
    (answer,) = wait_for(lambda: t.replies_to(asked), 15, message=lambda: f"{text}\n{log_of(root)}")
    return str(answer["text"])


@pytest.mark.timeout(120)
async def test_revoke_and_off_on_close_every_earlier_link_and_session(
    tmp_path: Path, openai: FakeOpenAI
) -> None:
    t = TelegramDriver().start()
    for user_id, name in ((ALICE, "alice"), (ADMIN, "admin")):
        t.add_user(user_id, name)
    t.add_group(GROUP, {ALICE: "member", ADMIN: "administrator"})
    port = free_port()
    path = f"/g/telegram/{GROUP}/"
    member, leaked = Visitor(port), Visitor(port)
    try:
        with process(
            ["run"], bot_env(tmp_path, openai, port, **t.env()), ROOT, tmp_path / "bot.log"
        ):
            wait_for(t.polling, 30, message=lambda: f"polling\n{log_of(tmp_path)}")
            wait_for(lambda: serving(port), 30, message=lambda: f"the gallery\n{log_of(tmp_path)}")
            group_link, admin_link = telegram_links(t, tmp_path)
            assert await member.open(group_link) == 200 and await member.look(path) == 200
            assert await leaked.open(admin_link) == 200  # someone else has the admin link

            refused = t.send(GROUP, ALICE, "/gallery revoke")
            wait_for(lambda: t.replies_to(refused), 15, message="the refusal")
            assert await member.look(path) == 200  # a member cannot revoke

            assert "is closed" in said(t, "/gallery revoke", tmp_path)
            # The old session, the old group link and the leaked admin link: all dead at once.
            assert await member.look(path) == 403
            assert await leaked.look(path) == 403
            assert await leaked.open(admin_link) == 403
            assert await member.open(group_link) == 403
            new_link, _ = telegram_links(t, tmp_path)
            assert await member.open(new_link) == 200 and await member.look(path) == 200

            # Off and on again: nothing from before the switch opens.
            said(t, "/gallery off", tmp_path)
            assert await member.look(path) == 403
            said(t, "/gallery on", tmp_path)
            assert await member.look(path) == 403
            assert await member.open(new_link) == 403
            fresh, _ = telegram_links(t, tmp_path)
            assert await member.open(fresh) == 200 and await member.look(path) == 200
    finally:
        await member.close()
        await leaked.close()
        t.stop()


@pytest.mark.timeout(120)
async def test_discord_settings_gallery_revoke_closes_earlier_links(
    tmp_path: Path, openai: FakeOpenAI
) -> None:
    d = DiscordDriver().start()
    port = free_port()
    visitor = Visitor(port)
    try:
        with process(
            ["run"], bot_env(tmp_path, openai, port, **d.env()), ROOT, tmp_path / "bot.log"
        ):
            wait_for(d.connected, 30, message=lambda: f"gateway\n{log_of(tmp_path)}")
            wait_for(lambda: serving(port), 30, message=lambda: f"the gallery\n{log_of(tmp_path)}")
            # Started all through (READY handled), so the first command is answered within 3 s.
            wait_for(
                lambda: "running (" in log_of(tmp_path),
                30,
                message=lambda: f"start\n{log_of(tmp_path)}",
            )
            link = discord_link(d, "alice", MEMBER)
            assert link is not None and await visitor.open(link) == 200
            path = f"/g/discord/{d.guild_id}/"
            refused = d.slash("settings gallery", user="alice", permissions=MEMBER, revoke=True)
            wait_for(lambda: d.writes(refused), 15, message="the refusal")
            assert await visitor.look(path) == 200
            revoked = d.slash(
                "settings gallery", user="boss", permissions=SERVER_MANAGER, revoke=True
            )
            wait_for(
                lambda: d.writes(revoked),
                15,
                message=lambda: f"/settings gallery\n{log_of(tmp_path)}",
            )
            assert await visitor.look(path) == 403 and await visitor.open(link) == 403
            again = discord_link(d, "alice", MEMBER)
            assert again is not None and await visitor.open(again) == 200
    finally:
        await visitor.close()
        d.stop()

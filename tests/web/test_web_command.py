"""`imaginebot web` on its own, as an operator runs it next to the bot's database."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from functools import partial
from pathlib import Path

import aiohttp
import pytest

from tests.support import ROOT, base_env, free_port, process

pytestmark = pytest.mark.e2e


def imaginebot(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.timeout(120)
async def test_imaginebot_web_serves_the_links_imaginebot_gallery_link_prints(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = base_env(tmp_path / "data", WEB_PORT=str(port), WEB_SECRET="shared-between-machines")
    link = imaginebot(
        env, "gallery", "link", "--platform", "discord", "--scope", "42"
    ).stdout.strip()
    assert link.startswith(f"http://localhost:{port}/g/discord/42/enter?t=")
    with process(["web"], env, tmp_path, tmp_path / "web.log") as web:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:

            async def up() -> bool:
                try:
                    async with client.get(f"http://127.0.0.1:{port}/") as response:
                        return response.status == 403
                except aiohttp.ClientError:
                    return False

            for _ in range(100):
                if await up():
                    break
                await asyncio.sleep(0.1)
            local = link.replace("localhost", "127.0.0.1")
            async with client.get(local) as page:
                assert page.status == 200 and "No pictures yet" in await page.text()
            # A link signed with another secret (another bot) does not open this gallery.
            other = imaginebot(
                {**env, "WEB_SECRET": "another"},
                "gallery",
                "link",
                "--platform",
                "discord",
                "--scope",
                "42",
            ).stdout.strip()
            async with (
                aiohttp.ClientSession() as fresh,
                fresh.get(other.replace("localhost", "127.0.0.1")) as page,
            ):
                assert page.status == 403
        web.terminate()
        assert web.wait(timeout=15) == 0
    assert (tmp_path / "data" / "imaginebot.sqlite3").exists()  # migrated by the web process


def test_web_and_gallery_link_name_what_is_missing(tmp_path: Path) -> None:
    env = base_env(tmp_path / "data")
    web = imaginebot(env, "web")
    assert web.returncode == 2 and "WEB_PORT" in web.stderr
    link = imaginebot(env, "gallery", "link", "--platform", "discord", "--scope", "1")
    assert link.returncode == 2 and "PUBLIC_URL" in link.stderr
    env["PUBLIC_URL"] = "https://gallery.example.org"
    bad = imaginebot(env, "gallery", "link", "--platform", "telegram", "--scope", "../etc")
    assert bad.returncode == 2 and "not a server, group or direct chat id" in bad.stderr
    hours = imaginebot(
        env, "gallery", "link", "--platform", "telegram", "--scope", "1", "--hours", "0"
    )
    assert hours.returncode == 2 and "--hours" in hours.stderr


def answers(host: str, port: int) -> bool:
    """Whether something accepts a connection at host:port."""
    import socket

    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


@pytest.mark.timeout(120)
def test_the_gallery_listens_on_this_machine_only_unless_web_host_says_otherwise(
    tmp_path: Path,
) -> None:
    # Every 127.x.y.z address is this machine's loopback: a server bound to 127.0.0.1 alone
    # does not answer at 127.0.0.2, one bound to 0.0.0.0 (or 127.0.0.2) does.
    from tests.support import wait_for

    for host, listening, silent in (
        (None, "127.0.0.1", "127.0.0.2"),
        ("127.0.0.2", "127.0.0.2", "127.0.0.1"),
        ("0.0.0.0", "127.0.0.2", None),
    ):
        port = free_port()
        env = base_env(tmp_path / "data", WEB_PORT=str(port))
        if host is not None:
            env["WEB_HOST"] = host
        with process(["web"], env, tmp_path, tmp_path / "web.log"):
            wait_for(partial(answers, listening, port), 30, message=f"the gallery at {listening}")
            if silent is not None:
                assert not answers(silent, port), (host, silent)

"""The gallery of the command line's pictures (the `cli` platform's one scope, `local`), and
each original of a request that made several, not only their grid: `imaginebot imagine`,
`imaginebot gallery link` and `imaginebot web` as subprocesses, the fake OpenAI images API,
and a real HTTP client."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import aiohttp
import pytest

from tests.fakes.openai_images import FakeOpenAI
from tests.support import base_env, free_port, process, run_cli

pytestmark = pytest.mark.e2e


@pytest.mark.timeout(120)
async def test_the_cli_pictures_and_each_original_of_a_grid_are_in_the_gallery(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    port = free_port()
    env = base_env(
        tmp_path / "data",
        OPENAI_API_KEY=fake_openai.api_key,
        OPENAI_BASE_URL=f"{fake_openai.base_url}/v1",
        WEB_PORT=str(port),
        WEB_SECRET="a-secret-for-this-test",
    )
    made = await asyncio.to_thread(
        run_cli, ["imagine", "two kites", "--count", "2", "-o", "k.png"], env, tmp_path
    )
    assert made.returncode == 0, made.stderr
    found = re.search(r"^queued: ([0-9a-f]+) ", made.stdout, re.MULTILINE)
    assert found, made.stdout
    gid = found.group(1)
    link = await asyncio.to_thread(run_cli, ["gallery", "link", "--platform", "cli"], env, tmp_path)
    assert link.returncode == 0, link.stderr
    url = link.stdout.strip().replace("localhost", "127.0.0.1")
    assert f":{port}/g/cli/local/enter?t=" in url
    other = await asyncio.to_thread(
        run_cli, ["gallery", "link", "--platform", "cli", "--scope", "42"], env, tmp_path
    )
    assert other.returncode == 2 and "the command line's scope is local" in other.stderr

    base = f"http://127.0.0.1:{port}/g/cli/local/"
    with process(["web"], env, tmp_path, tmp_path / "web.log"):
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as client:
            for _ in range(100):
                try:
                    async with client.get(url) as entered:
                        if entered.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            async with client.get(base) as index:
                assert index.status == 200 and "two kites" in await index.text()
            async with client.get(f"{base}i/{gid}") as detail:
                page = await detail.text()
            assert detail.status == 200
            assert f"i/{gid}/original/1" in page and f"i/{gid}/original/2" in page
            for k in (1, 2):
                async with client.get(f"{base}i/{gid}/original/{k}") as picture:
                    assert picture.status == 200
                    assert await picture.read() == fake_openai.images[k - 1]
            async with client.get(f"{base}i/{gid}/original/3") as missing:
                assert missing.status == 404
        # Without the session, no original is shown.
        async with aiohttp.ClientSession() as stranger:
            async with stranger.get(f"{base}i/{gid}/original/1") as refused:
                assert refused.status in (403, 404)

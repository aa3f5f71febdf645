"""The CLI gives a clear answer within seconds, with the right exit code: paths checked before
anything is queued (and paid for), a write that fails afterwards said with where the picture
is kept, files named for their format, ranges checked by the parser, the history of every
platform. Each a real `imaginebot` subprocess against the fake OpenAI images API."""

from __future__ import annotations

import asyncio
import io
import re
import time
from pathlib import Path

import pytest
from PIL import Image

from bot.core.store import NewGeneration
from bot.core.store.sqlite import SQLiteStore
from tests.fakes.openai_images import FakeOpenAI
from tests.support import ROOT, base_env, rows, run_cli

pytestmark = pytest.mark.e2e


def openai_env(tmp_path: Path, fake: FakeOpenAI) -> dict[str, str]:
    return base_env(
        tmp_path / "data", OPENAI_API_KEY=fake.api_key, OPENAI_BASE_URL=f"{fake.base_url}/v1"
    )


def stored_rows(tmp_path: Path) -> list[dict[str, object]]:
    db = tmp_path / "data" / "imaginebot.sqlite3"
    return rows(db, "SELECT * FROM generations ORDER BY created_at") if db.exists() else []


def test_an_output_that_cannot_be_written_is_refused_before_anything_is_queued(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    env = openai_env(tmp_path, fake_openai)
    missing = run_cli(
        ["imagine", "a lighthouse", "-o", "/nonexistent/dir/x.png"], env, tmp_path, timeout=30
    )
    assert missing.returncode == 2, missing.stdout + missing.stderr
    assert "the folder /nonexistent/dir does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr and "queued:" not in missing.stdout
    (tmp_path / "a-folder").mkdir()
    folder = run_cli(["imagine", "a lighthouse", "-o", "a-folder"], env, tmp_path, timeout=30)
    assert folder.returncode == 2 and "a-folder is a folder" in folder.stderr
    follow_up = run_cli(["upscale", "0123", "-o", "/nonexistent/u.png"], env, tmp_path)
    assert follow_up.returncode == 2 and "does not exist" in follow_up.stderr
    # Nothing reached the provider, nothing was recorded.
    assert fake_openai.calls == [] and stored_rows(tmp_path) == []


def test_a_write_failing_after_the_picture_was_made_says_where_it_is_kept_at_once(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    env = openai_env(tmp_path, fake_openai)
    (tmp_path / "k-1.png").mkdir()  # the first original's file name is taken by a folder
    started = time.monotonic()
    result = run_cli(["imagine", "a kite", "--count", "2", "-o", "k.jpg"], env, tmp_path)
    took = time.monotonic() - started
    assert result.returncode == 1, result.stdout + result.stderr
    assert took < 60  # not the 600 s wait for a result that had already come
    (row,) = stored_rows(tmp_path)
    kept = Path(str(row["image_path"]))
    assert (
        f"failed: cannot write k-1.png: Is a directory; the picture is kept in the history: {kept}"
        in result.stderr
    )
    # The pictures are in the history, byte for byte what the provider made.
    originals = [line.strip() for line in result.stderr.splitlines() if line.startswith("  ")]
    assert [Path(p).read_bytes() for p in originals] == fake_openai.images
    assert kept.exists() and row["status"] == "delivered"


def test_a_grid_asked_for_as_png_is_named_jpg_and_said(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    env = openai_env(tmp_path, fake_openai)
    result = run_cli(["imagine", "a kite", "--count", "2", "-o", "grid.png"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "done: grid.jpg (not grid.png: the picture is a JPEG)" in result.stdout
    assert not (tmp_path / "grid.png").exists()
    with Image.open(tmp_path / "grid.jpg") as grid:
        assert grid.format == "JPEG"
    for k in (1, 2):  # the originals are PNGs, named so
        with Image.open(tmp_path / f"grid-{k}.png") as original:
            assert original.format == "PNG"


def test_default_output_goes_to_the_out_folder_which_git_ignores(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    result = run_cli(["imagine", "a kite"], openai_env(tmp_path, fake_openai), tmp_path)
    assert result.returncode == 0, result.stderr
    written = re.search(r"^done: (\S+) ", result.stdout, re.MULTILINE)
    assert written, result.stdout
    path = Path(written.group(1))
    assert path.parent == Path("out") and path.name.startswith("imaginebot-")
    assert (tmp_path / path).read_bytes() == fake_openai.images[0]
    assert "/out/" in (ROOT / ".gitignore").read_text().splitlines()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["imagine", "x", "--seed", "-5"], "--seed: use a number from 0 to 4294967295"),
        (["imagine", "x", "--seed", "many"], "--seed: 'many' is not a whole number"),
        (["imagine", "x", "--seed", "4294967296"], "use a number from 0 to 4294967295"),
        (["imagine", "x", "--count", "5"], "--count"),
        (["imagine", "x", "--strength", "0.5"], "--strength goes with --image"),
        (["imagine", "x", "--aspect", "2:1"], "--aspect"),
        (["history", "--limit", "0"], "--limit: use a number from 1 to 1000"),
        (["history", "--platform", "irc"], "--platform"),
        (["upscale", "abc", "--index", "9"], "--index"),
    ],
)
def test_out_of_range_arguments_are_refused_by_the_parser(
    tmp_path: Path, args: list[str], said: str
) -> None:
    result = run_cli(args, base_env(tmp_path / "data"), tmp_path, timeout=30)
    assert result.returncode == 2, result.stdout + result.stderr
    assert said in result.stderr and "usage: imaginebot" in result.stderr
    assert not (tmp_path / "data").exists()  # refused before anything started


def test_history_shows_the_latest_requests_of_every_platform_and_filters(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    env = openai_env(tmp_path, fake_openai)
    assert run_cli(["imagine", "a terminal kite", "-o", "k.png"], env, tmp_path).returncode == 0

    async def chat_rows() -> None:
        store = await SQLiteStore.open_path(tmp_path / "data" / "imaginebot.sqlite3")
        try:
            for gid, platform, user in (("d1", "discord", "111"), ("t1", "telegram", "222")):
                await store.insert_generation(
                    NewGeneration(
                        id=gid,
                        platform=platform,
                        scope_id="9",
                        chat_id="9",
                        user_id=user,
                        user_name="someone",
                        prompt=f"a {platform} fox",
                        style="photo",
                        aspect="1:1",
                        seed=1,
                        created_at=time.time(),
                    )
                )
        finally:
            await store.close()

    asyncio.run(chat_rows())
    every = run_cli(["history"], env, tmp_path)
    assert every.returncode == 0, every.stderr
    lines = every.stdout.splitlines()
    assert [line.split()[0] for line in lines][:2] == ["t1", "d1"]  # newest first
    assert len(lines) == 3 and "a terminal kite" in lines[2]
    assert "telegram:222" in lines[0] and "discord:111" in lines[1] and " cli:" in lines[2]
    discord = run_cli(["history", "--platform", "discord"], env, tmp_path)
    assert [line.split()[0] for line in discord.stdout.splitlines()] == ["d1"]
    user = run_cli(["history", "--user", "222"], env, tmp_path)
    assert [line.split()[0] for line in user.stdout.splitlines()] == ["t1"]
    nobody = run_cli(["history", "--platform", "cli", "--user", "222"], env, tmp_path)
    assert nobody.returncode == 0 and nobody.stdout.strip() == "no requests yet"


def test_a_describe_needs_no_output_folder(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    picture = tmp_path / "p.png"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 20, 30)).save(buffer, format="PNG")
    picture.write_bytes(buffer.getvalue())
    result = run_cli(["describe", str(picture)], openai_env(tmp_path, fake_openai), tmp_path)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "out").exists()

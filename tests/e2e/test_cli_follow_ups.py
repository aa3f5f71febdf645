"""The CLI after the first picture, as an operator runs it: `imagine --count`, `upscale`,
`vary`, `imagine --image`, `describe`, each a real subprocess against a fake AUTOMATIC1111
server that records what it received."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from tests.fakes.comfyui_api import FakeComfyUI
from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.sdwebui_api import FakeSDWebUI
from tests.fakes.server import ServerThread
from tests.support import base_env, rows, run_cli

pytestmark = pytest.mark.e2e


@pytest.fixture
def sdwebui() -> Iterator[tuple[FakeSDWebUI, str]]:
    fake = FakeSDWebUI()
    server = ServerThread(fake.app()).start()
    yield fake, server.url
    server.stop()


def sd_env(tmp_path: Path, url: str) -> dict[str, str]:
    return base_env(tmp_path / "data", IMAGE_PROVIDERS="sdwebui", SDWEBUI_URL=url)


def queued_id(stdout: str) -> str:
    found = re.search(r"^queued: ([0-9a-f]+) ", stdout, re.MULTILINE)
    assert found, stdout
    return found.group(1)


def test_a_grid_of_four_then_upscale_and_vary_from_the_history(
    tmp_path: Path, sdwebui: tuple[FakeSDWebUI, str]
) -> None:
    fake, url = sdwebui
    env = sd_env(tmp_path, url)
    out = tmp_path / "out.png"
    made = run_cli(["imagine", "a lighthouse", "--count", "4", "-o", str(out)], env, tmp_path)
    assert made.returncode == 0, made.stderr
    originals = [tmp_path / f"out-{k}.png" for k in range(1, 5)]
    assert [p.read_bytes() for p in originals] == fake.images  # byte for byte
    assert not out.exists() and "(not out.png: the picture is a JPEG)" in made.stdout
    with Image.open(out.with_suffix(".jpg")) as grid:
        assert grid.format == "JPEG" and grid.size[0] > 1024
    gen_id = queued_id(made.stdout)

    up = tmp_path / "up.png"
    upscaled = run_cli(["upscale", gen_id, "--index", "3", "-o", str(up)], env, tmp_path)
    assert upscaled.returncode == 0, upscaled.stderr
    ((sent, _body),) = fake.upscaled
    assert sent == originals[2].read_bytes()
    with Image.open(up) as picture:
        assert picture.size == (4096, 4096)

    varied_out = tmp_path / "v.png"
    varied = run_cli(["vary", gen_id, "--index", "2", "-o", str(varied_out)], env, tmp_path)
    assert varied.returncode == 0, varied.stderr
    assert fake.init_images == [originals[1].read_bytes()]
    assert [(tmp_path / f"v-{k}.png").read_bytes() for k in range(1, 5)] == fake.images[4:]

    missing = run_cli(["upscale", "0000000000000000", "-o", str(up)], env, tmp_path)
    assert missing.returncode == 2 and "no longer in the history" in missing.stderr
    db_rows = rows(tmp_path / "data" / "imaginebot.sqlite3", "SELECT kind FROM generations")
    assert sorted(r["kind"] for r in db_rows) == ["imagine", "upscale", "vary"]


def test_start_from_a_picture_and_describe_one(
    tmp_path: Path, sdwebui: tuple[FakeSDWebUI, str]
) -> None:
    fake, url = sdwebui
    env = sd_env(tmp_path, url)
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (320, 240), (30, 90, 160)).save(photo, format="JPEG", quality=90)
    result = run_cli(
        ["imagine", "make it a painting", "--image", str(photo), "--strength", "0.3"],
        env,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert fake.bodies[-1]["denoising_strength"] == 0.3
    with Image.open(io.BytesIO(fake.init_images[0])) as sent:
        assert sent.size == (320, 240)
    bad = run_cli(["imagine", "x", "--image", str(photo), "--strength", "3"], env, tmp_path)
    assert bad.returncode == 2 and "0.1 to 1.0" in bad.stderr

    picture = tmp_path / "made-elsewhere.png"
    text = PngImagePlugin.PngInfo()
    text.add_text("parameters", "an old map of the sea\nNegative prompt: text\nSteps: 30")
    Image.new("RGB", (64, 64), (200, 180, 120)).save(picture, format="PNG", pnginfo=text)
    described = run_cli(["describe", str(picture)], env, tmp_path)
    assert described.returncode == 0, described.stderr
    assert "1. an old map of the sea\n" in described.stdout
    assert f"2. {fake.caption}\n" in described.stdout
    not_a_picture = tmp_path / "notes.png"
    not_a_picture.write_text("shopping list\n")
    refused = run_cli(["describe", str(not_a_picture)], env, tmp_path)
    assert refused.returncode == 2 and "not a picture the bot can read" in refused.stderr
    assert len(fake.interrogated) == 1


def test_upscale_without_an_upscaler_writes_the_original(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    env = base_env(
        tmp_path / "data",
        OPENAI_API_KEY=fake_openai.api_key,
        OPENAI_BASE_URL=f"{fake_openai.base_url}/v1",
    )
    made = run_cli(["imagine", "a kite", "--count", "2", "-o", "k.png"], env, tmp_path)
    assert made.returncode == 0, made.stderr
    calls = len(fake_openai.calls)
    up = run_cli(["upscale", queued_id(made.stdout), "--index", "2", "-o", "u.png"], env, tmp_path)
    assert up.returncode == 0, up.stderr
    assert "the original picture: no upscaler is configured" in up.stdout
    assert "original original" not in up.stdout
    assert (tmp_path / "u.png").read_bytes() == (tmp_path / "k-2.png").read_bytes()
    assert (tmp_path / "k-2.png").read_bytes() == fake_openai.images[1]
    assert len(fake_openai.calls) == calls


def test_describe_without_a_describer_answers_from_the_pictures_own_parameters(
    tmp_path: Path,
) -> None:
    comfy = FakeComfyUI()
    server = ServerThread(comfy.app()).start()
    try:
        env = base_env(tmp_path / "data", IMAGE_PROVIDERS="comfyui", COMFYUI_URL=server.url)
        picture = tmp_path / "a1111.png"
        text = PngImagePlugin.PngInfo()
        text.add_text("parameters", "a castle in fog\nSteps: 20, Seed: 5")
        Image.new("RGB", (32, 32), (1, 2, 3)).save(picture, format="PNG", pnginfo=text)
        described = run_cli(["describe", str(picture)], env, tmp_path)
        assert described.returncode == 0, described.stderr
        assert "1. a castle in fog\n" in described.stdout and "2. " not in described.stdout
        plain = tmp_path / "plain.png"
        Image.new("RGB", (32, 32), (1, 2, 3)).save(plain, format="PNG")
        refused = run_cli(["describe", str(plain)], env, tmp_path)
        assert refused.returncode == 2
        assert "(comfyui) can describe pictures, so nothing was queued" in refused.stderr
    finally:
        server.stop()

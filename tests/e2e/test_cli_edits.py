"""Edits on the command line, as an operator runs them: `edit` (a region under a mask, or by
words), `zoom`, `pan` and `square`, each a real subprocess against a fake provider, asserting
on what reached the fake: the canvas's size, the mask's size, mode and alpha, which pixels it
marks, and the request fields each API takes with a mask."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.fakes.comfyui_api import FakeComfyUI
from tests.fakes.horde_api import FakeHorde
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


def queued_id(stdout: str) -> str:
    found = re.search(r"^queued: ([0-9a-f]+) ", stdout, re.MULTILINE)
    assert found, stdout
    return found.group(1)


def opened(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as picture:
        picture.load()
        return picture.copy()


def white_share(mask: Image.Image) -> float:
    grey = mask.convert("L")
    return grey.histogram()[255] / (grey.width * grey.height)


def drawn_mask(path: Path, size: tuple[int, int], box: tuple[int, int, int, int]) -> Path:
    """A mask as a brush editor makes it: the picture's size, opaque, the area to change
    erased to transparent."""
    mask = Image.new("RGBA", size, (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), box)
    mask.save(path, format="PNG")
    return path


def edit_row(tmp_path: Path, gen_id: str) -> dict[str, object]:
    (row,) = rows(
        tmp_path / "data" / "imaginebot.sqlite3",
        "SELECT kind, parent_id, parent_index, aspect, edit_note, status FROM generations "
        f"WHERE id = '{gen_id}'",
    )
    return dict(row)


def test_zoom_pan_and_a_region_on_automatic1111(
    tmp_path: Path, sdwebui: tuple[FakeSDWebUI, str]
) -> None:
    fake, url = sdwebui
    env = base_env(tmp_path / "data", IMAGE_PROVIDERS="sdwebui", SDWEBUI_URL=url)
    made = run_cli(["imagine", "a lighthouse", "--count", "2", "-o", "l.png"], env, tmp_path)
    assert made.returncode == 0, made.stderr
    gen_id = queued_id(made.stdout)
    original = opened((tmp_path / "l-2.png").read_bytes())
    assert original.size == (1024, 1024)

    zoomed = run_cli(
        ["zoom", gen_id, "--index", "2", "--factor", "2", "-o", "z.png"], env, tmp_path
    )
    assert zoomed.returncode == 0, zoomed.stderr
    canvas, mask = opened(fake.init_images[-1]), opened(fake.masks[-1])
    assert canvas.size == mask.size == (2048, 2048)  # twice the picture, within 2048 px
    assert mask.getpixel((10, 10)) == 255 and mask.getpixel((1024, 1024)) == 0
    assert white_share(mask) == pytest.approx(0.75, abs=0.01)  # all but the middle quarter
    body = fake.bodies[-1]
    assert body["inpainting_fill"] == 0 and body["denoising_strength"] == 1.0
    assert body["inpaint_full_res"] is False and body["mask_blur"] > 0
    assert (tmp_path / "z-1.png").read_bytes() == fake.images[-2]  # the result, written
    row = edit_row(tmp_path, queued_id(zoomed.stdout))
    assert row["kind"] == "zoom" and row["parent_id"] == gen_id and row["parent_index"] == 2
    assert str(row["edit_note"]).startswith("zoomed out 2x: the picture on a 2048x2048 canvas")
    images = tmp_path / "data" / "images"
    assert (images / f"{queued_id(zoomed.stdout)}-mask.png").is_file()

    panned = run_cli(["pan", gen_id, "--direction", "left", "-o", "p.png"], env, tmp_path)
    assert panned.returncode == 0, panned.stderr
    canvas, mask = opened(fake.init_images[-1]), opened(fake.masks[-1])
    assert canvas.size == mask.size == (1536, 1024)  # extended by half: 3:2
    assert mask.getpixel((100, 500)) == 255 and mask.getpixel((1400, 500)) == 0
    assert white_share(mask) == pytest.approx(1 / 3, abs=0.01)
    assert edit_row(tmp_path, queued_id(panned.stdout))["aspect"] == "3:2"

    hat = drawn_mask(tmp_path / "hat.png", original.size, (256, 0, 768, 256))
    region = run_cli(
        ["edit", gen_id, "--index", "2", "--mask", str(hat), "--prompt", "a red hat"],
        env,
        tmp_path,
    )
    assert region.returncode == 0, region.stderr
    assert fake.init_images[-1] == (tmp_path / "l-2.png").read_bytes()  # the picture itself
    mask = opened(fake.masks[-1])
    assert mask.size == (1024, 1024) and mask.getpixel((500, 100)) == 255
    assert mask.getpixel((500, 600)) == 0 and white_share(mask) == pytest.approx(0.125, abs=0.01)
    assert fake.bodies[-1]["inpainting_fill"] == 1 and "a red hat" in fake.bodies[-1]["prompt"]
    assert edit_row(tmp_path, queued_id(region.stdout))["kind"] == "edit"


def test_a_malformed_mask_is_refused_before_anything_is_queued(
    tmp_path: Path, sdwebui: tuple[FakeSDWebUI, str]
) -> None:
    fake, url = sdwebui
    env = base_env(tmp_path / "data", IMAGE_PROVIDERS="sdwebui", SDWEBUI_URL=url)
    made = run_cli(["imagine", "a barn"], env, tmp_path)
    gen_id = queued_id(made.stdout)
    small = drawn_mask(tmp_path / "small.png", (100, 100), (0, 0, 50, 50))
    empty = tmp_path / "empty.png"
    Image.new("L", (1024, 1024), 0).save(empty)
    full = tmp_path / "full.png"
    Image.new("L", (1024, 1024), 255).save(full)
    words = tmp_path / "words.txt"
    words.write_text("not a picture")
    for path, said in (
        (small, "The mask is 100x100 pixels but the picture is 1024x1024"),
        (empty, "The mask marks nothing to change."),
        (full, "The mask covers the whole picture"),
        (words, "The mask must be a PNG picture of 1024x1024 pixels."),
    ):
        refused = run_cli(["edit", gen_id, "--mask", str(path)], env, tmp_path)
        assert refused.returncode == 2 and said in refused.stderr, refused.stderr
    assert fake.masks == [] and len(fake.bodies) == 1  # nothing reached the server
    kinds = rows(tmp_path / "data" / "imaginebot.sqlite3", "SELECT kind FROM generations")
    assert [r["kind"] for r in kinds] == ["imagine"]


def test_openai_takes_the_mask_as_a_png_with_alpha_and_edits_by_words(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    env = base_env(
        tmp_path / "data",
        OPENAI_API_KEY=fake_openai.api_key,
        OPENAI_BASE_URL=f"{fake_openai.base_url}/v1",
    )
    made = run_cli(["imagine", "a cat on a sofa", "-o", "c.png"], env, tmp_path)
    assert made.returncode == 0, made.stderr
    gen_id = queued_id(made.stdout)
    size = opened((tmp_path / "c.png").read_bytes()).size

    region = drawn_mask(tmp_path / "m.png", size, (0, 0, size[0] // 2, size[1]))
    edited = run_cli(["edit", gen_id, "--mask", str(region), "-o", "e.png"], env, tmp_path)
    assert edited.returncode == 0, edited.stderr
    sent, mask = opened(fake_openai.edit_images[-1]), opened(fake_openai.edit_masks[-1])
    assert mask.mode == "RGBA" and mask.size == sent.size == size
    assert mask.getpixel((10, 10))[3] == 0  # transparent: change
    assert mask.getpixel((size[0] - 10, 10))[3] == 255  # opaque: keep
    assert (tmp_path / "e.png").read_bytes() == fake_openai.images[-1]

    squared = run_cli(["square", gen_id, "-o", "s.png"], env, tmp_path)
    assert squared.returncode == 0, squared.stderr
    assert len(fake_openai.edit_masks) == 2
    assert opened(fake_openai.edit_masks[-1]).size == opened(fake_openai.edit_images[-1]).size

    night = run_cli(["edit", gen_id, "--prompt", "make it night", "-o", "n.png"], env, tmp_path)
    assert night.returncode == 0, night.stderr
    assert fake_openai.edits[-1]["prompt"] == "make it night"  # the words, not a style's
    assert len(fake_openai.edit_masks) == 2  # no mask sent with an edit by words
    assert fake_openai.edit_images[-1] == (tmp_path / "c.png").read_bytes()


def test_edit_by_words_falls_back_along_the_chain_and_is_refused_without_one(
    tmp_path: Path, sdwebui: tuple[FakeSDWebUI, str], fake_openai: FakeOpenAI
) -> None:
    fake, url = sdwebui
    only_sd = base_env(tmp_path / "data", IMAGE_PROVIDERS="sdwebui", SDWEBUI_URL=url)
    made = run_cli(["imagine", "a harbour"], only_sd, tmp_path)
    gen_id = queued_id(made.stdout)
    refused = run_cli(["edit", gen_id, "--prompt", "make it night"], only_sd, tmp_path)
    assert refused.returncode == 2
    assert "can edit a picture by words, so nothing was queued" in refused.stderr

    both = {
        **only_sd,
        "IMAGE_PROVIDERS": "sdwebui,openai",
        "OPENAI_API_KEY": fake_openai.api_key,
        "OPENAI_BASE_URL": f"{fake_openai.base_url}/v1",
    }
    night = run_cli(["edit", gen_id, "--prompt", "make it night"], both, tmp_path)
    assert night.returncode == 0, night.stderr
    assert fake_openai.edits[-1]["prompt"] == "make it night" and fake.init_images == []


def test_the_horde_outpaints_with_a_source_mask_of_the_sources_size(tmp_path: Path) -> None:
    fake = FakeHorde(checks_before_done=0)
    server = ServerThread(fake.app()).start()
    fake.base_url = server.url
    try:
        env = base_env(tmp_path / "data", HORDE_API_URL=f"{server.url}/api/v2")
        made = run_cli(["imagine", "a mountain"], env, tmp_path)
        assert made.returncode == 0, made.stderr
        panned = run_cli(["pan", queued_id(made.stdout), "--direction", "up"], env, tmp_path)
        assert panned.returncode == 0, panned.stderr
    finally:
        server.stop()
    payload = next(job.payload for job in fake.jobs.values() if "source_mask" in job.payload)
    assert payload["source_processing"] == "outpainting"
    assert payload["params"]["denoising_strength"] == 1.0
    source, mask = opened(fake.source_images[-1]), opened(fake.source_masks[-1])
    assert source.size == mask.size == (512, 768)  # 512x512 extended up by half: 2:3
    assert mask.convert("L").getpixel((256, 100)) == 255  # the new top
    assert mask.convert("L").getpixel((256, 600)) == 0  # the picture, kept


def test_comfyui_runs_its_inpaint_workflow_with_the_mask_uploaded(tmp_path: Path) -> None:
    comfy = FakeComfyUI()
    server = ServerThread(comfy.app()).start()
    try:
        env = base_env(tmp_path / "data", IMAGE_PROVIDERS="comfyui", COMFYUI_URL=server.url)
        made = run_cli(["imagine", "a garden"], env, tmp_path)
        assert made.returncode == 0, made.stderr
        zoomed = run_cli(["zoom", queued_id(made.stdout), "--factor", "1.5"], env, tmp_path)
        assert zoomed.returncode == 0, zoomed.stderr
    finally:
        server.stop()
    ((pixels, mask_bytes),) = comfy.inpaints
    canvas, mask = opened(pixels), opened(mask_bytes)
    # 512 x 1.5 = 768 px, shrunk to the 512 px this checkpoint makes (the latent's size).
    assert canvas.size == mask.size == (512, 512)
    assert mask.convert("L").getpixel((10, 10)) == 255
    assert mask.convert("L").getpixel((256, 256)) == 0
    workflow = list(comfy.prompts.values())[-1]
    classes = {node["class_type"] for node in workflow.values()}
    assert {"SetLatentNoiseMask", "ImageToMask"} <= classes

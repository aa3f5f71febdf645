"""The fake providers refuse masks the real APIs refuse (or would misuse), so a bot that sent
a wrong one would see it fail: the official openai SDK and plain HTTP against each fake."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator

import httpx
import openai
import pytest
from PIL import Image

from tests.fakes.comfyui_api import FakeComfyUI
from tests.fakes.horde_api import ANONYMOUS_KEY, FakeHorde
from tests.fakes.openai_images import FakeOpenAI
from tests.fakes.sdwebui_api import FakeSDWebUI
from tests.fakes.server import ServerThread

pytestmark = pytest.mark.e2e


def png(size: tuple[int, int], mode: str = "RGB", colour: object = 0) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, format="PNG")  # type: ignore[arg-type]
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def served() -> Iterator[list[ServerThread]]:
    servers: list[ServerThread] = []
    yield servers
    for server in servers:
        server.stop()


def test_openai_refuses_a_mask_without_alpha_or_of_another_size(fake_openai: FakeOpenAI) -> None:
    client = openai.OpenAI(
        api_key=fake_openai.api_key, base_url=f"{fake_openai.base_url}/v1", max_retries=0
    )
    image = ("image.png", png((64, 64)), "image/png")
    for mask, said in (
        (png((64, 64), "RGB"), "format must be in ['RGBA', 'LA'], got RGB"),
        (png((32, 32), "RGBA", (0, 0, 0, 0)), "mask size does not match the image size"),
    ):
        with pytest.raises(openai.BadRequestError, match=re.escape(said)):
            client.images.edit(
                model="gpt-image-1", prompt="a hat", image=image, mask=("m.png", mask, "image/png")
            )
    assert fake_openai.edit_masks == []
    client.images.edit(
        model="gpt-image-1",
        prompt="a hat",
        image=image,
        mask=("m.png", png((64, 64), "RGBA", (0, 0, 0, 0)), "image/png"),
    )
    assert len(fake_openai.edit_masks) == 1


def test_automatic1111_refuses_an_unreadable_mask_or_one_of_another_size(
    served: list[ServerThread],
) -> None:
    fake = FakeSDWebUI()
    served.append(ServerThread(fake.app()).start())
    body = {"prompt": "a hat", "init_images": [b64(png((64, 64)))], "inpainting_fill": 1}
    with httpx.Client(base_url=served[0].url) as http:
        unreadable = http.post("/sdapi/v1/img2img", json={**body, "mask": "bm90IGEgcGljdHVyZQ=="})
        assert (
            unreadable.status_code == 400 and unreadable.json()["detail"] == "Invalid encoded image"
        )
        other = http.post("/sdapi/v1/img2img", json={**body, "mask": b64(png((32, 32)))})
        assert other.status_code == 422
        fill = http.post(
            "/sdapi/v1/img2img", json={**body, "mask": b64(png((64, 64))), "inpainting_fill": 7}
        )
        assert fill.status_code == 422
        fine = http.post("/sdapi/v1/img2img", json={**body, "mask": b64(png((64, 64)))})
        assert fine.status_code == 200
    assert len(fake.masks) == 1


def test_the_horde_takes_a_source_mask_only_to_inpaint_or_outpaint_at_the_sources_size(
    served: list[ServerThread],
) -> None:
    fake = FakeHorde()
    served.append(ServerThread(fake.app()).start())
    headers = {"apikey": ANONYMOUS_KEY, "Client-Agent": "test:1:none"}
    body = {
        "prompt": "a hat",
        "source_image": b64(png((64, 64))),
        "params": {"width": 512, "height": 512},
    }
    with httpx.Client(base_url=served[0].url, headers=headers) as http:
        img2img = http.post(
            "/api/v2/generate/async",
            json={**body, "source_processing": "img2img", "source_mask": b64(png((64, 64)))},
        )
        assert img2img.status_code == 400 and img2img.json()["rc"] == "SourceMaskUnnecessary"
        other = http.post(
            "/api/v2/generate/async",
            json={**body, "source_processing": "inpainting", "source_mask": b64(png((32, 32)))},
        )
        assert other.status_code == 400
        fine = http.post(
            "/api/v2/generate/async",
            json={**body, "source_processing": "inpainting", "source_mask": b64(png((64, 64)))},
        )
        assert fine.status_code == 202, fine.text
    assert len(fake.source_masks) == 1


def test_comfyui_refuses_an_inpaint_whose_mask_is_not_the_pictures_size(
    served: list[ServerThread],
) -> None:
    from bot.core.generation.providers.comfyui_workflow import fill, load_workflow

    fake = FakeComfyUI()
    served.append(ServerThread(fake.app()).start())
    with httpx.Client(base_url=served[0].url) as http:
        for name, data in (
            ("p.png", png((64, 64))),
            ("m.png", png((32, 32))),
            ("n.png", png((64, 64))),
        ):
            http.post("/upload/image", files={"image": (name, data, "image/png")})
        values = {
            "prompt": "a hat",
            "negative": "",
            "seed": 1,
            "steps": 20,
            "cfg_scale": 7.0,
            "model": fake.checkpoints[0],
            "batch_size": 1,
            "denoise": 1.0,
            "image": "p.png",
        }
        workflow = load_workflow(None, "inpaint")
        wrong = http.post("/prompt", json={"prompt": fill(workflow, {**values, "mask": "m.png"})})
        assert wrong.status_code == 400 and "does not match the image" in wrong.text
        right = http.post("/prompt", json={"prompt": fill(workflow, {**values, "mask": "n.png"})})
        assert right.status_code == 200, right.text
    assert len(fake.inpaints) == 1

"""Style references, compare and permutations on Discord, end to end: `imaginebot run` as a
subprocess with a private Redis, the fake Discord (gateway, HTTP, CDN) and the fake
AUTOMATIC1111 with the ControlNet extension (an IP-Adapter model installed). Asserted: the
reference picture the server got in its ControlNet unit, the prompts of each tile, the grid
Discord was sent with a label on each tile and U/V per tile, the Info, and the rows."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.fakes.discord_api import Interaction, Message
from tests.fakes.discord_gateway import DiscordDriver
from tests.fakes.openai_images import make_png
from tests.fakes.sdwebui_api import FakeSDWebUI
from tests.fakes.server import ServerThread
from tests.support import RedisServer, base_env, process, rows, wait_for
from tests.support.discord_stack import Stack, final_image

pytestmark = pytest.mark.e2e

IP_ADAPTER = "ip-adapter_sd15 [6a3f6166]"


class Styles(Stack):
    """The stack with AUTOMATIC1111 (ControlNet installed) as the one provider."""

    def __init__(self, root: Path, discord: DiscordDriver, sd: FakeSDWebUI, sd_url: str) -> None:
        self.root, self.discord, self.sd = root, discord, sd
        self.redis = RedisServer(root / "redis").start()
        self.env = base_env(
            root / "data",
            IMAGE_PROVIDERS="sdwebui",
            SDWEBUI_URL=sd_url,
            SDWEBUI_REFERENCE_MODEL=IP_ADAPTER,
            REDIS_URL=self.redis.url,
            MAX_PENDING_PER_USER="50",
            DAILY_LIMIT_PER_USER="500",
            **discord.env(),
        )
        self.db = root / "data" / "imaginebot.sqlite3"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Styles]:
    root = tmp_path_factory.mktemp("discord-styles")
    sd = FakeSDWebUI(controlnet_models=[IP_ADAPTER])
    sd_server = ServerThread(sd.app()).start()
    driver = DiscordDriver().start()
    styles = Styles(root, driver, sd, sd_server.url)
    with ExitStack() as running:
        try:
            running.enter_context(process(["run"], styles.env, root, root / "bot.log"))
            wait_for(driver.connected, 30, message=lambda: f"gateway connection\n{styles.log()}")
            yield styles
        finally:
            running.close()
            driver.stop()
            styles.redis.stop()
            sd_server.stop()


def picture(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.convert("RGB")


def labelled(grid: Image.Image, left: int, bottom: int, width: int) -> bool:
    band = grid.crop((left, bottom - 30, left + width, bottom - 4)).convert("L")
    counts = band.histogram()  # pixels per grey level
    dark = sum(counts[:50]) / sum(counts)
    return dark > 0.6 and any(counts[201:])  # a dark band with some light text on it


def message_of(stack: Styles, interaction: Interaction) -> Message:
    message = stack.discord.server.run_sync(stack.discord.fake.original, interaction.id)
    assert message is not None
    return message


def buttons(message: Message) -> list[list[str]]:
    return [[c["custom_id"] for c in row["components"]] for row in message.components]


def answer(stack: Styles, interaction: Interaction) -> Message:
    d = stack.discord

    def ready() -> Message | None:
        message = d.server.run_sync(d.fake.original, interaction.id)
        return message if message is not None and message.content else None

    found: Message = wait_for(ready, 20, message=lambda: f"an answer\n{stack.log()}")
    return found


def test_style_ref_reaches_controlnet_and_the_info_says_it_was_followed(stack: Styles) -> None:
    d = stack.discord
    look = make_png(200, 150, "the look to follow")
    before = len(stack.sd.controlnet_images)
    command = d.slash(
        "imagine", user="ann", prompt="a harbour", style_ref=d.attachment(look, "look.png")
    )
    row = stack.delivered_row(command)
    assert row["status"] == "delivered" and row["input_path"] is None
    (received,) = stack.sd.controlnet_images[before]
    assert picture(received).tobytes() == picture(look).tobytes()
    (unit,) = stack.sd.controlnet_units[before]
    assert (unit["module"], unit["model"]) == ("ip-adapter_clip_sd15", IP_ADAPTER)
    info = d.click(message_of(stack, command), f"ib:info:{row['id']}", user="ann")
    assert "Followed 1 style reference picture." in answer(stack, info).content


def test_a_picture_and_a_style_ref_go_to_their_own_places(stack: Styles) -> None:
    d = stack.discord
    start, look = make_png(96, 96, "start"), make_png(64, 64, "look")
    before = len(stack.sd.controlnet_images)
    command = d.slash(
        "imagine",
        user="ann",
        prompt="a boat",
        image=d.attachment(start, "start.png"),
        style_ref=d.attachment(look, "look.png"),
    )
    assert stack.delivered_row(command)["status"] == "delivered"
    assert picture(stack.sd.init_images[-1]).tobytes() == picture(start).tobytes()
    (received,) = stack.sd.controlnet_images[before]
    assert picture(received).tobytes() == picture(look).tobytes()


def test_compare_makes_one_labelled_grid_with_u_and_v_per_tile(stack: Styles) -> None:
    d = stack.discord
    before = len(stack.sd.bodies)
    command = d.slash("imagine", user="bea", prompt="a lighthouse", style="anime,pixel-art,dark")
    grid = picture(final_image(stack, command).files[0].data)
    row = stack.delivered_row(command)
    assert (row["style"], row["count"]) == ("anime,pixel-art,dark", 3)
    bodies = stack.sd.bodies[before:]
    assert len(bodies) == 3 and {b["seed"] for b in bodies} == {row["seed"]}
    assert {b["batch_size"] for b in bodies} == {1}
    prompts = sorted(b["prompt"] for b in bodies)
    assert all("a lighthouse" in p for p in prompts) and len(set(prompts)) == 3
    assert grid.size[0] == 1544  # three tiles of 512 side by side, 4-pixel gaps
    assert all(labelled(grid, left, grid.size[1], 512) for left in (0, 516, 1032))
    gid = row["id"]
    rows_of_buttons = buttons(message_of(stack, command))
    assert [f"ib:upscale:{gid}:{k}" for k in (1, 2, 3)] in rows_of_buttons
    assert [f"ib:vary:{gid}:{k}" for k in (1, 2, 3)] in rows_of_buttons


def test_permutations_make_a_tile_per_choice_and_v_keeps_the_tiles_words(stack: Styles) -> None:
    d = stack.discord
    before = len(stack.sd.bodies)
    command = d.slash("imagine", user="cy", prompt="a {red, blue} kite", style="none")
    grid = picture(final_image(stack, command).files[0].data)
    row = stack.delivered_row(command)
    assert (row["prompt"], row["count"]) == ("a {red, blue} kite", 2)
    assert sorted(b["prompt"] for b in stack.sd.bodies[before:]) == ["a blue kite", "a red kite"]
    assert labelled(grid, 0, grid.size[1], 512) and labelled(grid, 516, grid.size[1], 512)
    # V2 varies the blue kite: the tile's own words, from its own picture.
    d.click(message_of(stack, command), f"ib:vary:{row['id']}:2", user="cy")

    def varied() -> dict[str, Any] | None:
        found = rows(stack.db, "SELECT * FROM generations WHERE parent_id = ?", (row["id"],))
        return found[0] if found and found[0]["status"] == "delivered" else None

    child = wait_for(varied, 30, message=lambda: f"the variation\n{stack.log()}")
    assert child["prompt"] == "a blue kite" and child["parent_index"] == 2
    assert stack.sd.bodies[-1]["prompt"] == "a blue kite" and "init_images" in stack.sd.bodies[-1]


def test_too_many_styles_are_refused_privately(stack: Styles) -> None:
    d = stack.discord
    command = d.slash("imagine", user="dee", prompt="a fox", style="anime,photo,dark,space,sketch")
    refused = answer(stack, command)
    assert refused.ephemeral and "5 styles to compare" in refused.content
    assert stack.row_for(command) is None

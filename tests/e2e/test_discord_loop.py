"""After the first picture on Discord, end to end: `imaginebot run` as a subprocess with a
private Redis, the fake AUTOMATIC1111 (batch, img2img, upscaler, interrogate) and the fake
Discord with its CDN. Grids and their buttons, U and V, Remix through a modal, Info,
pictures in (/imagine image:, /describe) and the refusals, a press from another server,
and a restart between the grid and the click.

Everything asserted is what reached a fake (the uploaded grid, the bytes the provider got,
the modal Discord was asked to show) or what the bot wrote to SQLite.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat, PngImagePlugin

from tests.fakes.discord_api import Interaction, Message
from tests.fakes.discord_cdn import most_at_once
from tests.fakes.discord_gateway import MODERATOR, SERVER_MANAGER, DiscordDriver
from tests.fakes.openai_images import FakeOpenAI, bomb_png, make_png
from tests.fakes.sdwebui_api import FakeSDWebUI
from tests.fakes.server import ServerThread
from tests.support import RedisServer, base_env, process, rows, thread_niceness, wait_for
from tests.support.discord_stack import Stack, final_image

pytestmark = pytest.mark.e2e

ELSEWHERE = "belongs to a picture from another chat"


class Loop(Stack):
    """The stack with AUTOMATIC1111 as the provider and a bot that can be restarted."""

    def __init__(self, root: Path, discord: DiscordDriver, sd: FakeSDWebUI, sd_url: str) -> None:
        self.root, self.discord, self.sd = root, discord, sd
        self.redis = RedisServer(root / "redis").start()
        self.env = base_env(
            root / "data",
            IMAGE_PROVIDERS="sdwebui",
            SDWEBUI_URL=sd_url,
            REDIS_URL=self.redis.url,
            MAX_PENDING_PER_USER="50",
            DAILY_LIMIT_PER_USER="500",
            **discord.env(),
        )
        self.db = root / "data" / "imaginebot.sqlite3"
        self._bot = ExitStack()

    def start(self) -> None:
        self._bot.enter_context(process(["run"], self.env, self.root, self.root / "bot.log"))
        wait_for(self.discord.connected, 30, message=lambda: f"gateway connection\n{self.log()}")

    def stop(self) -> None:
        self._bot.close()
        self._bot = ExitStack()
        wait_for(lambda: not self.discord.connected(), 10, message="the session to close")


@pytest.fixture(scope="module")
def loop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    root = tmp_path_factory.mktemp("discord-loop")
    sd = FakeSDWebUI()
    sd_server = ServerThread(sd.app()).start()
    driver = DiscordDriver().start()
    driver.other_guild, _ = driver.fake.add_guild("Other Server")  # type: ignore[attr-defined]
    stack = Loop(root, driver, sd, sd_server.url)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        driver.stop()
        stack.redis.stop()
        sd_server.stop()


def message_of(loop: Loop, interaction: Interaction) -> Message:
    message = loop.discord.server.run_sync(loop.discord.fake.original, interaction.id)
    assert message is not None
    return message


def buttons(message: Message) -> list[list[str]]:
    return [[c["custom_id"] for c in row["components"]] for row in message.components]


def labels(message: Message) -> list[list[str]]:
    return [[c.get("label", "") for c in row["components"]] for row in message.components]


def stored_images(loop: Loop, generation_id: str) -> list[bytes]:
    found = rows(
        loop.db,
        "SELECT path FROM generation_images WHERE generation_id = ? ORDER BY idx",
        (generation_id,),
    )
    return [Path(r["path"]).read_bytes() for r in found]


def answer(loop: Loop, interaction: Interaction) -> Message:
    """The bot's answer to an interaction once it has text (an ephemeral reply, or the
    deferred response edited into a plain message)."""
    d = loop.discord

    def ready() -> Message | None:
        message = d.server.run_sync(d.fake.original, interaction.id)
        return message if message is not None and message.content else None

    found: Message = wait_for(ready, 20, message=lambda: f"an answer\n{loop.log()}")
    return found


def picture(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return image.convert("RGB")


def difference(a: Image.Image, b: Image.Image) -> float:
    return float(sum(ImageStat.Stat(ImageChops.difference(a, b)).mean))


def grid_of_four(loop: Loop, command: Interaction) -> tuple[dict[str, Any], Message, bytes]:
    upload = final_image(loop, command).files[0].data
    row = loop.delivered_row(command)
    assert row["status"] == "delivered" and row["count"] == 4
    return row, message_of(loop, command), upload


@pytest.fixture(scope="module")
def first_grid(loop: Loop) -> tuple[dict[str, Any], Message, bytes, list[bytes]]:
    before = len(loop.sd.images)
    command = loop.discord.slash("imagine", prompt="a lighthouse at dusk", count=4)
    row, message, upload = grid_of_four(loop, command)
    made = loop.sd.images[before:]
    assert [b["batch_size"] for b in loop.sd.bodies[-1:]] == [4] and len(made) == 4
    return row, message, upload, made


def test_count_4_posts_one_message_with_the_grid_and_the_buttons(
    loop: Loop, first_grid: tuple[dict[str, Any], Message, bytes, list[bytes]]
) -> None:
    row, message, upload, made = first_grid
    # One message, one file: the grid. The originals are stored byte for byte.
    assert len(message.attachments) == 1 and not message.ephemeral
    assert stored_images(loop, row["id"]) == made
    grid = picture(upload)
    assert grid.size == (1028, 1028)  # 2x2 tiles of 512 with a 4-pixel gap
    corners = [(0, 0), (516, 0), (0, 516), (516, 516)]
    originals = [picture(data).resize((512, 512)) for data in made]
    for index, (left, top) in enumerate(corners):
        tile = grid.crop((left, top, left + 512, top + 512))
        distances = [difference(tile, original) for original in originals]
        assert distances.index(min(distances)) == index and distances[index] < 10
    gid = row["id"]
    assert buttons(message) == [
        [f"ib:upscale:{gid}:{i}" for i in range(1, 5)],
        [f"ib:vary:{gid}:{i}" for i in range(1, 5)],
        [f"ib:{a}:{gid}" for a in ("reroll", "restyle", "remix", "edit", "info")],
        [f"ib:delete:{gid}", f"ib:share:{gid}"],
    ]
    assert labels(message)[:2] == [["U1", "U2", "U3", "U4"], ["V1", "V2", "V3", "V4"]]


def test_v2_sends_image_2_to_the_provider_and_posts_a_new_grid(
    loop: Loop, first_grid: tuple[dict[str, Any], Message, bytes, list[bytes]]
) -> None:
    row, message, upload, made = first_grid
    d = loop.discord
    vary = d.click(message, f"ib:vary:{row['id']}:2", user="bob")
    new_upload = final_image(loop, vary).files[0].data
    varied = loop.delivered_row(vary)
    assert loop.sd.init_images[-1] == made[1]  # exactly image 2, as the provider made it
    assert loop.sd.bodies[-1]["denoising_strength"] == 0.6
    assert varied["parent_id"] == row["id"] and varied["parent_index"] == 2
    assert varied["count"] == 4 and varied["kind"] == "vary"
    new_message = message_of(loop, vary)
    assert new_message.id != message.id and new_upload != upload
    assert picture(new_upload).size == (1028, 1028)
    assert new_message.interaction_metadata is not None
    assert new_message.interaction_metadata["interacted_message_id"] == message.id
    assert len(buttons(new_message)) == 4  # U, V, then the result actions in two rows


def test_u3_sends_image_3_to_the_upscaler_and_replies_with_its_own_buttons(
    loop: Loop, first_grid: tuple[dict[str, Any], Message, bytes, list[bytes]]
) -> None:
    row, message, _upload, made = first_grid
    d = loop.discord
    upscale = d.click(message, f"ib:upscale:{row['id']}:3", user="carol")
    result = final_image(loop, upscale).files[0].data
    upscaled = loop.delivered_row(upscale)
    sent, body = loop.sd.upscaled[-1]
    assert sent == made[2] and body["upscaler_1"]
    assert upscaled["kind"] == "upscale" and upscaled["parent_index"] == 3
    assert picture(result).size == (4096, 4096)
    reply = message_of(loop, upscale)
    assert reply.interaction_metadata is not None
    assert reply.interaction_metadata["interacted_message_id"] == message.id
    gid = upscaled["id"]
    assert buttons(reply) == [
        [f"ib:vary:{gid}:1"],
        [f"ib:{a}:{gid}" for a in ("remix", "edit", "info", "delete", "share")],
    ]


def test_remix_opens_a_prefilled_modal_and_runs_the_edited_prompt(
    loop: Loop, first_grid: tuple[dict[str, Any], Message, bytes, list[bytes]]
) -> None:
    row, message, _upload, _made = first_grid
    d = loop.discord
    opened = d.click(message, f"ib:remix:{row['id']}", user="dana")
    wait_for(lambda: d.writes(opened), 15, message=lambda: f"the modal\n{loop.log()}")
    (callback,) = d.writes(opened)
    assert callback.callback_type == 9
    inputs = {
        r["components"][0]["custom_id"]: r["components"][0].get("value")
        for r in callback.body["components"]
    }
    assert inputs == {"prompt": "a lighthouse at dusk", "negative": None}
    before = len(loop.sd.bodies)
    submitted = d.submit_modal(
        opened, {"prompt": "a lighthouse at dawn", "negative": "boats"}, user="dana"
    )
    remixed = loop.delivered_row(submitted)
    assert remixed["status"] == "delivered" and remixed["kind"] == "remix"
    assert remixed["prompt"] == "a lighthouse at dawn" and remixed["negative_prompt"] == "boats"
    assert (remixed["style"], remixed["aspect"], remixed["count"]) == (
        row["style"],
        row["aspect"],
        4,
    )
    body = loop.sd.bodies[before]
    assert "a lighthouse at dawn" in body["prompt"] and "boats" in body["negative_prompt"]
    assert body["batch_size"] == 4


def test_info_shows_the_seeds_privately(
    loop: Loop, first_grid: tuple[dict[str, Any], Message, bytes, list[bytes]]
) -> None:
    row, message, _upload, _made = first_grid
    info = loop.discord.click(message, f"ib:info:{row['id']}", user="erin")
    shown = answer(loop, info)
    assert shown.ephemeral
    seeds = [
        r["seed"]
        for r in rows(
            loop.db, "SELECT seed FROM generation_images WHERE generation_id = ?", (row["id"],)
        )
    ]
    assert len(seeds) == 4
    for seed in seeds:
        assert str(seed) in shown.content
    assert "sdwebui" in shown.content and "a lighthouse at dusk" in shown.content


def test_presses_naming_a_grid_of_another_server_are_refused(
    loop: Loop, first_grid: tuple[dict[str, Any], Message, bytes, list[bytes]]
) -> None:
    row, _message, _upload, _made = first_grid
    d = loop.discord
    theirs = d.slash("imagine", user="mallory", guild=d.other_guild, prompt="a tower")  # type: ignore[attr-defined]
    final_image(loop, theirs)
    their_message = message_of(loop, theirs)
    calls, upscales, generations = len(loop.sd.bodies), len(loop.sd.upscaled), count_rows(loop)
    gid = row["id"]
    for forged in (
        f"ib:upscale:{gid}:1",
        f"ib:vary:{gid}:2",
        f"ib:remix:{gid}",
        f"ib:info:{gid}",
        f"ib:imagine-this:{gid}:1",
    ):
        press = d.forge(their_message, forged, user="mallory", permissions=MODERATOR)
        shown = answer(loop, press)
        assert ELSEWHERE in shown.content and shown.ephemeral, forged
        assert d.fake.interactions[press.id].modal is None
    assert (len(loop.sd.bodies), len(loop.sd.upscaled)) == (calls, upscales)
    assert count_rows(loop) == generations


def count_rows(loop: Loop) -> int:
    return len(rows(loop.db, "SELECT id FROM generations"))


def png_with_parameters(prompt: str) -> bytes:
    image = Image.new("RGB", (96, 64), (200, 40, 90))
    text = PngImagePlugin.PngInfo()
    text.add_text("parameters", f"{prompt}\nSteps: 20, Seed: 7")
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=text)
    return out.getvalue()


def test_imagine_from_an_attached_picture_sends_it_to_the_provider(loop: Loop) -> None:
    d = loop.discord
    sent = make_png(320, 240, "my sketch")
    attachment = d.attachment(sent, "sketch.png")
    d.cdn.delay = 2.5  # a slow download must not hold up the acknowledgement
    try:
        command = d.slash(
            "imagine", user="fay", prompt="a watercolour", image=attachment, strength=0.35
        )
        row = loop.delivered_row(command)
    finally:
        d.cdn.delay = 0.0
    assert row["status"] == "delivered" and row["strength"] == 0.35
    first = d.writes(command)[0]
    assert first.callback_type == 5  # acknowledged before the download
    assert first.at - d.fake.interactions[command.id].dispatched_at < 3.0
    received = loop.sd.init_images[-1]
    assert picture(received).tobytes() == picture(sent).tobytes()
    assert loop.sd.bodies[-1]["denoising_strength"] == 0.35
    (hit,) = [h for h in d.cdn.hits if attachment["id"] in h.path]
    assert hit.status == 200 and hit.at > first.at  # fetched after the acknowledgement
    assert not [e for e in d.fake.errors if "acknowledged" in e]


def test_attached_pictures_are_fetched_two_at_a_time_after_their_acknowledgements(
    loop: Loop,
) -> None:
    """Each picture in hand holds megabytes until its job is queued: a bot process fetches
    and cleans two at a time (PICTURES_AT_ONCE); none waits for that to be acknowledged."""
    d = loop.discord
    users = [f"painter{i}" for i in range(5)]
    attachments = [d.attachment(make_png(64, 48, user), f"{user}.png") for user in users]
    hits_before = len(d.cdn.hits)
    d.cdn.delay = 0.4
    try:
        commands = [
            d.slash("imagine", user=user, prompt=f"a burst picture by {user}", image=attachment)
            for user, attachment in zip(users, attachments, strict=True)
        ]
        settled = [loop.delivered_row(command) for command in commands]
    finally:
        d.cdn.delay = 0.0
    assert [row["status"] for row in settled] == ["delivered"] * len(users)
    hits = d.cdn.hits[hits_before:]
    assert len(hits) == len(users) and most_at_once(hits) == 2
    acknowledged = [d.writes(command)[0] for command in commands]
    assert all(first.callback_type == 5 for first in acknowledged)
    # Every command was acknowledged before the last pictures were even asked for.
    assert max(first.at for first in acknowledged) < sorted(h.at for h in hits)[-2]


def test_describe_lists_the_pictures_own_prompt_first_and_imagine_this_runs_one(
    loop: Loop,
) -> None:
    d = loop.discord
    attachment = d.attachment(png_with_parameters("a red kite over hills"), "kite.png")
    command = d.slash("describe", user="gus", image=attachment)
    row = loop.delivered_row(command)
    assert row["status"] == "delivered" and row["kind"] == "describe"
    message = message_of(loop, command)
    description = message.embeds[0]["description"]
    assert description.index("a red kite over hills") < description.index("a fox sitting")
    gid = row["id"]
    assert buttons(message) == [
        [f"ib:imagine-this:{gid}:1", f"ib:imagine-this:{gid}:2"],
        [f"ib:info:{gid}", f"ib:delete:{gid}"],
    ]
    before = len(loop.sd.bodies)
    follow = d.click(message, f"ib:imagine-this:{gid}:2", user="gus")
    made = loop.delivered_row(follow)
    assert made["prompt"] == loop.sd.caption and made["parent_id"] == gid
    assert loop.sd.caption in loop.sd.bodies[before]["prompt"]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("over the cap", "the most this bot takes is 10 MB"),
        ("over the cap while streaming", "larger than the 10 MB this bot takes"),
        ("text named .png", "not a picture"),
        ("20000x20000 png", "pixels"),
        ("not the cdn", "does not come from Discord"),
    ],
)
def test_bad_attachments_get_a_plain_answer_and_cost_no_provider_call(
    loop: Loop, case: str, expected: str
) -> None:
    d = loop.discord
    if case == "over the cap":
        attachment = d.attachment(b"\x89PNG" + b"\0" * 12_000_000, "huge.png")
    elif case == "over the cap while streaming":  # declared small, sent without a length
        attachment = d.attachment(b"\x89PNG" + b"\0" * 12_000_000, "big.png", declared_size=900)
    elif case == "text named .png":
        attachment = d.attachment(b"hello, this is a note\n" * 50, "note.png")
    elif case == "20000x20000 png":
        attachment = d.attachment(bomb_png(20000, 20000), "bomb.png")
    else:  # a URL on another host (the API server), however Discord-like its path
        attachment = d.attachment(make_png(64, 64, "x"), "x.png", host=d.fake.base_url)
    hits, calls, generations = len(d.cdn.hits), len(loop.sd.bodies), count_rows(loop)
    command = d.slash("imagine", user="hal", prompt="from my file", image=attachment)
    shown = answer(loop, command)
    assert expected in shown.content.lower() or expected in shown.content, shown.content
    assert len(loop.sd.bodies) == calls and not loop.sd.init_images[calls:]
    assert count_rows(loop) == generations
    fetched = len(d.cdn.hits) - hits
    downloaded = ("text named .png", "20000x20000 png", "over the cap while streaming")
    assert fetched == (1 if case in downloaded else 0)
    if case in ("over the cap", "not the cdn"):
        # Refused from what Discord declared: at once, privately, before any download.
        assert shown.ephemeral and d.writes(command)[0].callback_type == 4


def test_admins_cap_the_count_and_settings_show_it(loop: Loop) -> None:
    d = loop.discord
    cap = d.slash("settings limits", user="admin", permissions=SERVER_MANAGER, **{"per-request": 2})
    assert "up to 2 pictures per request" in answer(loop, cap).content
    shown = d.slash("settings show", user="admin", permissions=SERVER_MANAGER)
    assert "up to 2 pictures per request" in answer(loop, shown).content
    calls = len(loop.sd.bodies)
    refused = d.slash("imagine", user="ivy", prompt="four foxes", count=4)
    assert "2 is the most per request here" in answer(loop, refused).content
    assert len(loop.sd.bodies) == calls
    reset = d.slash("settings limits", user="admin", permissions=SERVER_MANAGER, reset=True)
    assert "up to 4 pictures per request" in answer(loop, reset).content


def test_a_restart_between_the_grid_and_the_click_still_works(loop: Loop) -> None:
    d = loop.discord
    command = d.slash("imagine", user="jo", prompt="a restart-proof grid", count=3)
    row = loop.delivered_row(command)
    message = message_of(loop, command)
    made = stored_images(loop, row["id"])
    assert len(made) == 3 and labels(message)[0] == ["U1", "U2", "U3"]
    loop.stop()
    loop.start()
    vary = d.click(message, f"ib:vary:{row['id']}:3", user="jo")
    varied = loop.delivered_row(vary)
    assert varied["status"] == "delivered" and varied["parent_index"] == 3
    assert loop.sd.init_images[-1] == made[2]


def test_u_without_an_upscaler_posts_the_original_file(
    tmp_path: Path, discord: DiscordDriver, fake_openai: FakeOpenAI
) -> None:
    env = base_env(
        tmp_path / "data",
        OPENAI_API_KEY=fake_openai.api_key,
        OPENAI_BASE_URL=f"{fake_openai.base_url}/v1",
        **discord.env(),
    )
    stack = Stack.__new__(Stack)
    stack.root, stack.discord, stack.openai, stack.env = tmp_path, discord, fake_openai, env
    stack.db = tmp_path / "data" / "imaginebot.sqlite3"
    with process(["run"], env, tmp_path, tmp_path / "bot.log") as bot:
        wait_for(discord.connected, 30, message=lambda: f"gateway\n{stack.log()}")
        command = discord.slash("imagine", prompt="two red kites", count=2)
        row = stack.delivered_row(command)
        # Its worker composed the grid in the bot's process: WORKER_NICENESS is not for it.
        assert thread_niceness(bot.pid)[bot.pid] == os.getpriority(os.PRIO_PROCESS, 0)
        grid = discord.server.run_sync(discord.fake.original, command.id)
        assert grid is not None and row["status"] == "delivered"
        assert [Path(p).read_bytes() for p in image_paths(stack, row["id"])] == fake_openai.images
        calls = len(fake_openai.calls)
        upscale = discord.click(grid, f"ib:upscale:{row['id']}:2")
        posted = final_image(stack, upscale).files[0].data
        assert posted == fake_openai.images[1] and len(fake_openai.calls) == calls
        assert stack.delivered_row(upscale)["provider"] == "original"


def image_paths(stack: Stack, generation_id: str) -> list[str]:
    found = rows(
        stack.db,
        "SELECT path FROM generation_images WHERE generation_id = ? ORDER BY idx",
        (generation_id,),
    )
    return [r["path"] for r in found]

"""Style references, compare and permutations on Telegram, through python-telegram-bot long
polling the fake Bot API and the real openai client against the fake images API
(tests/support/telegram_harness.py): what reached the fakes (the pictures of the edit, the
prompts, the posted grid and its buttons, the Info's alert) and the rows the bot wrote."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image, ImageChops, ImageStat

from tests.fakes.openai_images import make_png
from tests.fakes.telegram_api import photo_bytes
from tests.support.telegram_harness import (
    ALICE,
    GROUP,
    TelegramHarness,
    eventually,
    telegram_harness,
)


def pixels(data: bytes) -> tuple[tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size, image.convert("RGB").tobytes()


def alike(one: bytes, other: bytes) -> bool:
    with Image.open(io.BytesIO(one)) as a, Image.open(io.BytesIO(other)) as b:
        if a.size != b.size:
            return False
        difference = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
        return max(ImageStat.Stat(difference).mean) < 4  # JPEG moves edges, not the picture


def band_is_labelled(grid: bytes, left: int, bottom: int, width: int) -> bool:
    """A dark band with light text along the bottom of the tile ending at `bottom`."""
    with Image.open(io.BytesIO(grid)) as image:
        band = image.crop((left, bottom - 30, left + width, bottom - 4)).convert("L")
        counts = band.histogram()  # pixels per grey level
    dark = sum(counts[:50]) / sum(counts)
    return dark > 0.6 and any(counts[201:])  # a dark band with some light text on it


async def posted_photo(
    bot: TelegramHarness, command: dict[str, Any]
) -> tuple[dict[str, Any], bytes]:
    def settled() -> dict[str, Any] | None:
        row = bot.row_replying_to(command)
        return row if row and row["status"] in ("delivered", "failed") else None

    row = await eventually(settled, 30, message="the request to settle")
    assert row["status"] == "delivered", row
    t = bot.telegram
    (reply,) = t.replies_to(command)
    (call,) = [
        c
        for c in t.server.run_sync(t.fake.photos_in, int(row["chat_id"]))
        if int(c.params.get("message_id", 0) or 0) == reply["message_id"]
    ]
    return reply, photo_bytes(call)


async def test_a_photo_captioned_with_style_ref_is_followed_and_the_info_says_so(
    tmp_path: Path,
) -> None:
    look = make_png(160, 120, "the look")
    async with telegram_harness(tmp_path) as bot:
        t = bot.telegram
        command = t.send_picture(GROUP, ALICE, look, "/imagine a harbour at dawn style_ref")
        reply, _photo = await posted_photo(bot, command)
        (sent,) = bot.openai.edit_image_sets  # one edit: the reference, no picture to start from
        # Telegram keeps a photo as a JPEG: the same picture, within its rounding.
        (received,) = sent
        assert alike(received, look)
        assert bot.openai.edits[0]["input_fidelity"] == "high"
        row = bot.row_replying_to(command)
        assert row is not None and row["input_path"] is None  # a reference, not a start
        t.press(ALICE, reply, f"ib:i:{row['id']}")
        alert = await _alert(bot)
        assert "Followed 1 style reference picture." in alert


async def test_style_ref_without_a_photo_is_answered_plainly(tmp_path: Path) -> None:
    async with telegram_harness(tmp_path) as bot:
        command = bot.telegram.send(GROUP, ALICE, "/imagine a harbour style_ref")
        assert "style_ref goes with a picture" in (await bot.answer(command))["text"]
        assert bot.row_replying_to(command) is None and bot.openai.calls == []


async def test_compare_posts_one_labelled_grid_with_a_tile_per_style(tmp_path: Path) -> None:
    async with telegram_harness(tmp_path) as bot:
        styles = bot.app.service.styles
        command = bot.telegram.send(GROUP, ALICE, "/imagine a lighthouse style:anime,pixel-art")
        reply, grid = await posted_photo(bot, command)
        row = bot.row_replying_to(command)
        assert row is not None and (row["style"], row["count"]) == ("anime,pixel-art", 2)
        made = sorted(bot.openai.image_prompts)
        assert made == sorted(styles.get(s).render("a lighthouse") for s in ("anime", "pixel-art"))
        seeds = {c.body.get("seed") for c in bot.openai.calls}
        assert len(bot.openai.calls) == 2 and len(seeds) == 1  # same seed (OpenAI takes none)
        # Two 1024 px pictures side by side at 512 px each, each tile labelled.
        assert pixels(grid)[0] == (1028, 512)
        assert band_is_labelled(grid, 0, 512, 512) and band_is_labelled(grid, 516, 512, 512)
        buttons = [
            [b["callback_data"] for b in r] for r in reply["reply_markup"]["inline_keyboard"]
        ]
        assert [f"ib:u:{row['id']}:1", f"ib:u:{row['id']}:2"] in buttons
        assert [f"ib:v:{row['id']}:1", f"ib:v:{row['id']}:2"] in buttons


async def test_permutations_make_one_tile_per_choice(tmp_path: Path) -> None:
    async with telegram_harness(tmp_path) as bot:
        none = bot.app.service.styles.get("none")
        command = bot.telegram.send(GROUP, ALICE, "/imagine a {red, blue, golden} kite style:none")
        _reply, grid = await posted_photo(bot, command)
        assert sorted(bot.openai.image_prompts) == sorted(
            none.render(f"a {c} kite") for c in ("red", "blue", "golden")
        )
        row = bot.row_replying_to(command)
        assert row is not None and (row["prompt"], row["count"]) == (
            "a {red, blue, golden} kite",
            3,
        )
        assert pixels(grid)[0] == (1544, 512)
        assert all(band_is_labelled(grid, left, 512, 512) for left in (0, 516, 1032))


async def test_a_count_four_grid_has_no_labels(tmp_path: Path) -> None:
    """The control for the label check above: a plain grid's tiles end in the picture."""
    async with telegram_harness(tmp_path) as bot:
        command = bot.telegram.send(GROUP, ALICE, "/imagine a kite count:2")
        _reply, grid = await posted_photo(bot, command)
        assert not band_is_labelled(grid, 0, 512, 512)


async def test_what_makes_no_grid_is_refused_before_anything_is_queued(tmp_path: Path) -> None:
    async with telegram_harness(tmp_path) as bot:
        t = bot.telegram
        many = t.send(GROUP, ALICE, "/imagine a {a, b, c} {d, e} fox")
        styles = t.send(GROUP, ALICE, "/imagine a fox style:anime,photo,dark,space,sketch")
        broken = t.send(GROUP, ALICE, "/imagine a {red fox")
        assert "at most 4 fit in one grid" in (await bot.answer(many))["text"]
        assert "5 styles to compare" in (await bot.answer(styles))["text"]
        assert "never closed" in (await bot.answer(broken))["text"]
        assert bot.rows() == [] and bot.openai.calls == []


async def _alert(bot: TelegramHarness) -> str:
    t = bot.telegram

    def answered() -> str | None:
        calls = [c for c in t.fake.calls if c.method == "answerCallbackQuery" and c.ok]
        texts = [str(c.params.get("text") or "") for c in calls]
        return next((text for text in texts if text), None)

    return await eventually(answered, message="the Info alert")

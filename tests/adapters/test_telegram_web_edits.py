"""Telegram's edit desk, in-process through python-telegram-bot: what the brush editor hands it
is checked against the picture's requester and the group's admins (asked with
`getChatMember`), queued under the picture, and delivered there; the link's use is claimed
only for an edit the core accepted."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from bot.adapters.telegram.adapter import TelegramAdapter
from bot.adapters.telegram.web_edits import TelegramEditDesk
from bot.core.errors import UserFacingError
from bot.web.edit_orders import USED, EditOrder, EditRefused
from bot.web.editor_links import make_link
from tests.support.telegram_harness import ADMIN, ALICE, BOB, GROUP, eventually, telegram_harness


def mask(size: tuple[int, int]) -> bytes:
    image = Image.new("1", size, 0)
    image.paste(1, (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


class Claims:
    def __init__(self, *answers: bool) -> None:
        self.answers = list(answers)
        self.asked = 0

    async def __call__(self) -> bool:
        self.asked += 1
        return self.answers.pop(0)


async def test_only_the_requester_or_an_admin_edits_and_the_result_replies_to_the_picture(
    tmp_path: Path,
) -> None:
    async with telegram_harness(tmp_path) as bot:
        command = bot.telegram.send(GROUP, ALICE, "/imagine a lighthouse in a storm")
        row = await bot.settled_row(command)
        assert row["status"] == "delivered"
        (adapter,) = bot.app.adapters
        assert isinstance(adapter, TelegramAdapter)
        desk = TelegramEditDesk(bot.app.service, adapter.bot, adapter.status, adapter.rights)
        link = make_link(
            "telegram", str(GROUP), row["id"], user_id=str(ALICE), admin=False, minutes=5
        )
        size = (row["image_width"], row["image_height"])

        def order(who: int, prompt: str) -> EditOrder:
            return EditOrder(link, str(who), "", 1, mask(size), prompt)

        # Bob is neither the requester nor an admin: refused, the link not spent.
        claims = Claims(True, True, False)
        with pytest.raises(UserFacingError, match="Only the person who asked"):
            await desk.submit(order(BOB, "a red lighthouse"), claims)
        assert claims.asked == 0
        # An admin of the group may; so may Alice. A link already used is refused.
        assert "Queued" in await desk.submit(order(ADMIN, "a red lighthouse"), claims)
        assert "Queued" in await desk.submit(order(ALICE, "a blue lighthouse"), claims)
        with pytest.raises(EditRefused, match=USED.message):
            await desk.submit(order(ALICE, "a green lighthouse"), claims)
        assert claims.asked == 3

        picture = next(
            m
            for (cid, _), m in list(bot.telegram.fake.messages.items())
            if cid == GROUP and "photo" in m and m.get("reply_markup")
        )

        def edited() -> list[dict[str, object]] | None:
            found = [r for r in bot.rows() if r["kind"] == "edit" and r["status"] == "delivered"]
            return found if len(found) == 2 else None

        rows = await eventually(edited, 60, message="two delivered edits")
        assert {(r["user_id"], r["prompt"]) for r in rows} == {
            (str(ADMIN), "a red lighthouse"),
            (str(ALICE), "a blue lighthouse"),
        }
        replies = [m for m in bot.telegram.replies_to(picture) if "photo" in m]
        assert len(replies) == 2 and all(m["reply_markup"] for m in replies)
        assert len(bot.openai.edit_masks) == 2

"""The buttons under a Telegram result follow what the core offers, within 64 bytes each."""

from __future__ import annotations

import time

from bot.adapters.telegram.result_buttons import edit_keyboard, result_keyboard
from bot.core.models import FollowUps, Generation, Kind, Status, StoredImage


def generation(**changes: object) -> Generation:
    values: dict[str, object] = {
        "id": "0123456789abcdef",
        "platform": "telegram",
        "scope_id": "-100",
        "chat_id": "-100",
        "thread_id": None,
        "reply_to_message_id": "5",
        "user_id": "1",
        "user_name": "a",
        "prompt": "p",
        "negative_prompt": None,
        "style": "none",
        "aspect": "1:1",
        "seed": 1,
        "parent_id": None,
        "provider": "sdwebui",
        "model": None,
        "status": Status.DONE,
        "failure_code": None,
        "failure_reason": None,
        "revised_prompt": None,
        "image_path": "/x.jpg",
        "image_width": 10,
        "image_height": 10,
        "handle": {},
        "delivery_attempts": 0,
        "delivery_error": None,
        "provider_calls": 1,
        "created_at": time.time(),
        "started_at": None,
        "finished_at": None,
        "delivered_at": None,
    }
    values.update(changes)
    return Generation.model_validate(values)


def data(markup: object) -> list[list[str]]:
    return [[str(b.callback_data) for b in row] for row in markup.inline_keyboard]  # type: ignore[attr-defined]


ALL = FollowUps(
    upscale=True, vary=True, remix=True, reroll=True, restyle=True, info=True, delete=True
)


def images(count: int) -> tuple[StoredImage, ...]:
    return tuple(
        StoredImage(index=k, path=f"/{k}.png", width=8, height=8) for k in range(1, count + 1)
    )


def test_a_grid_of_three_gets_u1_to_u3_and_v1_to_v3() -> None:
    rows = data(result_keyboard(generation(count=3, images=images(3), follow_ups=ALL)))
    gid = "0123456789abcdef"
    assert rows[0] == [f"ib:u:{gid}:{k}" for k in (1, 2, 3)]
    assert rows[1] == [f"ib:v:{gid}:{k}" for k in (1, 2, 3)]
    assert rows[2:] == [
        [f"ib:r:{gid}", f"ib:s:{gid}", f"ib:m:{gid}"],
        [f"ib:i:{gid}", f"ib:D:{gid}"],
    ]


def test_no_v_buttons_when_no_provider_takes_an_image() -> None:
    offers = ALL.model_copy(update={"vary": False})
    rows = data(result_keyboard(generation(count=4, images=images(4), follow_ups=offers)))
    assert not any(d.startswith("ib:v:") for row in rows for d in row)


def test_a_describe_offers_imagine_this_per_suggestion() -> None:
    described = generation(
        kind=Kind.DESCRIBE,
        suggestions=("one", "two"),
        follow_ups=FollowUps(info=True, delete=True, imagine_suggestions=True),
    )
    rows = data(result_keyboard(described))
    gid = "0123456789abcdef"
    assert rows == [[f"ib:t:{gid}:1"], [f"ib:t:{gid}:2"], [f"ib:D:{gid}"]]


def test_callback_data_fits_telegrams_64_bytes() -> None:
    rows = data(result_keyboard(generation(count=4, images=images(4), follow_ups=ALL)))
    assert all(len(d.encode()) <= 64 for row in rows for d in row)


def test_share_shows_only_with_inline_mode_and_switches_to_a_chosen_chat() -> None:
    offered = generation(follow_ups=FollowUps(info=True, delete=True, share=True))
    without = [b.text for row in result_keyboard(offered).inline_keyboard for b in row]
    assert "📤 Share" not in without
    keyboard = result_keyboard(offered, share=True)
    (share,) = [b for row in keyboard.inline_keyboard for b in row if b.text == "📤 Share"]
    assert share.callback_data is None
    chosen = share.switch_inline_query_chosen_chat
    assert chosen is not None and chosen.query == "share:0123456789abcdef"
    assert chosen.allow_group_chats and chosen.allow_user_chats and not chosen.allow_bot_chats


def test_edit_opens_the_edits_of_one_image_with_a_way_back() -> None:
    images = tuple(
        StoredImage(index=i, path=f"/x-{i}.png", width=10, height=10, seed=i) for i in range(1, 3)
    )
    offers = FollowUps(info=True, delete=True, outpaint=True, edit_words=True)
    grid = generation(images=images, count=2, aspect="16:9", follow_ups=offers)
    gid = grid.id
    assert data(result_keyboard(grid))[-1] == [f"ib:e:{gid}", f"ib:i:{gid}", f"ib:D:{gid}"]
    assert data(edit_keyboard(grid, 2)) == [
        [f"ib:z:{gid}:2:1.5", f"ib:z:{gid}:2:2"],
        [f"ib:p:{gid}:2:{way}" for way in ("left", "right", "up", "down")],
        [f"ib:Q:{gid}:2", f"ib:w:{gid}:2"],
        [f"ib:E:{gid}:1", f"ib:E:{gid}:2"],
        [f"ib:b:{gid}"],
    ]
    # No edit the chain cannot make; no Edit button at all when it can make none.
    square = generation(images=images[:1], follow_ups=FollowUps(edit_words=True))
    assert data(edit_keyboard(square, 1)) == [[f"ib:w:{gid}:1"], [f"ib:b:{gid}"]]
    plain = data(result_keyboard(generation(images=images[:1])))
    assert f"ib:e:{gid}" not in [d for row in plain for d in row]

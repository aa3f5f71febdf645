"""The Edit menu on Discord (docs/editing.md): the real bot process and discord.py against the
fake Discord and the fake OpenAI images API. Edit answers with an ephemeral menu for the
requester (or a moderator); zoom and square send the padded picture with its alpha mask to
`images.edit`; Edit by words is a modal whose words are the edit's prompt; a refused edit is
told; a chain that cannot edit offers no Edit and makes nothing from a forged press."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from tests.fakes.discord_api import Interaction, Message
from tests.fakes.discord_gateway import MODERATOR
from tests.support import rows, wait_for
from tests.support.discord_stack import (
    Stack,
    delivered,
    ephemeral_answer,
    final_image,
    running_discord_stack,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_discord_stack(tmp_path_factory.mktemp("discord-edits")) as built:
        yield built


def opened(data: bytes) -> Image.Image:
    with Image.open(io.BytesIO(data)) as picture:
        picture.load()
        return picture.copy()


def custom_ids(message: Message) -> list[str]:
    return [c["custom_id"] for row in message.components for c in row["components"]]


def answer_message(stack: Stack, interaction: Interaction) -> Message:
    d = stack.discord
    wait_for(lambda: d.writes(interaction), 15, message=lambda: f"an answer\n{stack.log()}")
    message = d.server.run_sync(d.fake.original, interaction.id)
    assert message is not None
    return message


def child(stack: Stack, parent: str, kind: str) -> dict[str, Any]:
    def settled() -> dict[str, Any] | None:
        found = [r for r in stack_rows(stack) if r["parent_id"] == parent and r["kind"] == kind]
        return found[0] if found and found[0]["status"] in ("delivered", "failed") else None

    found: dict[str, Any] = wait_for(settled, 40, message=lambda: f"the {kind}\n{stack.log()}")
    return found


def stack_rows(stack: Stack) -> list[dict[str, Any]]:
    return rows(stack.db, "SELECT * FROM generations ORDER BY created_at")


def test_the_edit_menu_zooms_squares_and_edits_by_words(stack: Stack) -> None:
    d = stack.discord
    row, message = delivered(stack, d.slash("imagine", prompt="a harbour at dusk", aspect="3:2"))
    gid = row["id"]
    assert f"ib:edit:{gid}" in custom_ids(message)

    refused = d.click(message, f"ib:edit:{gid}", user="bob")
    assert "Only the person who asked" in ephemeral_answer(stack, refused)

    menu = answer_message(stack, d.click(message, f"ib:edit:{gid}"))
    assert menu.ephemeral and "Edit image 1" in menu.content
    assert custom_ids(menu) == [
        f"ib:zoom:{gid}:1:1.5",
        f"ib:zoom:{gid}:1:2",
        f"ib:square:{gid}:1",
        f"ib:edit-words:{gid}:1",
        f"ib:pan:{gid}:1:left",
        f"ib:pan:{gid}:1:right",
        f"ib:pan:{gid}:1:up",
        f"ib:pan:{gid}:1:down",
    ]

    masks = len(stack.openai.edit_masks)
    zoom_press = d.click(menu, f"ib:zoom:{gid}:1:2")
    zoom = child(stack, gid, "zoom")
    assert zoom["status"] == "delivered" and zoom["edit_note"].startswith("zoomed out 2x")
    # Pressed in the ephemeral menu, it names the picture's message (a late result replies to it).
    assert zoom["reply_to_message_id"] == message.id
    upload = final_image(stack, zoom_press)
    assert upload.files  # the new picture is the press's own response, public
    shown = d.server.run_sync(d.fake.original, zoom_press.id)
    assert shown is not None and not shown.ephemeral and shown.channel_id == message.channel_id
    sent, mask = opened(stack.openai.edit_images[-1]), opened(stack.openai.edit_masks[masks])
    assert mask.size == sent.size and mask.mode == "RGBA"
    alpha = mask.getchannel("A")
    assert (
        alpha.getpixel((2, 2)) == 0 and alpha.getpixel((sent.width // 2, sent.height // 2)) == 255
    )

    info = d.click(shown, f"ib:info:{zoom['id']}")
    assert "zoomed out 2x" in ephemeral_answer(stack, info)

    d.click(menu, f"ib:square:{gid}:1")
    square = child(stack, gid, "square")
    assert square["status"] == "delivered" and square["aspect"] == "1:1"

    asked = d.click(menu, f"ib:edit-words:{gid}:1")
    wait_for(
        lambda: d.fake.interactions[asked.id].modal, 15, message=lambda: f"the modal\n{stack.log()}"
    )
    d.submit_modal(asked, {"words": "make it night"})
    edited = child(stack, gid, "edit")
    assert edited["status"] == "delivered" and edited["prompt"] == "make it night"
    assert edited["edit_note"] == "edited: make it night (image 1)"
    assert stack.openai.edits[-1]["prompt"] == "make it night"


def test_a_moderator_may_edit_and_a_refused_edit_is_told(stack: Stack) -> None:
    d = stack.discord
    row, message = delivered(stack, d.slash("imagine", prompt="a quiet street"))
    gid = row["id"]
    menu = answer_message(
        stack, d.click(message, f"ib:edit:{gid}", user="bob", permissions=MODERATOR)
    )
    assert f"ib:square:{gid}:1" not in custom_ids(menu)  # square already
    stack.openai.script.append("refuse")
    press = d.click(menu, f"ib:pan:{gid}:1:left", user="bob", permissions=MODERATOR)
    panned = child(stack, gid, "pan")
    assert panned["status"] == "failed" and "content policy" in panned["failure_reason"]
    assert panned["user_id"] == str(d.user("bob")["id"])
    # The reason goes to the presser privately (an ephemeral follow-up), with no picture.
    told = wait_for(
        lambda: [
            w
            for w in d.writes(press)
            if w.kind == "followup" and "content policy" in str(w.body.get("content"))
        ],
        20,
        message=lambda: f"the refusal\n{stack.log()}",
    )
    assert not told[0].files


def test_no_edit_is_offered_or_made_when_no_provider_can(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    root = tmp_path_factory.mktemp("discord-no-edits")
    with running_discord_stack(root, OPENAI_IMAGE_MODEL="dall-e-3") as stack:
        d = stack.discord
        row, message = delivered(stack, d.slash("imagine", prompt="a windmill"))
        gid = row["id"]
        assert not [c for c in custom_ids(message) if c.startswith("ib:edit")]
        forged = d.forge(message, f"ib:zoom:{gid}:1:2")
        # Not from an ephemeral menu: refused before anything else.
        assert "does not belong to this message" in ephemeral_answer(stack, forged)
        menu = d.forge(message, f"ib:edit:{gid}")
        assert "can edit" in ephemeral_answer(stack, menu)
        assert [r for r in stack_rows(stack) if r["parent_id"] == gid] == []
        assert stack.openai.edits == []


def test_a_grids_menu_swaps_to_another_image(stack: Stack) -> None:
    d = stack.discord
    row, message = delivered(stack, d.slash("imagine", prompt="two kites", count=2))
    gid = row["id"]
    menu = answer_message(stack, d.click(message, f"ib:edit:{gid}"))
    assert f"ib:edit-image:{gid}:2" in custom_ids(menu)
    pick = d.click(menu, f"ib:edit-image:{gid}:2")
    wait_for(lambda: d.writes(pick), 15, message=lambda: f"the swap\n{stack.log()}")
    (update,) = d.writes(pick)
    assert update.callback_type == 7  # the ephemeral menu itself, updated
    swapped = d.server.run_sync(d.fake.messages.get, menu.id)
    assert swapped is not None and "Edit image 2" in swapped.content
    assert f"ib:zoom:{gid}:2:2" in custom_ids(swapped)
    assert f"ib:zoom:{gid}:1:2" not in custom_ids(swapped)

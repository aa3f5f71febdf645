"""Community styles on Discord end to end: `imaginebot run` and a worker (subprocesses)
against the fake Discord (REST, gateway, CDN) and the fake OpenAI images API.

A server admin creates a style with a reference picture (`/style create`, the picture an
attachment option), members use it by name and by code, another server imports it, a member
who is not an admin is refused. What is asserted reached a fake or the SQLite rows."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from tests.fakes.discord_api import Interaction
from tests.fakes.discord_gateway import MEMBER, SERVER_MANAGER, DiscordDriver
from tests.fakes.openai_images import make_png
from tests.support import rows, wait_for
from tests.support.discord_stack import Stack, delivered, running_discord_stack

pytestmark = pytest.mark.e2e

OTHER: dict[str, str] = {}


def second_server(driver: DiscordDriver) -> None:
    OTHER["guild"], OTHER["channel"] = driver.fake.add_guild("Another Server")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("discord-styles")
    with running_discord_stack(root, prepare=second_server) as running:
        yield running


def said(stack: Stack, interaction: Interaction) -> str:
    """The bot's private answer once it has words (a deferred answer is edited into them)."""
    d = stack.discord

    def words() -> str | None:
        message = d.server.run_sync(d.fake.original, interaction.id)
        return message.content if message is not None and message.content else None

    text: str = wait_for(words, 20, message=lambda: f"an answer\n{d.fake.errors}\n{stack.log()}")
    message = d.server.run_sync(d.fake.original, interaction.id)
    assert message is not None and message.ephemeral
    return text


def styles_of(stack: Stack, guild: str) -> list[dict[str, object]]:
    return rows(
        stack.db,
        "SELECT * FROM community_styles WHERE platform = 'discord' AND scope_id = ?",
        (guild,),
    )


def test_an_admin_makes_a_style_members_use_it_by_name_and_code(stack: Stack) -> None:
    d = stack.discord
    look = d.attachment(make_png(96, 64, "the look"), "look.png")
    created = d.slash(
        "style create",
        user="admin",
        permissions=SERVER_MANAGER,
        name="Neon Noir",
        recipe="{prompt}, neon noir, wet streets",
        negative="daylight",
        aspect="3:2",
        picture1=look,
    )
    answer = said(stack, created)
    code = re.search(r"style:(#[0-9a-z]{4,})", answer)
    assert "Created" in answer and code is not None, answer
    (row,) = styles_of(stack, d.guild_id)
    assert row["style_id"] == "neon-noir" and row["code"] == code.group(1)
    assert len(json.loads(str(row["refs"]))) == 1
    (hit,) = [h for h in d.cdn.hits if look["id"] in h.path]
    assert hit.status == 200

    # Its preview: the four sample prompts in the style, one seed, one labelled grid.
    preview = wait_for(
        lambda: styles_of(stack, d.guild_id)[0]["preview_path"], 60, message=stack.log()
    )
    samples = [p for p in stack.openai.image_prompts if p.endswith("neon noir, wet streets")]
    assert len(samples) == 4
    assert Image.open(str(preview)).format == "JPEG"
    listing = d.slash("styles", user="alice")
    shown = wait_for(lambda: stack.image_writes(listing), 20, message=stack.log())
    assert [f.filename for f in shown[0].files] == ["preview-neon-noir.jpg"]
    assert shown[0].files[0].data == Path(str(preview)).read_bytes()

    # A member, by name: the recipe around their words, the style's default aspect.
    by_name = d.slash("imagine", user="alice", prompt="a cat", style="Neon Noir")
    made, _message = delivered(stack, by_name)
    assert made["style"] == "neon-noir" and made["aspect"] == "3:2"
    assert stack.openai.made_for("a cat, neon noir, wet streets")
    cat = [c for c in stack.openai.calls if str(c.body.get("prompt", "")).startswith("a cat")]
    assert [c.body["size"] for c in cat] == ["1536x1024"]

    # A member of another server, by code.
    by_code = d.slash(
        "imagine", user="bob", guild=OTHER["guild"], prompt="a dog", style=code.group(1)
    )
    there, _message = delivered(stack, by_code)
    assert there["style"] == code.group(1) and there["scope_id"] == OTHER["guild"]
    assert stack.openai.made_for("a dog, neon noir, wet streets")

    # The other server's admin imports it by code: now theirs by name, pictures and all.
    imported = d.slash(
        "style import",
        user="admin",
        guild=OTHER["guild"],
        permissions=SERVER_MANAGER,
        text=code.group(1),
        name="Noir",
    )
    assert "Imported" in said(stack, imported)
    (theirs,) = styles_of(stack, OTHER["guild"])
    assert theirs["style_id"] == "noir" and theirs["code"] == code.group(1)
    assert len(json.loads(str(theirs["refs"]))) == 1


def test_members_who_are_not_admins_are_refused(stack: Stack) -> None:
    d = stack.discord
    before = len(styles_of(stack, d.guild_id))
    refused = d.slash(
        "style create",
        user="mallory",
        permissions=MEMBER,
        name="Mine",
        recipe="{prompt}, mine",
    )
    assert "Only server admins" in said(stack, refused)
    deleting = d.slash("style delete", user="mallory", permissions=MEMBER, style="neon-noir")
    assert "Only server admins" in said(stack, deleting)
    assert len(styles_of(stack, d.guild_id)) == before


def test_bad_styles_and_pictures_are_answered_in_plain_words(stack: Stack) -> None:
    d = stack.discord
    not_a_picture = d.attachment(b"%PDF-1.4 not a picture", "look.png")
    bad = d.slash(
        "style create",
        user="admin",
        permissions=SERVER_MANAGER,
        name="Broken",
        recipe="{prompt}, broken",
        picture1=not_a_picture,
    )
    assert "picture" in said(stack, bad).lower()
    slotless = d.slash(
        "style create", user="admin", permissions=SERVER_MANAGER, name="Slotless", recipe="x"
    )
    assert "{prompt}" in said(stack, slotless)
    names = {r["style_id"] for r in styles_of(stack, d.guild_id)}
    assert "broken" not in names and "slotless" not in names

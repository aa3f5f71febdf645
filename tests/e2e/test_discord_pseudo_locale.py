"""No Discord text escapes the catalogue (issue 29, item 7): `imaginebot run` and a worker
against the fake Discord, one user whose language is the pseudo-locale `en_XA` (every
catalogue text wrapped in ⟦ ⟧), running every command and pressing every button, menu and
modal the bot shows them. Every string the fake Discord received to show (contents, embeds,
button labels, menu placeholders and options, modal titles and labels, autocomplete
choices, the core's refusals) must be pseudo-localised, the user's own words and the data (ids, the provider's
name) aside (tests/support/pseudo.py)."""

from __future__ import annotations

import io
import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from tests.fakes.discord_api import Interaction, Message
from tests.fakes.discord_gateway import SERVER_MANAGER, DiscordDriver, Focused
from tests.support import rows, wait_for
from tests.support.discord_stack import Stack, delivered, running_discord_stack
from tests.support.pseudo import escaped

pytestmark = pytest.mark.e2e

USER = "xavier"
PROMPT = "a lighthouse in fog"
RECIPE = "{prompt}, painted in neon noir"
NEON = "Neon Noir"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (96, 64), (200, 40, 90)).save(out, format="PNG")
    return out.getvalue()


def answer(stack: Stack, interaction: Interaction) -> Message | None:
    """The message the interaction was answered with, once it has any answer."""
    d = stack.discord
    wait_for(lambda: d.writes(interaction), 20, message=lambda: f"an answer\n{stack.log()}")
    message: Message | None = d.server.run_sync(d.fake.original, interaction.id)
    return message


def components(message: Message) -> list[dict[str, Any]]:
    return [c for row in message.components for c in row.get("components", [])]


def settled(stack: Stack) -> None:
    """Every request made so far delivered or failed, so its last texts are in."""

    def done() -> bool:
        states = [r["status"] for r in rows(stack.db, "SELECT status FROM generations")]
        return all(s in ("delivered", "failed") for s in states)

    wait_for(done, 60, message=lambda: f"requests settling\n{stack.log()}")


def as_pseudo_reader(stack: Stack) -> None:
    """The pseudo-locale is never offered (/language refuses it), so it is set on the row
    `/language` wrote, as a person's own choice."""
    stack.discord.slash("language", user=USER, language="de")
    wait_for(lambda: rows(stack.db, "SELECT * FROM user_settings WHERE language = 'de'"), 10)
    with sqlite3.connect(stack.db) as db:
        db.execute("UPDATE user_settings SET language = 'en_XA'")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    def elsewhere(driver: DiscordDriver) -> None:
        # A server that never added the bot, reached through the user's own install.
        driver.fake.add_guild("No Bot Here", with_bot=False)

    root = tmp_path_factory.mktemp("discord-pseudo")
    with running_discord_stack(root, prepare=elsewhere) as built:
        as_pseudo_reader(built)
        yield built


def press_everything(
    stack: Stack, message: Message, skip: tuple[str, ...] = (), *, deeper: bool = True
) -> None:
    """Every button and menu on `message` (a menu with an option not yet chosen), and every modal
    they open submitted; the private menus they answer with (Edit, Restyle) are pressed
    too, one level deeper."""
    d = stack.discord
    for item in components(message):
        custom_id = item.get("custom_id")
        if not custom_id or custom_id.startswith(skip):
            continue
        # A menu: its first option that is not already chosen (Restyle's current style).
        options = [o for o in item.get("options", []) if not o.get("default")]
        values = [options[0]["value"]] if item.get("type") == 3 else None
        pressed = d.click(message, custom_id, user=USER, values=values)
        reply = answer(stack, pressed)
        record = d.server.run_sync(d.fake.interactions.get, pressed.id)
        if record.modal is not None:
            inputs = [row["components"][0] for row in record.modal["components"]]
            filled = {i["custom_id"]: i.get("value") or "make it night" for i in inputs}
            d.submit_modal(pressed, filled, user=USER)
        elif deeper and reply is not None and reply.ephemeral and components(reply):
            press_everything(stack, reply, skip=("ib:edit-image",), deeper=False)


def test_every_command_and_button_speaks_the_pseudo_locale(stack: Stack) -> None:
    d = stack.discord
    before = d.server.run_sync(lambda: len(d.fake.writes))  # the /language answer in German
    admin = {"user": USER, "permissions": SERVER_MANAGER}
    row, result = delivered(stack, d.slash("imagine", user=USER, prompt=PROMPT, count=2))
    assert row["locale"] == "en_XA"
    press_everything(stack, result, skip=("ib:delete", "ib:forget"))
    settled(stack)
    history = answer(stack, d.slash("history", user=USER))
    assert history is not None
    press_everything(stack, history)
    # Where the bot is not a member it may answer for 15 minutes only, and says so.
    away = next(g for g, guild in d.fake.guilds.items() if not guild.get("with_bot", True))
    personal = d.slash("imagine", user=USER, install="user", guild=away, prompt=PROMPT)
    assert stack.delivered_row(personal)["status"] == "delivered"
    said = [str(w.body.get("content")) for w in d.writes(personal)]
    assert any("⟦ℹ️" in words and "15" in words for words in said), said
    # A token that ran out before the picture: it comes as a channel message, pinging.
    stack.openai.delay = 1.0
    try:
        late = d.slash("imagine", user=USER, prompt=PROMPT)
        wait_for(lambda: d.writes(late), 10, message=lambda: f"the acknowledgement\n{stack.log()}")
        d.server.run_sync(setattr, d.fake.interactions[late.id], "expired", True)
        assert stack.delivered_row(late)["status"] == "delivered"
    finally:
        stack.openai.delay = 0.0
    posted = [
        w for w in d.server.run_sync(lambda: list(d.fake.writes)) if w.kind == "channel_message"
    ]
    assert posted and "⟦ýöür pîçtüré" in str(posted[-1].body.get("content"))
    for name, options in (
        ("styles", {}),
        ("mystyle", {"style": "anime"}),
        ("mystyle", {}),
        ("share", {"picture": row["id"]}),
        ("gallery", {}),
        ("language", {}),
        ("describe", {"image": d.attachment(png(), "kite.png")}),
    ):
        answer(stack, d.slash(name, user=USER, **options))
    # A refusal in the core's words, and the choices of a style option as the user types.
    refused = answer(stack, d.slash("mystyle", user=USER, style="no such style"))
    assert refused is not None and refused.content.startswith("⚠️ ⟦")
    for name, option in (("imagine", "style"), ("mystyle", "style"), ("share", "picture")):
        answer(stack, d.autocomplete(name, user=USER, **{option: Focused("")}))
    answer(stack, d.autocomplete("settings default-style", **admin, style=Focused("an")))
    for name, options in (
        ("settings show", {}),
        ("settings default-style", {"style": "anime"}),
        ("settings allowed-styles", {"styles": "all"}),
        ("settings limits", {"per-member": 20}),
        ("settings nsfw", {"choice": "on"}),
        ("settings nsfw", {"choice": "off"}),
        ("settings gallery", {"enabled": True}),
        ("style create", {"name": NEON, "recipe": RECIPE, "hidden": True}),
        ("style list", {}),
        ("style export", {"style": "neon-noir"}),
        ("style edit", {"style": "neon-noir", "hidden": False}),
        ("style delete", {"style": "neon-noir"}),
        ("style import", {}),
    ):
        answer(stack, d.slash(name, **admin, **options))
    settled(stack)
    # Data, not words: ids, a server's own style (its admins' words), providers' names, and
    # what a provider wrote (a /describe's prompt ideas).
    words = [PROMPT, RECIPE, NEON, "neon-noir", "make it night", "openai", "gpt-image-1"]
    words += ["original"]  # the provider of a /describe read from the picture itself
    made = rows(stack.db, "SELECT id, kind, suggestions FROM generations")
    for one in made:
        words += [one["id"], *json.loads(one["suggestions"])]
    # Every follow-up button and modal was pressed through to a request of its own.
    kinds = {"upscale", "vary", "reroll", "restyle", "remix", "zoom", "pan", "edit", "describe"}
    assert kinds <= {one["kind"] for one in made}, sorted({one["kind"] for one in made})
    for skipped in ("ib:forget:", "ib:forget-no:"):  # Cancel, then once more to delete
        asked = answer(stack, d.slash("forget-me", user=USER))
        assert asked is not None
        press_everything(stack, asked, skip=(skipped,))

    bodies = [w.body for w in d.server.run_sync(lambda: list(d.fake.writes))[before:]]
    assert sum(len(b.get("choices", [])) for b in bodies) > 10  # the choices were read
    assert bodies and escaped([{"content": "Queued"}], []) == ["Queued"]  # it can fail
    found = escaped(bodies, words)
    assert found == [], "\n".join(found)

"""Languages on Discord end to end: `imaginebot run` and a worker against the fake Discord,
whose interactions carry `locale` (the user's client) and `guild_locale` (the server's) as
Discord sends them. A German user reads German (the /language answer, ephemeral; the queued
text), picks another language or automatic; server admins set the server's language."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.adapters.discord.answers import ADMIN_ONLY
from bot.adapters.discord.render import say
from tests.fakes.discord_api import Interaction, Message
from tests.fakes.discord_gateway import MEMBER, SERVER_MANAGER
from tests.support import rows, wait_for
from tests.support.discord_stack import (
    Stack,
    delivered,
    ephemeral_answer,
    running_discord_stack,
)

pytestmark = pytest.mark.e2e


def contents(stack: Stack, interaction: Interaction) -> list[str]:
    return [
        str(w.body.get("content"))
        for w in stack.discord.writes(interaction)
        if w.body.get("content") is not None
    ]


def test_a_german_user_reads_german_and_chooses_another_language(tmp_path: Path) -> None:
    with running_discord_stack(tmp_path) as stack:
        d = stack.discord
        asked = d.slash("language", user="jonas", locale="de")
        assert (
            ephemeral_answer(stack, asked) == "Ich antworte dir auf Deutsch. Wähle deine Sprache:"
        )

        command = d.slash("imagine", user="jonas", locale="de", prompt="ein Leuchtturm")
        row = stack.delivered_row(command)
        assert row["locale"] == "de"
        assert "⏳ In der Warteschlange: Du bist als Nächstes dran." in contents(stack, command)

        chosen = d.slash("language", user="jonas", locale="de", language="ja")
        assert ephemeral_answer(stack, chosen) == "設定しました！これからは日本語でお答えします。"
        later = d.slash("imagine", user="jonas", locale="de", prompt="a crane")
        assert stack.delivered_row(later)["locale"] == "ja"
        automatic = d.slash("language", user="jonas", locale="de", language="auto")
        assert ephemeral_answer(stack, automatic) == (
            "Fertig! Ich folge wieder der Sprache deiner App (gerade Deutsch)."
        )


def test_the_servers_language_and_who_may_set_it(tmp_path: Path) -> None:
    with running_discord_stack(tmp_path) as stack:
        d = stack.discord
        # An app language we do not have: the server's Discord language.
        korean = d.slash("language", user="min", locale="ko", guild_locale="pt-BR")
        assert ephemeral_answer(stack, korean).startswith(
            "Estou respondendo em Português (Brasil)."
        )

        member = d.slash("settings language", user="jonas", permissions=MEMBER, language="ru")
        assert ephemeral_answer(stack, member) == say(ADMIN_ONLY, "en")
        assert rows(stack.db, "SELECT * FROM scope_settings") == []

        admin = d.slash(
            "settings language",
            user="boss",
            permissions=SERVER_MANAGER,
            language="ru",
            **{"members-win": False},
        )
        assert ephemeral_answer(stack, admin) == (
            "Язык сообщества теперь — Русский для всех, кто не выбрал свой через /language."
        )
        german = d.slash("language", user="jonas", locale="de")
        assert ephemeral_answer(stack, german).startswith("Сейчас я отвечаю вам на языке: Русский.")
        stored = wait_for(lambda: rows(stack.db, "SELECT * FROM scope_settings"), 5)
        assert (stored[0]["language"], stored[0]["members_language_wins"]) == ("ru", 0)


def labels(message: Message) -> list[str]:
    return [str(c.get("label")) for row in message.components for c in row["components"]]


def test_a_german_user_gets_the_picture_its_buttons_info_remix_and_refusals_in_german(
    tmp_path: Path,
) -> None:
    with running_discord_stack(tmp_path) as stack:
        d = stack.discord
        german = {"user": "jonas", "locale": "de"}
        row, grid = delivered(stack, d.slash("imagine", prompt="zwei Drachen", count=2, **german))
        gid = row["id"]
        assert labels(grid) == [
            *("U1", "U2", "V1", "V2"),
            *("Neu würfeln", "Neuer Stil", "Remix", "Bearbeiten", "Info"),
            *("Löschen", "Teilen"),
        ]
        card = grid.embeds[0]
        names = [f["name"] for f in card["fields"]]
        assert names[:2] == ["Stil", "Format"] and names[-2:] == ["Anbieter", "Angefragt von"]
        assert card["footer"]["text"] == f"ID {gid}"

        info = ephemeral_answer(stack, d.click(grid, f"ib:info:{gid}", **german))
        assert info.startswith("**Prompt** \u2068zwei Drachen\u2069\n**Stil** `")

        opened = d.click(grid, f"ib:remix:{gid}", **german)
        modal = wait_for(
            lambda: d.server.run_sync(lambda: d.fake.interactions[opened.id].modal), 10
        )
        assert modal["title"] == "Remix: Prompt bearbeiten"
        inputs = [r["components"][0]["label"] for r in modal["components"]]
        assert inputs == ["Prompt", "Negativ-Prompt (was nicht zu sehen sein soll)"]
        remixed = d.submit_modal(opened, {"prompt": "drei Drachen"}, **german)
        assert stack.delivered_row(remixed)["locale"] == "de"
        assert any("In der Warteschlange" in str(w.body.get("content")) for w in d.writes(remixed))

        # A refusal in the core's words, then the adapter's own: a button it no longer
        # knows, a member at /settings.
        unknown = d.slash("mystyle", style="qqqq", **german)
        assert ephemeral_answer(stack, unknown).startswith("⚠️ Es gibt keinen Stil namens „")
        forged = d.forge(grid, "ib:nonsense:0123abcd", **german)
        assert ephemeral_answer(stack, forged) == "Diese Schaltfläche wird nicht mehr unterstützt."
        settings = d.slash("settings show", **german)
        assert ephemeral_answer(stack, settings) == (
            "Nur Server-Admins (Berechtigung „Server verwalten“) können diese Einstellungen ändern."
        )

"""Languages on Discord end to end: `imaginebot run` and a worker against the fake Discord,
whose interactions carry `locale` (the user's client) and `guild_locale` (the server's) as
Discord sends them. A German user reads German (the /language answer, ephemeral; the queued
text), picks another language or automatic; server admins set the server's language."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.adapters.discord.answers import ADMIN_ONLY
from tests.fakes.discord_api import Interaction
from tests.fakes.discord_gateway import MEMBER, SERVER_MANAGER
from tests.support import rows, wait_for
from tests.support.discord_stack import Stack, ephemeral_answer, running_discord_stack

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
        assert ephemeral_answer(stack, member) == ADMIN_ONLY
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

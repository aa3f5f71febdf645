"""Native command names and descriptions on Discord: `imaginebot run` syncs every command,
option and choice with localizations for our languages through discord.py's translator, the
fake Discord checks them as Discord documents, and an unchanged tree is not synced again.
Also: the fake refuses what Discord refuses, through discord.py's own sync."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands

from tests.fakes.discord_commands import command_problem
from tests.fakes.discord_gateway import DiscordDriver
from tests.fakes.openai_images import FakeOpenAI
from tests.support import base_env, process, wait_for

pytestmark = pytest.mark.e2e

UNCHANGED = "slash commands unchanged; not syncing"


def run_once(root: Path, driver: DiscordDriver, openai: FakeOpenAI, log_name: str) -> str:
    env = base_env(
        root / "data",
        OPENAI_API_KEY=openai.api_key,
        OPENAI_BASE_URL=f"{openai.base_url}/v1",
        **driver.env(),
    )
    log = root / log_name
    with process(["run"], env, root, log):
        wait_for(
            driver.connected, 30, message=lambda: f"gateway\n{log.read_text(errors='replace')}"
        )
    wait_for(lambda: not driver.connected(), 10, message="the bot to disconnect")
    return log.read_text(errors="replace")


def by_name(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (found,) = [item for item in items if item["name"] == name]
    return found


def test_commands_sync_once_with_native_names_descriptions_and_choices(
    tmp_path: Path, discord: DiscordDriver, fake_openai: FakeOpenAI
) -> None:
    run_once(tmp_path, discord, fake_openai, "first.log")
    commands = discord.fake.commands["global"]
    imagine = by_name(commands, "imagine")
    assert imagine["name_localizations"]["de"] == "bild"
    assert imagine["name_localizations"]["ru"] == "нарисовать"
    assert imagine["name_localizations"]["ja"] == "画像生成"
    assert imagine["description_localizations"]["de"] == "Erstelle ein Bild aus einer Beschreibung"
    # Spanish is written for Spain and Latin America; Discord has no Arabic locale.
    spanish = imagine["description_localizations"]
    assert spanish["es-ES"] == spanish["es-419"] == "Crea una imagen a partir de una descripción"
    assert "ar" not in imagine["name_localizations"]
    prompt = by_name(imagine["options"], "prompt")
    assert prompt["name_localizations"]["ru"] == "запрос"
    assert prompt["description_localizations"]["ja"] == "画像に描くもの"
    # A subcommand of the admin group, its option and that option's choices.
    nsfw = by_name(by_name(commands, "settings")["options"], "nsfw")
    assert nsfw["description_localizations"]["ru"].startswith("Разрешить NSFW")
    choices = {c["name"]: c["name_localizations"]["de"] for c in nsfw["options"][0]["choices"]}
    assert choices == {"on": "an", "off": "aus"}
    # Every command carries our ten Discord locales (11 with es-419), no more.
    for command in commands:
        assert len(command["description_localizations"]) == 11, command["name"]
    second = run_once(tmp_path, discord, fake_openai, "second.log")
    assert UNCHANGED in second
    assert discord.fake.command_syncs == ["global"]


class Fixed(app_commands.Translator):
    """Answers `wording(message, where)` for German, nothing for other locales."""

    def __init__(self, wording: Callable[[str, app_commands.TranslationContextLocation], Any]):
        self.wording = wording

    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        if locale is not discord.Locale.german:
            return None
        found = self.wording(string.message, context.location)
        return None if found is None else str(found)


def sync_through_discord_py(driver: DiscordDriver, translator: app_commands.Translator) -> int:
    """Sync one command with `translator` through discord.py; the fake's error code, or 0."""

    async def sync() -> int:
        client = discord.Client(intents=discord.Intents.none())
        tree = app_commands.CommandTree(client)

        @tree.command(name="imagine", description="Make a picture")
        @app_commands.choices(shape=[app_commands.Choice(name="square", value="1:1")])
        async def imagine(
            interaction: discord.Interaction, prompt: str, seed: int, shape: str
        ) -> None:
            del interaction, prompt, seed, shape

        await tree.set_translator(translator)
        try:
            await client.login(driver.fake.token)
            await tree.sync()
        except discord.HTTPException as exc:
            return exc.code
        finally:
            await client.close()
        return 0

    base = discord.http.Route.BASE
    discord.http.Route.BASE = driver.env()["DISCORD_API_BASE"].rstrip("/")
    try:
        return asyncio.run(sync())
    finally:
        discord.http.Route.BASE = base


Where = app_commands.TranslationContextLocation
REFUSED = {
    "an uppercase name": lambda m, w: "Bild" if w is Where.command_name else None,
    "a name with a space": lambda m, w: "ein bild" if w is Where.command_name else None,
    "a name of 33 letters": lambda m, w: "b" * 33 if w is Where.command_name else None,
    "a description of 101": lambda m, w: "x" * 101 if w is Where.command_description else None,
    "two options one name": lambda m, w: "wert" if w is Where.parameter_name else None,
    "a choice of 101": lambda m, w: "q" * 101 if w is Where.choice_name else None,
}


@pytest.mark.parametrize("breach", sorted(REFUSED))
def test_discord_refuses_localizations_that_break_its_rules(
    discord: DiscordDriver, breach: str
) -> None:
    assert sync_through_discord_py(discord, Fixed(REFUSED[breach])) == 50035
    assert discord.fake.command_syncs == []


def test_discord_takes_localizations_in_its_own_locales_only(discord: DiscordDriver) -> None:
    german = {"imagine": "bild", "prompt": "beschreibung", "shape": "form", "square": "quadrat"}
    assert sync_through_discord_py(discord, Fixed(lambda m, w: german.get(m))) == 0
    (command,) = discord.fake.commands["global"]
    assert command["name_localizations"] == {"de": "bild"}
    shape = by_name(command["options"], "shape")
    assert shape["choices"][0]["name_localizations"] == {"de": "quadrat"}
    # A key that is not one of Discord's locales ("ar": Discord has no Arabic) is refused,
    # which is why the bot writes none for Arabic.
    arabic = {"name": "imagine", "description": "x", "name_localizations": {"ar": "تخيل"}}
    problem = command_problem(arabic)
    assert problem is not None and "Invalid Locale" in problem

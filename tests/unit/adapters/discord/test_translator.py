"""Discord command localizations from the catalogues: complete for our languages, within
Discord's rules (checked by the fake Discord's own, separately written, rules), and a
translation that breaks them falls back to English."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation as Where

from bot.adapters.discord.translator import (
    DISCORD_LOCALES,
    NAME_CONTEXT,
    CatalogueTranslator,
    command_messages,
    command_tree,
)
from bot.core.language import LANGUAGES, Catalogues
from tests.fakes.discord_commands import command_problem, siblings_problem
from tests.support.catalogues import catalogues_with

OUR_DISCORD_LOCALES = {str(locale) for all in DISCORD_LOCALES.values() for locale in all}


def translated_payload() -> list[dict[str, Any]]:
    async def build() -> list[dict[str, Any]]:
        tree = command_tree()
        await tree.set_translator(CatalogueTranslator(Catalogues()))
        translator = tree.translator
        assert translator is not None
        return [await c.get_translated_payload(tree, translator) for c in tree.get_commands()]

    return asyncio.run(build())


def items(payload: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every command, group, subcommand and option in the payload."""
    found = []
    for item in payload:
        found.append(item)
        found.extend(items(item.get("options") or []))
    return found


def test_every_name_description_and_choice_is_localized_within_discords_rules() -> None:
    payload = translated_payload()
    catalogues = Catalogues()
    assert siblings_problem("commands", payload) is None
    assert [command_problem(command) for command in payload] == [None] * len(payload)
    for item in items(payload):
        # Every description differs from English in every language: all eleven locales.
        assert set(item["description_localizations"]) == OUR_DISCORD_LOCALES, item["name"]
        names = set(item.get("name_localizations") or {})
        # A name that reads the same in a language ("nsfw", French "image") is left to the
        # English; every other one is there.
        same = {
            str(locale)
            for ours, all in DISCORD_LOCALES.items()
            for locale in all
            if catalogues.translations(ours).upgettext(NAME_CONTEXT, item["name"]) == item["name"]
        }
        assert names == OUR_DISCORD_LOCALES - same, item["name"]
        assert item["name"] == "nsfw" or not same & {"ru", "uk", "ja", "zh-CN"}, item["name"]
        for choice in item.get("choices") or []:
            # A language picker's choices are each language's own name, shown as they are.
            translated = (
                any(c.isalpha() for c in choice["name"]) and choice["value"] not in LANGUAGES
            )
            assert set(choice.get("name_localizations") or {}) == (
                OUR_DISCORD_LOCALES if translated else set()
            ), choice["name"]


def test_the_tree_gives_names_with_their_context_and_skips_choices_without_letters() -> None:
    messages = {(message, context) for message, context, _ in command_messages(command_tree())}
    assert ("style_ref", NAME_CONTEXT) in messages  # a parameter's name
    assert ("default-style", NAME_CONTEXT) in messages  # a subcommand's name
    assert ("on", None) in messages and ("off", None) in messages
    assert ("16:9", None) not in messages
    assert ("Make a picture from a description", None) in messages


def test_a_translation_that_breaks_discords_rules_leaves_the_english(tmp_path: Path) -> None:
    catalogues = catalogues_with(
        tmp_path,
        "de",
        "discord",
        {
            ("imagine", NAME_CONTEXT): "Bild Machen",
            ("styles", NAME_CONTEXT): "stile",
            ("List the picture styles", None): "x" * 101,
            ("Your last 10 pictures", None): "Deine letzten 10 Bilder",
        },
    )
    translator = CatalogueTranslator(catalogues)
    german = discord.Locale.german
    assert translator.wording("imagine", german, Where.command_name) is None
    assert translator.wording("styles", german, Where.command_name) == "stile"
    assert translator.wording("List the picture styles", german, Where.command_description) is None
    assert (
        translator.wording("Your last 10 pictures", german, Where.command_description)
        == "Deine letzten 10 Bilder"
    )
    # Two options of one command may not share a name in a language: neither takes it.
    catalogues = catalogues_with(
        tmp_path / "same",
        "de",
        "discord",
        {("seed", NAME_CONTEXT): "zahl", ("count", NAME_CONTEXT): "zahl"},
    )
    same = CatalogueTranslator(catalogues)
    for name, other in (("seed", "count"), ("count", "seed")):
        assert same.wording(name, german, Where.parameter_name, siblings=(other,)) is None
    assert same.wording("seed", german, Where.parameter_name, siblings=("prompt",)) == "zahl"
    # A user or message command's name may hold a space and capitals.
    assert translator.wording("imagine", german, Where.command_name, menu=True) == "Bild Machen"


def test_english_and_locales_we_do_not_write_get_no_localization() -> None:
    translator = CatalogueTranslator(Catalogues())
    for locale in (
        discord.Locale.american_english,
        discord.Locale.korean,
        discord.Locale.taiwan_chinese,
    ):
        assert translator.wording("history", locale, Where.command_name) is None
    assert (
        translator.wording("history", discord.Locale.latin_american_spanish, Where.command_name)
        == "historial"
    )
    assert translator.wording("history", discord.Locale.chinese, Where.command_name) == "历史"
    # Discord has no Arabic locale: no Discord locale is written from the Arabic catalogue.
    assert "ar" not in DISCORD_LOCALES


def test_a_languages_own_name_offered_as_a_choice_is_neither_extracted_nor_translated() -> None:
    client = discord.Client(intents=discord.Intents.none())
    tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)

    @tree.command(name="language", description="The language I answer you in")
    @app_commands.choices(
        language=[
            app_commands.Choice(name="Deutsch", value="de"),
            app_commands.Choice(name="on", value="automatic"),
        ]
    )
    async def language(interaction: discord.Interaction, language: str) -> None:
        del interaction, language

    messages = [message for message, _, _ in command_messages(tree)]
    assert "Deutsch" not in messages and "on" in messages
    translator = CatalogueTranslator(Catalogues())
    (own, other) = language.parameters[0].choices

    async def translate(choice: app_commands.Choice[str]) -> str | None:
        context = app_commands.TranslationContext(location=Where.choice_name, data=choice)
        string = app_commands.locale_str(choice.name)
        return await translator.translate(string, discord.Locale.german, context)

    assert asyncio.run(translate(own)) is None
    assert asyncio.run(translate(other)) == "an"

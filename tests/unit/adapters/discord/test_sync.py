"""The sync record's digest sees the localizations: a changed translation changes it (one
sync), the same catalogues give the same digest (no sync)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from discord import app_commands

from bot.adapters.discord.sync import commands_digest
from bot.adapters.discord.translator import NAME_CONTEXT, CatalogueTranslator, command_tree
from bot.core.language import Catalogues
from tests.support.catalogues import catalogues_with


def digest(translator: app_commands.Translator | None) -> str:
    async def compute() -> str:
        tree = command_tree()
        if translator is not None:
            await tree.set_translator(translator)
        return await commands_digest(tree, None)

    return asyncio.run(compute())


def test_the_digest_changes_with_a_translation_and_only_then(tmp_path: Path) -> None:
    ours = digest(CatalogueTranslator(Catalogues()))
    assert ours == digest(CatalogueTranslator(Catalogues()))
    assert ours != digest(None)
    one = catalogues_with(tmp_path / "one", "de", "discord", {("imagine", NAME_CONTEXT): "bild"})
    other = catalogues_with(tmp_path / "two", "de", "discord", {("imagine", NAME_CONTEXT): "malen"})
    assert digest(CatalogueTranslator(one)) != digest(CatalogueTranslator(other))

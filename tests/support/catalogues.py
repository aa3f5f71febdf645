"""A catalogue directory with chosen translations, for tests of what the bot does with a
translation (a good one, or one that breaks a platform's rule)."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

from bot.core.language import Catalogues


def catalogues_with(
    root: Path, locale: str, domain: str, wordings: dict[tuple[str, str | None], str]
) -> Catalogues:
    """Catalogues read from `root`, where `locale` has one `domain` catalogue holding
    `wordings` ((English, context) -> translation) and nothing else."""
    catalogue = Catalog(locale=locale, fuzzy=False)
    for (english, context), wording in wordings.items():
        catalogue.add(english, wording, context=context)
    folder = root / locale / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / f"{domain}.po").open("wb") as handle:
        write_po(handle, catalogue)
    return Catalogues(root)

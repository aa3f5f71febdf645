"""Compile the translation catalogues when the package is built or installed.

`bot/locales/*/LC_MESSAGES/messages.po` are the sources (in git); the `.mo` files gettext
reads are built here, for wheels and editable installs alike, so a fresh `pip install` speaks
every language. Babel is a build requirement (pyproject.toml `[build-system]`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hatchling.builders.hooks.plugin.interface import BuildHookInterface


def compile_catalogues(locales: Path) -> list[Path]:
    written = []
    for source in sorted(locales.glob("*/LC_MESSAGES/*.po")):
        with source.open("rb") as handle:
            catalogue = read_po(handle)
        target = source.with_suffix(".mo")
        with target.open("wb") as handle:
            write_mo(handle, catalogue)
        written.append(target)
    return written


class CatalogueBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        for compiled in compile_catalogues(root / "bot" / "locales"):
            build_data["artifacts"].append(str(compiled.relative_to(root)))

"""The `imaginebot` command line: help texts, the styles table, and the README's command table."""

from __future__ import annotations

import argparse
import re

import pytest

from bot.cli import build_parser, styles_table
from bot.core.requests.styles import load_catalogue, parse_catalogue
from tests.support import ROOT

# Terminal cells of each emoji, as terminals draw them (not their length in code points).
EMOJI_CELLS = {
    "📷": 2,  # one code point
    "✏️": 2,  # pencil + VS16 (emoji presentation): two code points
    "👩‍🎨": 2,  # woman + ZWJ + palette: three code points, one glyph
    "🇯🇵": 2,  # a flag: two regional indicators
    "★": 1,  # a narrow symbol
}


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise AssertionError("no subcommands")


def test_every_option_of_every_command_has_help() -> None:
    for name, sub in subcommands(build_parser()).items():
        for action in sub._actions:
            assert action.help, f"imaginebot {name} {action.option_strings or action.dest}"


def test_style_help_lists_every_style_id() -> None:
    help_text = " ".join(subcommands(build_parser())["imagine"].format_help().split())
    ids = load_catalogue().ids
    assert len(ids) > 5
    listed = re.search(r"--style STYLE one of: (.*?) \(default", help_text)
    assert listed is not None, help_text
    assert listed.group(1).split(", ") == list(ids)


def test_styles_table_columns_line_up_whatever_the_emoji() -> None:
    styles = "\n".join(
        f"""
  - id: s{i}
    name: Name {i}
    emoji: "{emoji}"
    description: DESC{i} here.
    template: "{{prompt}}"
"""
        for i, emoji in enumerate(EMOJI_CELLS)
    )
    table = styles_table(parse_catalogue("styles:" + styles))
    lines = table.splitlines()[2:]
    assert len(lines) == len(EMOJI_CELLS)
    columns = set()
    for line, (emoji, cells) in zip(lines, EMOJI_CELLS.items(), strict=True):
        before = line[: line.index("DESC")]
        assert emoji in before
        columns.add(len(before) - len(emoji) + cells)  # where the description starts on screen
    assert len(columns) == 1, table


@pytest.mark.parametrize("page", ["README.md", "docs/usage.md"])
def test_the_command_tables_list_every_command(page: str) -> None:
    text = (ROOT / page).read_text(encoding="utf-8")
    section = text.split("## Commands", 1)[1].split("\n## ", 1)[0]
    documented = set(re.findall(r"^\| `imaginebot ([a-z-]+)", section, flags=re.MULTILINE))
    assert documented == set(subcommands(build_parser()))

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.limits.safety import BannedTerms


def test_words_match_whole_words_any_case_and_regex_rules(tmp_path: Path) -> None:
    rules = tmp_path / "banned.txt"
    rules.write_text("# comment\n\nGore\nre:\\bbl[o0]od\\b\nhate speech\n", encoding="utf-8")
    banned = BannedTerms.load(rules)
    assert len(banned) == 3
    assert banned.matches("so much GORE here")
    assert not banned.matches("gorefest")  # whole words only
    assert banned.matches("bl0od moon")
    assert banned.matches("some hate speech")
    assert not banned.matches("a kitten")
    assert banned.matches("fine", "negative has gore")


def test_invalid_regex_names_the_line(tmp_path: Path) -> None:
    rules = tmp_path / "banned.txt"
    rules.write_text("ok\nre:([\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        BannedTerms.load(rules)

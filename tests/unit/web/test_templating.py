"""The pages' templates in a locale (bot/web/templating.py): translated words, escaped values,
the page's direction, and English where a translation would break the page."""

from __future__ import annotations

from pathlib import Path

from bot.web.templating import Templates
from tests.support.catalogues import catalogues_with


def templates(tmp_path: Path, locale: str, wordings: dict[str, str]) -> Templates:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "page.html").write_text(
        '<html lang="{{ lang }}" dir="{{ dir }}"><p>{{ _("Pictures by %(name)s", name=who) }}'
        '</p><p>{{ _("Made") }}: {{ 1760000000 | when }}</p></html>',
        encoding="utf-8",
    )
    catalogue = catalogues_with(
        tmp_path / "locales", locale, "web", {(k, None): v for k, v in wordings.items()}
    )
    return Templates(folder, catalogue)


def test_a_page_in_arabic_is_right_to_left_with_the_value_escaped(tmp_path: Path) -> None:
    page = templates(tmp_path, "ar", {"Pictures by %(name)s": "صور %(name)s"}).render(
        "page.html", "ar", who="<b>Ann</b>"
    )
    assert '<html lang="ar" dir="rtl">' in page
    assert "<p>صور &lt;b&gt;Ann&lt;/b&gt;</p>" in page
    assert "2025" in page and "Oct" not in page  # the date in Arabic, by Babel


def test_a_translation_with_other_placeholders_or_a_stray_percent_shows_english(
    tmp_path: Path,
) -> None:
    wrong = {"Pictures by %(name)s": "Bilder von %(nom)s", "Made": "Zu 100 % erstellt"}
    page = templates(tmp_path, "de", wrong).render("page.html", "de", who="Ann")
    assert "<p>Pictures by Ann</p>" in page and "<p>Made:" in page
    assert '<html lang="de" dir="ltr">' in page


def test_a_good_translation_is_used_and_english_needs_no_catalogue(tmp_path: Path) -> None:
    pages = templates(tmp_path, "de", {"Pictures by %(name)s": "Bilder von %(name)s"})
    assert "<p>Bilder von Ann</p>" in pages.render("page.html", "de", who="Ann")
    english = pages.render("page.html", "en", who="Ann")
    assert "<p>Pictures by Ann</p>" in english and "Oct 9, 2025" in english

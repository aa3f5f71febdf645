"""The pages' templates in the visitor's language: one Jinja2 environment per locale.

Every word of a template is a gettext message (`{% trans %}` or `_()`, Jinja2's i18n
extension, extracted by `python -m bot.catalogues update` into the `web` catalogue). Each
locale gets its own environment with that locale's translations installed (newstyle
gettext: the catalogue's words are markup-safe and the `%(name)s` values are escaped, with
autoescape on for every template), so rendering is one dictionary lookup per message and
nothing is shared between two requests in different languages.

Like `Catalogues.render`, a page never fails for a bad catalogue: a translation whose
`%(name)s` placeholders differ from the English ones is not used (the English is).
The same goes for the dates: Babel formats them in the locale.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import jinja2
from babel.dates import format_datetime

from bot.core.language import CATALOGUES, Catalogues, Text, babel_locale, is_right_to_left

_FIELD = re.compile(r"%\((\w+)\)s")


def _fields(message: str) -> list[str]:
    return sorted(_FIELD.findall(message))


def _usable(wording: str, english: str) -> str:
    """`wording` when it formats with exactly English's fields, else `english`."""
    if wording == english:
        return english
    names = _fields(english)
    if _fields(wording) != names:
        return english
    try:
        wording % dict.fromkeys(names, "")  # a stray `%` would break the page
    except (KeyError, ValueError, TypeError):
        return english
    return wording


def gettext_for(catalogues: Catalogues, locale: str) -> tuple[Callable[..., str], ...]:
    """gettext, ngettext, pgettext and npgettext reading `locale`, each total."""
    translations = catalogues.translations(locale)

    def gettext(message: str) -> str:
        return _usable(translations.ugettext(message), message)

    def ngettext(singular: str, plural: str, n: int) -> str:
        return _usable(translations.ungettext(singular, plural, n), singular if n == 1 else plural)

    def pgettext(context: str, message: str) -> str:
        return _usable(translations.upgettext(context, message), message)

    def npgettext(context: str, singular: str, plural: str, n: int) -> str:
        english = singular if n == 1 else plural
        return _usable(translations.unpgettext(context, singular, plural, n), english)

    return gettext, ngettext, pgettext, npgettext


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def _when(locale: str) -> Callable[[float], str]:
    babel = babel_locale(locale)

    def when(timestamp: float) -> str:
        moment = datetime.fromtimestamp(timestamp, UTC)
        return format_datetime(moment, "medium", tzinfo=UTC, locale=babel) + " UTC"

    return when


class Templates:
    """The templates folder, rendered in any of our locales."""

    def __init__(self, folder: Path, catalogues: Catalogues = CATALOGUES) -> None:
        self._folder = folder
        self._catalogues = catalogues
        self._environments: dict[str, jinja2.Environment] = {}

    def environment(self, locale: str) -> jinja2.Environment:
        if locale not in self._environments:
            self._environments[locale] = self._build(locale)
        return self._environments[locale]

    def _build(self, locale: str) -> jinja2.Environment:
        environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self._folder),
            autoescape=True,  # every template, whatever its name: user text is never markup
            undefined=jinja2.StrictUndefined,
            extensions=["jinja2.ext.i18n"],
        )
        gettext, ngettext, pgettext, npgettext = gettext_for(self._catalogues, locale)
        environment.install_gettext_callables(  # type: ignore[attr-defined]
            gettext, ngettext, newstyle=True, pgettext=pgettext, npgettext=npgettext
        )
        environment.filters["when"] = _when(locale)
        environment.filters["iso"] = _iso
        environment.globals["lang"] = locale.replace("_", "-")
        environment.globals["dir"] = "rtl" if is_right_to_left(locale) else "ltr"
        return environment

    def render(self, template: str, locale: str, **context: object) -> str:
        return self.environment(locale).get_template(template).render(**context)

    def translate(self, message: str, locale: str) -> str:
        """A message from another area's catalogue (a built-in style's name), in `locale`."""
        return self._catalogues.translations(locale).ugettext(message)

    def say(self, text: Text, locale: str) -> str:
        """A catalogue `Text` from the Python side (an editor's answer), in `locale`."""
        return self._catalogues.render(text, locale)

"""The translation catalogues' one command: `python -m bot.catalogues update|check|init LANG`.

Each area of the bot keeps its own catalogue (`DOMAINS`: the core's texts, each adapter's, the
web gallery's, the style names), so work on one area never touches another's files; at run
time a locale's catalogues are read as one (`bot.core.language`).

- `update` extracts every `Text(...)` and `Plural(...)` message of an area (and the style
  names and descriptions from `bot/styles.yaml`) into `bot/locales/<area>.pot`, merges each
  template into every language's `<area>.po` (new messages arrive empty, changed ones fuzzy),
  and writes the pseudo-locale `en_XA` from the template;
- `check` fails (exit 1, one line per problem) when a catalogue misses a message, keeps a
  fuzzy one, or whose placeholders differ from English; it is what the tests run;
- `init LANG` starts a new language's catalogue from the template (docs/translating.md).

It drives Babel's own API (`extract_from_dir`, `Catalog.update`, `write_mo`), the same steps
as `pybabel extract/update`, with our keywords and the styles file, and the test suite can call
the check without a subprocess. Compiling is `hatch_build.py`'s job at install time; in a
working checkout a `.po` newer than its `.mo` is read directly (`bot.core.language`), so an
edited catalogue shows at the next start without a step to forget.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import yaml
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from bot.core.language import LANGUAGES, LOCALES_DIR, PSEUDO, placeholders

BOT_DIR = Path(__file__).resolve().parent
STYLES = BOT_DIR / "styles.yaml"
KEYWORDS = {"Text": None, "Plural": (1, 2)}
PROJECT = "imaginebot"
# Each area's catalogue and the folder under bot/ its messages are extracted from (the
# styles' catalogue is read from bot/styles.yaml). Python and the web's Jinja2 templates.
DOMAINS: dict[str, str | None] = {
    "core": "core",
    "discord": "adapters/discord",
    "telegram": "adapters/telegram",
    "web": "web",
    "styles": None,
}
# Python files give `Text`/`Plural` messages; the web's Jinja2 templates give their `_()`,
# `{% trans %}` and gettext calls (jinja2.ext.i18n, the `%(name)s` placeholders of newstyle
# gettext). The script files (bot/web/static/*.js) hold no words: the page hands them theirs.
PYTHON = [("**.py", "python")]
TEMPLATES = [("**/templates/**.html", "jinja2.ext:babel_extract")]
TEMPLATE_KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
}
PYTHON_FIELD = re.compile(r"%\(\w+\)s")


def template_path(domain: str) -> Path:
    return LOCALES_DIR / f"{domain}.pot"


def catalogue_path(locale: str, domain: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / f"{domain}.po"


def extract(domain: str) -> Catalog:
    """Every message one area of the bot shows, as a template."""
    template = Catalog(project=PROJECT, fuzzy=False)
    folder = DOMAINS[domain]
    if folder is None:
        for words, location in _style_messages():
            template.add(words, locations=[location], auto_comments=["A style's name or line."])
        return template
    for methods, keywords in ((PYTHON, KEYWORDS), (TEMPLATES, TEMPLATE_KEYWORDS)):
        found = extract_from_dir(
            str(BOT_DIR / folder), method_map=methods, keywords=keywords, comment_tags=("i18n:",)
        )
        for filename, lineno, message, comments, context in found:
            location = (f"bot/{folder}/{filename}", lineno)
            template.add(message, locations=[location], auto_comments=comments, context=context)
    if domain == "discord":
        _add_command_messages(template)
    return template


def _add_command_messages(template: Catalog) -> None:
    """The Discord commands' names, descriptions and choices, walked from the command tree
    (bot/adapters/discord/translator.py says why not from the source text)."""
    from bot.adapters.discord.translator import command_messages, command_tree

    location = ("bot/adapters/discord/commands.py", 0)
    for message, context, comment in command_messages(command_tree()):
        if template.get(message, context=context) is None:
            template.add(message, locations=[location], auto_comments=[comment], context=context)


def _style_messages() -> Iterator[tuple[str, tuple[str, int]]]:
    styles = yaml.safe_load(STYLES.read_text(encoding="utf-8"))["styles"]
    for index, style in enumerate(styles, start=1):
        for key in ("name", "description"):
            yield str(style[key]), ("bot/styles.yaml", index)


def pseudo(message: str) -> str:
    """The pseudo-locale's wording: accented, bracketed, placeholders (`{name}`, and a
    template's `%(name)s`) kept as they are, so a test can tell a catalogue text from one
    that escaped the catalogue."""
    accents = str.maketrans("AaCcEeIiNnOoSsUuYyZz", "ÅåÇçÉéÎîÑñÖöŠšÜüÝýŽž")
    out: list[str] = []
    depth = 0
    index = 0
    while index < len(message):
        field = None if depth else PYTHON_FIELD.match(message, index)
        if field is not None:
            out.append(field.group())
            index = field.end()
            continue
        char = message[index]
        depth += char == "{"
        out.append(char if depth else char.translate(accents))
        depth -= char == "}" and depth > 0
        index += 1
    return f"⟦{''.join(out)}⟧"


def _pseudo_catalogue(template: Catalog) -> Catalog:
    catalogue = Catalog(locale="en", project=PROJECT, fuzzy=False)
    for message in template:
        if not message.id:
            continue
        parts = _parts(message.id)
        wording = pseudo(parts[0]) if len(parts) == 1 else tuple(pseudo(p) for p in parts)
        catalogue.add(message.id, wording, locations=message.locations, context=message.context)
    return catalogue


def _write(catalogue: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalogue, width=100, sort_output=True)


def read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle)


def update() -> None:
    for domain in DOMAINS:
        template = extract(domain)
        _write(template, template_path(domain))
        for locale in LANGUAGES[1:]:
            path = catalogue_path(locale, domain)
            catalogue = read(path) if path.is_file() else Catalog(locale=locale, project=PROJECT)
            catalogue.update(template, update_header_comment=False)
            _write(catalogue, path)
        _write(_pseudo_catalogue(template), catalogue_path(PSEUDO, domain))


def problems(locale: str) -> list[str]:
    """What is wrong with one language's catalogues, as lines a translator can act on."""
    found = []
    for domain in DOMAINS:
        path = catalogue_path(locale, domain)
        if not path.is_file():
            found.append(f"{locale}: no catalogue at {path.relative_to(BOT_DIR.parent)}")
            continue
        catalogue = read(path)
        for expected in read(template_path(domain)):
            if expected.id:
                message = catalogue.get(expected.id, context=expected.context)
                found.extend(_message_problems(locale, expected, message))
        for message, errors in catalogue.check():
            found.extend(f"{locale}: {message.id!r}: {error}" for error in errors)
    return found + _disagreements(locale)


def _disagreements(locale: str) -> list[str]:
    """Messages two areas share but word differently. A process reads a locale's areas as one
    catalogue (the later area wins), so the adapter whose area lost would show the other's
    words: one message, one wording."""
    wordings: dict[tuple[object, object], tuple[str, object]] = {}
    found = []
    for domain in DOMAINS:
        path = catalogue_path(locale, domain)
        if not path.is_file():
            continue
        for message in read(path):
            if not message.id or message.fuzzy:
                continue
            key = (message.id, message.context)
            first = wordings.setdefault(key, (domain, message.string))
            if first[1] != message.string:
                name = _parts(message.id)[0]
                found.append(f"{locale}: {name!r}: worded differently in {first[0]} and {domain}")
    return found


def _parts(value: object) -> tuple[str, ...]:
    """A message's id or wording as its forms (one, or singular and plurals)."""
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list | tuple):
        return tuple(str(part) for part in value)
    return ("",)


def _message_problems(locale: str, expected: Message, message: Message | None) -> list[str]:
    english = _parts(expected.id)
    name = english[0]
    if message is None or message.fuzzy:
        return [f"{locale}: {name!r}: {'fuzzy' if message else 'missing'}"]
    wordings = _parts(message.string)
    if not all(wordings):
        return [f"{locale}: {name!r}: not translated"]
    wanted = set().union(*(_fields(part) for part in english)) - {"count"}
    out = []
    for wording in wordings:
        got = _fields(wording) - {"count"}
        if got != wanted:
            out.append(f"{locale}: {name!r}: placeholders {sorted(got)} != {sorted(wanted)}")
    return out


def _fields(message: str) -> set[str]:
    """A message's placeholders: `{name}` ones, and a template's `%(name)s` ones."""
    return set(placeholders(message)) | set(PYTHON_FIELD.findall(message))


def check() -> list[str]:
    return [line for locale in (*LANGUAGES[1:], PSEUDO) for line in problems(locale)]


def init(locale: str) -> list[Path]:
    written = []
    for domain in DOMAINS:
        path = catalogue_path(locale, domain)
        if path.exists():
            raise SystemExit(f"{path} exists already; run `python -m bot.catalogues update`")
        catalogue = Catalog(locale=locale, project=PROJECT)
        catalogue.update(read(template_path(domain)))
        _write(catalogue, path)
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["update"]:
        update()
        return 0
    if args == ["check"]:
        lines = check()
        print("\n".join(lines) if lines else "every catalogue is complete")
        return 1 if lines else 0
    if len(args) == 2 and args[0] == "init":
        print("\n".join(str(path) for path in init(args[1])))
        return 0
    print("usage: python -m bot.catalogues update | check | init LANG", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())

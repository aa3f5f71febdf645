"""`imaginebot styles ACTION --scope PLATFORM:ID`: a community's own styles from the command
line, through the same core calls (and the same checks on words and pictures) as the chat
commands. Without an action, `imaginebot styles` lists the built-in catalogue.

- `list`: the built-in styles and the scope's own (hidden ones marked), with their codes;
- `create --name N --recipe '{prompt}, ...' [--description] [--negative] [--aspect] [--count]
  [--provider] [--reference FILE]... [--hidden] [--private]`;
- `edit NAME [the same options; --visible, --public; --reference replaces the pictures,
  --no-references removes them]`;
- `delete NAME`; `export NAME|#CODE [-o FILE]`; `import FILE|-|#CODE [--name N]`.

The operator is the admin here: who runs the command may change any scope's styles.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core.models import ASPECT_RATIOS, MAX_COUNT, Requester, Scope, Style
from bot.core.requests.style_recipes import MAX_EXPORT_CHARS, MAX_REFERENCES
from bot.settings import Settings

if TYPE_CHECKING:  # the service is imported when a command runs, not when the CLI parses
    from bot.core.requests.community_styles import CommunityStyles

ACTIONS = ("list", "create", "edit", "delete", "export", "import")


def scope_arg(text: str) -> Scope:
    """`PLATFORM:ID`, e.g. `discord:123456789` or `telegram:-1001234`."""
    platform, _, scope_id = text.partition(":")
    if platform not in ("discord", "telegram", "cli") or not scope_id or len(scope_id) > 64:
        raise argparse.ArgumentTypeError(
            "give the scope as PLATFORM:ID, e.g. discord:123456789 or telegram:-1001234"
        )
    return Scope(platform=platform, id=scope_id)


def _fields(parser: argparse.ArgumentParser, *, creating: bool) -> None:
    parser.add_argument("--name", required=creating, help="the style's name (members type it)")
    parser.add_argument("--recipe", required=creating, help="the prompt recipe, with {prompt}")
    parser.add_argument("--description", help="one short line shown in lists")
    parser.add_argument("--negative", help="the negative prompt")
    parser.add_argument("--aspect", choices=ASPECT_RATIOS, help="the default aspect")
    parser.add_argument(
        "--count", type=int, choices=range(1, MAX_COUNT + 1), metavar="N", help="default count"
    )
    parser.add_argument("--provider", help="the preferred provider (one configured)")
    parser.add_argument(
        "--reference",
        action="append",
        metavar="FILE",
        help=f"a reference picture (up to {MAX_REFERENCES}; repeat the option)",
    )
    parser.add_argument("--hidden", action="store_true", help="hidden from members")
    parser.add_argument("--private", action="store_true", help="its code works only here")
    if not creating:
        parser.add_argument("--visible", action="store_true", help="no longer hidden")
        parser.add_argument("--public", action="store_true", help="its code works anywhere")
        parser.add_argument(
            "--no-references", action="store_true", help="remove the reference pictures"
        )


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p_styles = sub.add_parser(
        "styles", help="the style catalogue; a community's own styles (create, edit, ...)"
    )
    actions = p_styles.add_subparsers(
        dest="styles_action",
        metavar="ACTION",
        help="list, create, edit, delete, export or import a scope's own styles",
    )
    helps = {
        "list": "the built-in styles and a scope's own",
        "create": "a new style of the scope",
        "edit": "change a style of the scope",
        "delete": "delete a style of the scope",
        "export": "a style as YAML text",
        "import": "a style from YAML text (a file, - for stdin) or a #CODE",
    }
    for action in ACTIONS:
        p_action = actions.add_parser(action, help=helps[action])
        p_action.add_argument(
            "--scope", type=scope_arg, required=True, metavar="PLATFORM:ID", help="whose styles"
        )
        if action in ("edit", "delete", "export"):
            p_action.add_argument("style", help="the style's name (export: or its #CODE)")
        if action in ("create", "edit"):
            _fields(p_action, creating=action == "create")
        if action == "export":
            p_action.add_argument("-o", "--output", help="file to write (default: stdout)")
        if action == "import":
            p_action.add_argument("source", help="a YAML file, - for stdin, or a #CODE")
            p_action.add_argument("--name", help="import under this name")


def _pictures(files: list[str] | None) -> list[bytes] | None:
    if files is None:
        return None
    if len(files) > MAX_REFERENCES:
        raise ValueError(f"at most {MAX_REFERENCES} reference pictures")
    pictures = []
    for name in files:
        with Path(name).open("rb") as handle:
            pictures.append(handle.read(64 * 1024 * 1024))
    return pictures


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    names = {"name": "name", "recipe": "template", "description": "description"}
    names |= {"negative": "negative", "aspect": "aspect", "count": "count"}
    names |= {"provider": "provider"}
    changes = {field: getattr(args, arg) for arg, field in names.items()}
    changes = {k: v for k, v in changes.items() if v is not None}
    for flag, field, value in (
        ("hidden", "hidden", True),
        ("visible", "hidden", False),
        ("private", "private", True),
        ("public", "private", False),
    ):
        if getattr(args, flag, False):
            changes[field] = value
    return changes


def _read_source(source: str) -> str:
    """What `import` reads: a #CODE as given, stdin for `-`, else the file (bounded)."""
    if source.strip().startswith("#"):
        return source
    if source == "-":
        return sys.stdin.read(MAX_EXPORT_CHARS + 1)
    with Path(source).open(encoding="utf-8") as handle:
        return handle.read(MAX_EXPORT_CHARS + 1)


def style_line(style: Style) -> str:
    marks = [m for m, on in (("hidden", style.hidden), ("private", style.private)) if on]
    pictures = len(style.style_references)
    extra = f", {pictures} reference picture{'s' * (pictures != 1)}" if pictures else ""
    flags = f" [{', '.join(marks)}]" if marks else ""
    return f"{style.id}  {style.code}  {style.name}{flags}{extra}: {style.template}"


async def _act(community: CommunityStyles, args: argparse.Namespace, who: Requester) -> str:
    scope: Scope = args.scope
    action = args.styles_action
    if action == "list":
        own = await community.styles_of(scope)
        lines = [f"{s.id}  {s.emoji} {s.name}" for s in community.builtins]
        lines += [style_line(s) for s in own] or ["(no styles of its own)"]
        return "\n".join(lines)
    if action == "create":
        from bot.core.requests.style_recipes import StyleDraft

        draft = StyleDraft(**{**_changes(args), "name": args.name, "template": args.recipe})
        pictures = await asyncio.to_thread(_pictures, args.reference)
        return "created: " + style_line(await community.create(scope, who, draft, pictures or []))
    if action == "edit":
        pictures = [] if args.no_references else await asyncio.to_thread(_pictures, args.reference)
        return "edited: " + style_line(
            await community.edit(scope, args.style, _changes(args), pictures)
        )
    if action == "delete":
        return "deleted: " + style_line(await community.delete(scope, args.style))
    if action == "export":
        text = await community.export(scope, args.style)
        if args.output:
            await asyncio.to_thread(Path(args.output).write_text, text, encoding="utf-8")
            return f"written: {args.output}"
        return text.rstrip("\n")
    text = await asyncio.to_thread(_read_source, args.source)
    return "imported: " + style_line(await community.import_text(scope, who, text, args.name))


async def styles(settings: Settings, args: argparse.Namespace) -> int:
    """Exit status: 0 done, 2 refused (the reason on stderr)."""
    from bot.bootstrap import BotApp
    from bot.core.errors import UserFacingError

    app = await BotApp.create(settings)
    user = getpass.getuser()
    who = Requester(platform="cli", user_id=user, display_name=user)
    try:
        print(await _act(app.service.community, args, who))
        return 0
    except UserFacingError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as exc:
        print(f"error: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
        return 2
    finally:
        await app.close()

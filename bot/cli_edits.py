"""`imaginebot edit`, `zoom`, `pan` and `square`: edits of an earlier picture on the command
line, through the same core calls (and the same ownership and scope checks) as the chat will
use, the result written like `imagine` writes it.

- `edit GEN_ID --index K --mask MASK.png [--prompt TEXT]`: Vary (Region). The mask is a PNG
  of the picture's size: transparent pixels (or, with no transparency, white ones) are the
  area to repaint; the prompt defaults to the request's own.
- `edit GEN_ID --index K --prompt TEXT` (no mask): Edit by words, on providers that edit by
  instruction (OpenAI's GPT image models).
- `zoom GEN_ID --index K --factor 1.5|2`, `pan GEN_ID --index K --direction left|right|up|down`
  and `square GEN_ID --index K`: the canvas grown and the new area filled.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.models import MAX_COUNT, EditRequest, ReplyTarget, Requester, Scope, Ticket
from bot.settings import Settings

if TYPE_CHECKING:  # the service is imported when a command runs, not when the CLI parses
    from bot.core.requests.service import GenerationService

MAX_MASK_BYTES = 16 * 1024 * 1024  # a 4096 x 4096 mask is well under this as a PNG


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("generation_id", help="the request's id (see `imaginebot history`)")
    parser.add_argument(
        "--index",
        type=int,
        default=1,
        choices=range(1, MAX_COUNT + 1),
        metavar="K",
        help="which image, 1-4, as numbered on the grid (default: 1)",
    )
    parser.add_argument("-o", "--output", help="file to write (default: imaginebot-<id>)")


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p_edit = sub.add_parser(
        "edit", help="repaint part of image K under a mask, or edit it by words"
    )
    _common(p_edit)
    p_edit.add_argument(
        "--mask",
        metavar="MASK.png",
        help="a PNG of the picture's size; transparent (or white) = the area to change; "
        "without it, the prompt edits the whole picture by words",
    )
    p_edit.add_argument("--prompt", help="what to paint (default: the request's own prompt)")
    p_zoom = sub.add_parser("zoom", help="zoom out of image K: more of the scene around it")
    _common(p_zoom)
    p_zoom.add_argument(
        "--factor", type=float, choices=(1.5, 2.0), default=2.0, help="1.5 or 2 (default: 2)"
    )
    p_pan = sub.add_parser("pan", help="extend image K by half to one side")
    _common(p_pan)
    p_pan.add_argument(
        "--direction",
        required=True,
        choices=("left", "right", "up", "down"),
        help="the side to extend by half the picture",
    )
    p_square = sub.add_parser("square", help="make image K square, filling the new parts")
    _common(p_square)


def edit_of(args: argparse.Namespace) -> EditRequest:
    if args.command == "zoom":
        return EditRequest(action="zoom", factor=args.factor)
    if args.command == "pan":
        return EditRequest(action="pan", direction=args.direction)
    if args.command == "square":
        return EditRequest(action="square")
    return EditRequest(action="region" if args.mask else "words")


def read_mask(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(MAX_MASK_BYTES + 1)


async def edit(settings: Settings, args: argparse.Namespace) -> int:
    """Exit status: 0 with the result written, 1 when it failed, 2 for bad input."""
    from bot.cli_imagine import run_request

    request = edit_of(args)
    mask = None
    if getattr(args, "mask", None):
        try:
            mask = read_mask(Path(args.mask))
        except OSError as exc:
            print(f"error: cannot read {args.mask}: {exc.strerror}", file=sys.stderr)
            return 2
        if len(mask) > MAX_MASK_BYTES:
            print(f"error: {args.mask} is too large for a mask", file=sys.stderr)
            return 2
    prompt = getattr(args, "prompt", None)
    if request.action == "words" and not prompt:
        print(
            "error: give --mask for the area to change, or --prompt to edit by words",
            file=sys.stderr,
        )
        return 2

    async def submit(
        service: GenerationService, who: Requester, scope: Scope, target: ReplyTarget
    ) -> Ticket:
        return await service.edit(
            args.generation_id, args.index, request, who, scope, target, mask=mask, prompt=prompt
        )

    output = Path(args.output) if args.output else None
    return await run_request(settings, submit, output)


COMMANDS = {"edit": edit, "zoom": edit, "pan": edit, "square": edit}

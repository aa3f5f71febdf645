"""The short words the Discord adapter puts on buttons and beside values: each button's
label, a request's kind and state, as catalogue `Text`s rendered in the reader's locale.

The core's button classes keep their English `label` (its identity in logs and tests); the
words a person reads are here, one `Text` per class, because Babel only extracts literal
messages and a class attribute read at run time would never reach the catalogue.
"""

from __future__ import annotations

from typing import Final

from bot.core.language import Text
from bot.core.models import Kind, Status
from bot.core.requests.button_data import Button
from bot.core.requests.buttons import (
    Delete,
    EditMenu,
    Info,
    Remix,
    Reroll,
    RestyleMenu,
    Share,
    Upscale,
    Vary,
    VaryRegion,
)

BUTTON_LABELS: Final[dict[type[Button], Text]] = {
    Reroll: Text("Reroll"),
    RestyleMenu: Text("Restyle"),
    Remix: Text("Remix"),
    Info: Text("Info"),
    Delete: Text("Delete"),
    Share: Text("Share"),
    Upscale: Text("Upscale"),
    Vary: Text("Vary"),
    EditMenu: Text("Edit"),
    VaryRegion: Text("Vary (Region)"),
}

KINDS: Final[dict[Kind, Text]] = {
    Kind.IMAGINE: Text("imagine"),
    Kind.REROLL: Text("reroll"),
    Kind.RESTYLE: Text("restyle"),
    Kind.UPSCALE: Text("upscale"),
    Kind.VARY: Text("vary"),
    Kind.REMIX: Text("remix"),
    Kind.DESCRIBE: Text("describe"),
    Kind.EDIT: Text("edit"),
    Kind.ZOOM: Text("zoom out"),
    Kind.PAN: Text("pan"),
    Kind.SQUARE: Text("make square"),
}

STATES: Final[dict[Status, Text]] = {
    Status.QUEUED: Text("queued"),
    Status.RUNNING: Text("running"),
    Status.DONE: Text("done"),
    Status.FAILED: Text("failed"),
    Status.DELIVERED: Text("delivered"),
}

PAN_WAYS: Final[dict[str, Text]] = {
    "left": Text("Pan left"),
    "right": Text("Pan right"),
    "up": Text("Pan up"),
    "down": Text("Pan down"),
}

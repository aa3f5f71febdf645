"""Every button under a result, every kind of request and every state has its words in the
catalogue (bot/adapters/discord/labels.py): a class or value added without them would show
its English to every reader."""

from __future__ import annotations

from bot.adapters.discord.labels import BUTTON_LABELS, KINDS, PAN_WAYS, STATES
from bot.adapters.discord.result_buttons import button_label, tile_label
from bot.core.language import PSEUDO
from bot.core.models import Kind, Status
from bot.core.requests.buttons import PAN_ARROWS, RESULT_ACTIONS, TILE_ACTIONS, Upscale, VaryRegion


def test_every_button_kind_state_and_direction_has_catalogue_words() -> None:
    assert {*RESULT_ACTIONS, *TILE_ACTIONS, VaryRegion} <= set(BUTTON_LABELS)
    assert set(KINDS) == set(Kind) and set(STATES) == set(Status)
    assert set(PAN_WAYS) == set(PAN_ARROWS)


def test_labels_are_read_in_the_readers_language() -> None:
    assert button_label(Upscale, "de") == "Hochskalieren"
    assert button_label(Upscale, "en_XA") == "⟦Üpšçålé⟧"
    assert tile_label(Upscale, 3, PSEUDO) == "⟦Ü3⟧"
    assert tile_label(Upscale, 3, "en") == "U3"

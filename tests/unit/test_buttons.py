"""The button classes (bot/core/requests/buttons.py): every one packs and parses back on each platform
it exists on, within that platform's limit; any outside string parses or is refused, never
raises; no two classes claim one tag."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.adapters.discord import result_buttons as discord_result_buttons
from bot.adapters.discord.buttons import Buttons as DiscordButtons
from bot.adapters.telegram import result_buttons as telegram_result_buttons
from bot.adapters.telegram.buttons import Buttons as TelegramButtons
from bot.core.language import LANGUAGES
from bot.core.models import EditRequest, FollowUps, Generation, Kind, Requester, Scope, StoredImage
from bot.core.requests.button_data import (
    LIMITS,
    Button,
    FollowUp,
    Platform,
    Registry,
    TileAction,
)
from bot.core.requests.buttons import (
    BUTTONS,
    RESULT_ACTIONS,
    TILE_ACTIONS,
    ChatDefault,
    MakeSquare,
    Pan,
    Reroll,
    RestylePick,
    Share,
    Show,
    ZoomOut,
)
from bot.core.requests.service import GenerationService, PreparedRequest
from tests.fakes.discord_api import validate_message

PLATFORMS: tuple[Platform, ...] = ("telegram", "discord")
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    # What admission makes (16 hex digits); the parser takes up to 32 from older data.
    "generation_id": st.from_regex(r"[0-9a-f]{16}", fullmatch=True),
    "index": st.integers(1, 4),
    "style": st.from_regex(r"[a-z0-9][a-z0-9-]{0,31}", fullmatch=True),  # <= 32 bytes
    "who": st.from_regex(r"-?[0-9]{1,20}", fullmatch=True),
    "factor": st.sampled_from([1.5, 2.0]),
    "direction": st.sampled_from(["left", "right", "up", "down"]),
    "locale": st.sampled_from([None, *LANGUAGES]),
}
OPTIONAL_STYLE = st.one_of(st.none(), FIELDS["style"])


def instances(cls: type[Button]) -> st.SearchStrategy[Button]:
    fields = {f.name: FIELDS[f.name] for f in dataclasses.fields(cls)}
    if "style" in fields and not issubclass(cls, RestylePick):  # a default style: may clear
        fields["style"] = OPTIONAL_STYLE
    return st.builds(cls, **fields)


def chosen(button: Button) -> str | None:
    """What a Discord select menu sends beside the custom id."""
    if isinstance(button, RestylePick):
        return button.style
    if isinstance(button, Show):
        return button.generation_id
    return None


PAIRS = [(cls, p) for cls in BUTTONS.classes for p in PLATFORMS if cls.tag(p) is not None]


@pytest.mark.parametrize(("cls", "platform"), PAIRS, ids=lambda v: getattr(v, "__name__", v))
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_every_button_packs_and_parses_back(
    cls: type[Button], platform: Platform, data: st.DataObject
) -> None:
    button = data.draw(instances(cls))
    packed = button.pack(platform)
    assert packed.isascii() and len(packed.encode()) <= LIMITS[platform]
    assert BUTTONS.parse(platform, packed, chosen(button)) == button


def test_every_class_is_on_some_platform_and_existing_data_still_parses() -> None:
    assert all(cls.tag("telegram") or cls.tag("discord") for cls in BUTTONS.classes)
    # Wire formats of buttons already posted keep their meaning.
    assert BUTTONS.parse("telegram", "ib:r:0123abcd") == Reroll("0123abcd")
    assert BUTTONS.parse("discord", "ib:reroll:0123abcd") == Reroll("0123abcd")
    assert BUTTONS.parse("telegram", "ib:S:ab:anime") == RestylePick("ab", "anime")
    assert BUTTONS.parse("discord", "ib:restyle-pick:ab", "anime") == RestylePick("ab", "anime")
    assert BUTTONS.parse("telegram", "ib:A:") == ChatDefault(None)


def test_edit_buttons_carry_their_edit_and_refuse_any_other() -> None:
    assert BUTTONS.parse("telegram", "ib:z:ab:2:1.5") == ZoomOut("ab", 2, 1.5)
    assert BUTTONS.parse("discord", "ib:zoom:ab:1:2") == ZoomOut("ab", 1, 2.0)
    assert BUTTONS.parse("telegram", "ib:p:ab:4:up") == Pan("ab", 4, "up")
    assert BUTTONS.parse("discord", "ib:square:ab:1") == MakeSquare("ab", 1)
    for refused in ("ib:z:ab:1:3", "ib:z:ab:1:2.0", "ib:z:ab:1", "ib:p:ab:1:Left", "ib:p:ab:5:up"):
        assert BUTTONS.parse("telegram", refused) is None, refused
    assert ZoomOut("ab", 1, 2.0).edit() == EditRequest(action="zoom", factor=2.0)
    assert Pan("ab", 1, "down").edit() == EditRequest(action="pan", direction="down")
    assert MakeSquare("ab", 1).edit() == EditRequest(action="square")


OUTSIDE = st.one_of(
    st.text(max_size=130),
    st.text(alphabet=st.sampled_from(list("ib:rSsuvAdFX-0123456789abcdef²٣１\n ")), max_size=80),
    st.builds(
        lambda tag, rest: f"ib:{tag}:{rest}",
        st.sampled_from(
            [t for p in PLATFORMS for t in BUTTONS.tags(p)] + ["", "zz", "r:r"],
        ),
        st.text(max_size=110),
    ),
)


@settings(max_examples=600, deadline=None)
@given(OUTSIDE, st.one_of(st.none(), st.text(max_size=70)), st.sampled_from(PLATFORMS))
@example("ib:u:abc:\u00b2", None, "telegram")
@example("ib:upscale:abc:\u0663", None, "discord")
@example("ib:vary:abc:9999999999999999999999", None, "discord")
@example("ib:reroll:abc\u00a0", None, "discord")
@example("ib:S:abc:ANIME", None, "telegram")
@example("ib:restyle-pick:abc", "anime\n", "discord")
def test_any_outside_string_parses_or_is_refused(
    data: str, choice: str | None, platform: Platform
) -> None:
    button = BUTTONS.parse(platform, data, choice)
    if button is None:
        return
    # What was accepted is exactly what the class would have packed.
    assert button.pack(platform) == data
    assert data.isascii() and len(data.encode()) <= LIMITS[platform]


def test_no_two_classes_claim_one_tag() -> None:
    for platform in PLATFORMS:
        tags = [cls.tag(platform) for cls in BUTTONS.classes if cls.tag(platform)]
        assert len(tags) == len(set(tags)), platform
        assert len(BUTTONS.tags(platform)) == len(tags)

    @dataclasses.dataclass(frozen=True)
    class AnotherReroll(Reroll):
        discord = "another-reroll"  # its Telegram tag is still Reroll's "r"

    with pytest.raises(ValueError, match="'r'"):
        Registry(Reroll, AnotherReroll)


@pytest.mark.parametrize("cls", [*TILE_ACTIONS, *RESULT_ACTIONS], ids=lambda c: c.__name__)
def test_each_action_under_a_result_is_offered_by_its_own_flag(cls: type[TileAction]) -> None:
    flags = set(FollowUps.model_fields) - {"upscaler"}
    for flag in flags:
        offers = FollowUps.model_validate({flag: True})
        generation = Generation.model_construct(follow_ups=offers)
        # its flag, or a property made of flags (the Edit menu: any edit some provider can make)
        named = cls.offered_by in FollowUps.model_fields
        expected = flag == cls.offered_by if named else getattr(offers, cls.offered_by)
        assert cls.offered(generation) is expected, flag
    assert cls.offered(Generation.model_construct(follow_ups=FollowUps())) is False


@dataclasses.dataclass(frozen=True)
class SquareTile(TileAction, FollowUp):
    """docs/architecture.md's example of a new follow-up button, as it would be written."""

    telegram, discord = "q", "make-square"
    short, label, telegram_emoji = "S", "Make square", "⬜"
    offered_by = "upscale"

    def prepare(
        self, service: GenerationService, requester: Requester, scope: Scope
    ) -> Awaitable[PreparedRequest]:
        square = EditRequest(action="square")
        return service.prepare_edit(self.generation_id, self.index, square, requester, scope)


def test_a_new_follow_up_class_needs_no_adapter_change(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both adapters render it from `TILE_ACTIONS` and dispatch it as any `FollowUp`."""
    tiles = (*TILE_ACTIONS, SquareTile)
    monkeypatch.setattr(telegram_result_buttons, "TILE_ACTIONS", tiles)
    monkeypatch.setattr(discord_result_buttons, "TILE_ACTIONS", tiles)
    registry = Registry(*BUTTONS.classes, SquareTile)
    images = tuple(
        StoredImage(index=i, path=f"/x-{i}.png", width=8, height=8, seed=i) for i in range(1, 5)
    )
    offers = FollowUps(upscale=True, vary=True, reroll=True, restyle=True, remix=True)
    grid = Generation.model_construct(
        id="0123abcd", kind=Kind.IMAGINE, images=images, count=4, follow_ups=offers
    )

    keyboard = telegram_result_buttons.result_keyboard(grid)
    telegram_data = [b.callback_data for row in keyboard.inline_keyboard for b in row]
    rows = discord_result_buttons.result_view(grid).to_components()
    validate_message({"components": rows}, create=False)  # what Discord would refuse
    discord_ids = [c["custom_id"] for row in rows for c in row["components"]]
    packed_by: tuple[tuple[Platform, list[Any]], ...] = (
        ("telegram", telegram_data),
        ("discord", discord_ids),
    )
    for platform, packed in packed_by:
        squares = [registry.parse(platform, str(d)) for d in packed]
        assert [b for b in squares if isinstance(b, SquareTile)] == [
            SquareTile("0123abcd", k) for k in range(1, 5)
        ]
    # Each adapter runs it through its one follow-up handler.
    nothing: Any = None
    telegram = TelegramButtons(nothing, nothing, nothing, nothing)
    discord = DiscordButtons(nothing, nothing)
    assert telegram.handler_for(SquareTile("0123abcd", 1)) == telegram.follow_up
    assert discord.handler_for(SquareTile("0123abcd", 1)) == discord.follow_up


@given(st.text(max_size=120))
def test_an_inline_query_is_a_share_only_when_it_names_a_generation(text: str) -> None:
    """Inline queries are typed by anyone: `share:<id>` of the bot's own ids is a Share, any
    other text is not (it is a prompt), and nothing raises."""
    share = Share.from_inline_query(text)
    if share is not None:
        assert Share.from_inline_query(share.inline_query()) == share
        assert text.strip().lower().startswith("share:")


def test_share_round_trips_through_its_inline_query() -> None:
    share = Share("0123abcd")
    assert share.inline_query() == "share:0123abcd"
    assert Share.from_inline_query("  share:0123abcd ") == share
    assert Share.from_inline_query("share:../etc") is None
    assert Share.from_inline_query("a share:0123abcd cat") is None

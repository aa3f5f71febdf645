"""Whatever a prompt holds, the Discord rendering shows it as typed: no live Markdown, no bidi."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.adapters.discord.render import error_text, history_text, result_embed, shown
from bot.core.errors import UserFacingError
from bot.core.language import (
    ENGLISH,
    FIRST_STRONG_ISOLATE,
    POP_DIRECTIONAL_ISOLATE,
    Text,
    UserText,
)
from bot.core.models import Status
from bot.core.requests.styles import load_catalogue
from bot.core.text import BIDI_CONTROLS
from tests.fakes.discord_markdown import MarkdownLeak, displayed
from tests.support.generations import generation

STYLES = load_catalogue()
MARKUP = st.sampled_from(
    [
        "[click here](https://example.com/login)",
        "[",
        "](",
        ")",
        "# ",
        "## big",
        "-# small",
        "- ",
        "+ ",
        "1. ",
        "> ",
        ">>> ",
        "**",
        "*",
        "__",
        "_",
        "~~",
        "||",
        "`",
        "```",
        "\\",
        "<@123>",
        "<@&456>",
        "<#789>",
        "<t:1700000000:R>",
        "<:blob:123>",
        "</imagine:1>",
        "https://example.com/a_b*c",
        "@everyone",
        "\n",
        " ",
        "🦄",
        *sorted(BIDI_CONTROLS),
    ]
)
TEXT = st.lists(st.one_of(MARKUP, st.text(max_size=20)), max_size=60).map("".join)


def as_typed(text: str) -> str:
    """What the reader should see: the text without bidi controls and without indentation."""
    kept = "".join(c for c in text if c not in BIDI_CONTROLS)
    return "\n".join(line.lstrip() for line in kept.split("\n"))


def test_the_model_catches_live_markup() -> None:
    # The checker itself must fail on what the bot used to send.
    for raw in ("[x](https://e.com)", "# big", "1. one", "a *b*", "<@1>", "\u202eabc", "> q"):
        try:
            displayed(raw)
        except MarkdownLeak:
            continue
        raise AssertionError(f"{raw!r} passed as plain text")


@settings(max_examples=300, deadline=None)
@given(TEXT)
def test_shown_text_displays_as_typed(text: str) -> None:
    assert displayed(shown(text)) == as_typed(text)


@settings(max_examples=200, deadline=None)
@given(TEXT, st.one_of(st.none(), TEXT))
def test_result_embed_shows_the_prompt_as_typed(prompt: str, negative: str | None) -> None:
    g = generation(prompt if shown(prompt) else "x").model_copy(
        update={"negative_prompt": negative or None}
    )
    embed = result_embed(g, STYLES.find("anime"), "x.png").to_dict()
    assert len(embed["description"]) <= 4096
    assert displayed(embed["description"]).rstrip("…") in as_typed(g.prompt)
    for field in embed["fields"]:
        if field["name"] == "Negative":
            assert len(field["value"]) <= 1024
            assert displayed(field["value"]).rstrip("…") in as_typed(negative or "")


@settings(max_examples=150, deadline=None)
@given(TEXT, TEXT)
def test_history_lines_and_errors_show_user_text_as_typed(prompt: str, reason: str) -> None:
    g = generation(prompt or "x").model_copy(
        update={"status": Status.FAILED, "failure_reason": reason or "?"}
    )
    text = history_text([g])
    assert len(text) <= 2000 and not BIDI_CONTROLS & set(text)
    # Our own line uses Markdown on purpose (the quote marker, the style in backticks); the
    # user's text sits between it: the reason after "failed: ", the prompt after "> ".
    head, user_prompt = text.split("\n> ", 1)
    user_reason = head.split(" · failed: ", 1)[1]
    assert displayed(user_reason).rstrip("…") in as_typed(reason or "?")
    assert displayed(user_prompt).rstrip("…") in as_typed(g.prompt)
    refused = UserFacingError(Text("There is no style called “{name}”.", name=UserText(reason)))
    message = error_text(refused, ENGLISH)
    # The isolates around the user's words are ours (bot/core/language.py), the rest as typed.
    isolates = str.maketrans("", "", FIRST_STRONG_ISOLATE + POP_DIRECTIONAL_ISOLATE)
    # The person's words are escaped on their own, so their own first line loses its indent too.
    assert displayed(message.removeprefix("⚠️ ").translate(isolates)) == (
        f"There is no style called “{as_typed(reason)}”."
    )

"""Refusals and failures on Discord in the reader's language, end to end: `imaginebot run` and
a worker against the fake Discord, whose interactions carry the user's client `locale`. A
German user reads the core's words in German; the history keeps the English and the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.discord_api import Interaction
from tests.support import wait_for
from tests.support.discord_stack import Stack, ephemeral_answer, running_discord_stack

pytestmark = pytest.mark.e2e
FSI, PDI = "\u2068", "\u2069"


def contents(stack: Stack, interaction: Interaction) -> list[str]:
    return [
        str(w.body.get("content"))
        for w in stack.discord.writes(interaction)
        if w.body.get("content") is not None
    ]


def test_a_german_user_reads_refusals_and_failures_in_german(tmp_path: Path) -> None:
    with running_discord_stack(tmp_path) as stack:
        d = stack.discord
        unknown = d.slash("imagine", user="jonas", locale="de", prompt="a fox", style="nopestyle")
        # Their own words isolated inside the German sentence.
        assert ephemeral_answer(stack, unknown).startswith(
            f"⚠️ Es gibt keinen Stil namens „{FSI}nopestyle{PDI}“."
        )
        refused = d.slash("imagine", user="jonas", locale="de", prompt="REFUSE_ME a fox")
        row = stack.delivered_row(refused)
        assert (row["status"], row["failure_code"], row["locale"]) == ("failed", "refused", "de")
        assert row["failure_reason"] == (
            "The image service refused this prompt under its content policy."
        )
        german = "Der Bilddienst hat diesen Prompt wegen seiner Inhaltsrichtlinien abgelehnt."
        wait_for(
            lambda: any(german in text for text in contents(stack, refused)),
            15,
            message=lambda: f"the failure in German: {contents(stack, refused)}",
        )

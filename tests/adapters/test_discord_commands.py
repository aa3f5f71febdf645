"""Slash commands through real discord.py against simcord's in-memory Discord."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import simcord

from bot.core.models import Requester, Scope
from tests.support.discord_sim import Sim, simulation


def last_callback(sim: Sim) -> int:
    """The type of the bot's latest interaction callback (5 = deferred, 4 = message)."""
    types = [e.json["type"] for e in sim.env.http_requests if e.path.endswith("/callback")]
    return int(types[-1])


def mentions_of(sim: Sim) -> list[Any]:
    return [
        entry.json.get("allowed_mentions")
        for entry in sim.env.http_requests
        if isinstance(entry.json, dict) and ("content" in entry.json or "embeds" in entry.json)
    ]


async def test_imagine_parses_every_option_and_acknowledges_publicly(tmp_path: Path) -> None:
    async with simulation(tmp_path) as sim:
        result = await sim.alice.slash(
            sim.channel,
            "imagine",
            prompt="a red fox in snow",
            style="anime",
            aspect="3:2",
            negative="text, watermark",
            seed=42,
        )
        assert last_callback(sim) == 5 and not result.ephemeral
        assert result.response is not None and "Queued" in result.response.content
        row = await sim.latest(sim.alice)
        assert (row.prompt, row.style, row.aspect, row.negative_prompt, row.seed) == (
            "a red fox in snow",
            "anime",
            "3:2",
            "text, watermark",
            42,
        )
        assert row.scope_id == str(sim.guild.id) and row.chat_id == str(sim.channel.id)
        assert row.handle["requester_id"] == str(sim.alice.id)
        assert row.handle["size_limit"] == 26214400  # simcord's attachment_size_limit


async def test_bad_input_gets_an_ephemeral_answer_and_no_row(tmp_path: Path) -> None:
    async with simulation(tmp_path) as sim:
        unknown = await sim.alice.slash(sim.channel, "imagine", prompt="a fox", style="anmie")
        assert unknown.ephemeral and last_callback(sim) == 4
        assert unknown.response is not None
        assert "no style called" in unknown.response.content and "anime" in unknown.response.content
        empty = await sim.alice.slash(sim.channel, "imagine", prompt="   ")
        assert empty.ephemeral and "prompt is empty" in empty.response.content  # type: ignore[union-attr]
        assert await sim.app.store.history("discord", str(sim.alice.id), 10) == []


async def test_style_not_allowed_is_refused_in_plain_words(tmp_path: Path) -> None:
    async with simulation(tmp_path) as sim:
        scope = Scope(platform="discord", id=str(sim.guild.id))
        await sim.app.service.set_allowed_styles(scope, ["photo", "anime"])
        result = await sim.alice.slash(sim.channel, "imagine", prompt="a fox", style="pixel-art")
        assert result.ephemeral
        assert "not allowed here" in result.response.content  # type: ignore[union-attr]


async def test_autocomplete_filters_by_text_and_by_the_servers_allowed_styles(
    tmp_path: Path,
) -> None:
    async with simulation(tmp_path) as sim:
        everything = await sim.alice.autocomplete(sim.channel, "imagine", "style", "", prompt="x")
        assert len(everything) == min(25, len(list(sim.app.service.styles)))
        typed = await sim.alice.autocomplete(sim.channel, "imagine", "style", "pix", prompt="x")
        assert [c["value"] for c in typed] == ["pixel-art"]
        assert typed[0]["name"] == "👾 Pixel Art"
        await sim.app.service.set_allowed_styles(
            Scope(platform="discord", id=str(sim.guild.id)), ["photo", "anime"]
        )
        limited = await sim.alice.autocomplete(sim.channel, "imagine", "style", "", prompt="x")
        assert sorted(c["value"] for c in limited) == ["anime", "photo"]


async def test_acknowledged_within_three_seconds_even_when_validation_is_slow(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with simulation(tmp_path) as sim:
        real_prepare = sim.app.service.prepare

        async def slow_prepare(*args: Any, **kwargs: Any) -> Any:
            await asyncio.sleep(3.5)
            return await real_prepare(*args, **kwargs)

        monkeypatch.setattr(sim.app.service, "prepare", slow_prepare)
        result = await sim.alice.slash(sim.channel, "imagine", prompt="a slow fox")
        await sim.env.advance_time(4)
        assert last_callback(sim) == 5  # simcord refuses acknowledgements after 3 s
        assert "Queued" in result.response.content  # type: ignore[union-attr]


ADMIN_COMMANDS = [
    ("settings show", {}),
    ("settings default-style", {"style": "anime"}),
    ("settings allowed-styles", {"styles": "photo, anime"}),
    ("settings limits", {"per-member": 5, "per-server": 40, "waiting": 1}),
    ("settings nsfw", {"choice": "on"}),
]


@pytest.mark.parametrize(("command", "options"), ADMIN_COMMANDS)
@pytest.mark.parametrize("who", ["admin", "manager", "alice", "moderator"])
async def test_admin_commands_need_manage_server(
    tmp_path: Path, who: str, command: str, options: dict[str, str]
) -> None:
    async with simulation(tmp_path) as sim:
        member = getattr(sim, who)
        # Server admins may hand the command to anyone in Server Settings > Integrations;
        # the handler must still refuse members without Manage Server.
        commands = await sim.adapter.client.tree.fetch_commands()
        group = next(c for c in commands if c.name == "settings")
        sim.guild.set_command_permissions(group, {member: True})
        result = await member.slash(sim.channel, command, **options)
        assert result.ephemeral
        text = result.response.content  # type: ignore[union-attr]
        scope = Scope(platform="discord", id=str(sim.guild.id))
        settings = await sim.app.service.scope_settings(scope)
        limits = await sim.app.service.scope_limit_overrides(scope)
        if who in ("admin", "manager"):
            assert "Only server admins" not in text
            if command == "settings default-style":
                assert settings.default_style == "anime"
            if command == "settings allowed-styles":
                assert settings.allowed_styles == ("photo", "anime")
            if command == "settings limits":
                assert limits == (5, 40, 1)
                assert "5 pictures per member, 40 for the server" in text
                assert "at most 1 waiting" in text
            if command == "settings nsfw":
                assert settings.nsfw is True
        else:
            assert "Only server admins" in text
            assert settings.default_style is None and settings.allowed_styles == ()
            assert limits == (None, None, None) and settings.nsfw is False


async def test_settings_are_not_offered_in_dms(tmp_path: Path) -> None:
    async with simulation(tmp_path) as sim:
        user = sim.env.create_user("dmuser")
        assert "settings show" not in user.available_commands()
        with pytest.raises((simcord.SetupError, simcord.BackendError)):
            await user.slash("settings show")


async def test_imagine_in_a_dm_uses_the_dm_scope(tmp_path: Path) -> None:
    async with simulation(tmp_path) as sim:
        user = sim.env.create_user("dmuser")
        await user.slash("imagine", prompt="a dm fox")
        assert last_callback(sim) == 5
        found = await sim.app.store.history("discord", str(user.id), 1)
        assert found and found[0].scope_id == f"dm:{found[0].chat_id}"


async def test_admin_default_style_changes_the_next_imagine(tmp_path: Path) -> None:
    async with simulation(tmp_path) as sim:
        await sim.admin.slash(sim.channel, "settings default-style", style="pixel-art")
        await sim.alice.slash(sim.channel, "imagine", prompt="a castle")
        assert (await sim.latest(sim.alice)).style == "pixel-art"


async def test_styles_marks_defaults_and_mystyle_sets_and_clears(tmp_path: Path) -> None:
    async with simulation(tmp_path) as sim:
        await sim.admin.slash(sim.channel, "settings default-style", style="anime")
        set_result = await sim.alice.slash(sim.channel, "mystyle", style="pixel-art")
        assert set_result.ephemeral and "Pixel Art" in set_result.response.content  # type: ignore[union-attr]
        listing = await sim.alice.slash(sim.channel, "styles")
        text = listing.response.content  # type: ignore[union-attr]
        assert listing.ephemeral
        assert "**Anime** `anime` (server default)" in text
        assert "**Pixel Art** `pixel-art` (your default)" in text
        await sim.alice.slash(sim.channel, "imagine", prompt="a ship")
        assert (await sim.latest(sim.alice)).style == "pixel-art"  # the user's own default wins
        cleared = await sim.alice.slash(sim.channel, "mystyle")
        assert "cleared" in cleared.response.content  # type: ignore[union-attr]


async def test_a_refused_setting_is_answered_privately_and_changes_nothing(
    tmp_path: Path,
) -> None:
    async with simulation(tmp_path) as sim:
        refused = await sim.alice.slash(sim.channel, "mystyle", style="pixle-art")
        assert refused.ephemeral
        assert "no style called “\u2068pixle-art\u2069”" in refused.response.content  # type: ignore[union-attr]
        assert "pixel-art" in refused.response.content  # type: ignore[union-attr]
        assert (
            await sim.app.service.user_style(
                Requester(platform="discord", user_id=str(sim.alice.id), display_name="alice")
            )
            is None
        )
        bad = await sim.admin.slash(sim.channel, "settings allowed-styles", styles="anime, nope")
        assert bad.ephemeral and "nope" in bad.response.content  # type: ignore[union-attr]
        scope = Scope(platform="discord", id=str(sim.guild.id))
        assert (await sim.app.service.scope_settings(scope)).allowed_styles == ()


async def test_everyone_in_a_prompt_pings_nobody(tmp_path: Path) -> None:
    async with simulation(tmp_path) as sim:
        result = await sim.alice.slash(sim.channel, "imagine", prompt="@everyone @here look")
        await sim.finish(await sim.latest(sim.alice))
        message = result.response.message  # type: ignore[union-attr]
        assert not message.mention_everyone and message.mentions == []
        assert "@everyone" in (message.embeds[0].description or "")
        assert mentions_of(sim) and all(m == {"parse": []} for m in mentions_of(sim))


async def test_history_lists_the_last_requests_with_a_way_to_see_them(tmp_path: Path) -> None:
    async with simulation(tmp_path) as sim:
        await sim.alice.slash(sim.channel, "imagine", prompt="first picture")
        data = await sim.finish(await sim.latest(sim.alice), "first")
        await sim.alice.slash(sim.channel, "imagine", prompt="second picture")
        result = await sim.alice.slash(sim.channel, "history")
        assert result.ephemeral
        text = result.response.content  # type: ignore[union-attr]
        assert "first picture" in text and "second picture" in text and "delivered" in text
        first = (await sim.app.store.history("discord", str(sim.alice.id), 10))[-1]
        shown = await sim.alice.select(result.response, [first.id])  # type: ignore[arg-type]
        followup = shown.response or shown.followups[0]
        assert followup.ephemeral
        assert followup.attachments[0].filename == f"{first.id}.png"
        assert len(data) == followup.attachments[0].size

"""A server's own styles through real discord.py against simcord's in-memory Discord:
autocomplete, /styles, /mystyle and the admin /style commands without pictures (pictures come
from Discord's CDN: tests/e2e/test_discord_styles.py)."""

from __future__ import annotations

from pathlib import Path

from bot.core.models import Requester, Scope
from bot.core.requests.style_recipes import StyleDraft
from tests.support.discord_sim import Sim, simulation

NOIR = StyleDraft(name="Neon Noir", template="{prompt}, neon noir", description="Rain at night.")


async def noir(sim: Sim) -> str:
    scope = Scope(platform="discord", id=str(sim.guild.id))
    who = Requester(platform="discord", user_id=str(sim.admin.id), display_name="admin")
    style = await sim.app.service.community.create(scope, who, NOIR)
    assert style.code is not None
    return style.code


async def test_autocomplete_and_styles_list_the_servers_own_styles(tmp_path: Path) -> None:
    async with simulation(tmp_path) as sim:
        code = await noir(sim)
        typed = await sim.alice.autocomplete(sim.channel, "imagine", "style", "neon", prompt="x")
        # Beside the built-in Cyberpunk (neon in its description).
        assert ("🎨 Neon Noir", "neon-noir") in [(c["name"], c["value"]) for c in typed]
        listing = await sim.alice.slash(sim.channel, "styles")
        assert "**Neon Noir** `neon-noir`" in listing.response.content  # type: ignore[union-attr]
        chosen = await sim.alice.slash(sim.channel, "mystyle", style="neon-noir")
        assert "Neon Noir" in chosen.response.content  # type: ignore[union-attr]
        await sim.alice.slash(sim.channel, "imagine", prompt="a ship")
        assert (await sim.latest(sim.alice)).style == "neon-noir"
        default = await sim.admin.slash(sim.channel, "settings default-style", style=code)
        assert "Neon Noir" in default.response.content  # type: ignore[union-attr]


async def test_admins_list_export_edit_and_delete(tmp_path: Path) -> None:
    async with simulation(tmp_path) as sim:
        code = await noir(sim)
        listed = await sim.admin.slash(sim.channel, "style list")
        assert listed.ephemeral and code in listed.response.content  # type: ignore[union-attr]
        exported = await sim.admin.slash(sim.channel, "style export", style="Neon Noir")
        assert "imaginebot_style: 1" in exported.response.content  # type: ignore[union-attr]
        hidden = await sim.admin.slash(sim.channel, "style edit", style="neon-noir", hidden=True)
        assert "hidden" in hidden.response.content  # type: ignore[union-attr]
        typed = await sim.alice.autocomplete(sim.channel, "imagine", "style", "neon", prompt="x")
        assert "neon-noir" not in [c["value"] for c in typed] and typed
        gone = await sim.admin.slash(sim.channel, "style delete", style="neon-noir")
        assert "Deleted" in gone.response.content  # type: ignore[union-attr]
        assert await sim.app.store.community_styles("discord", str(sim.guild.id)) == []

"""Shared set-up for the simcord adapter tests: a real BotApp (SQLite, in-process queue),
the real DiscordAdapter, and simcord's in-memory Discord around its discord.py client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import discord
import simcord

from bot.adapters.discord.adapter import DiscordAdapter
from bot.bootstrap import BotApp
from bot.core.models import Generation
from bot.settings import Settings
from tests.fakes.openai_images import make_png


@dataclass
class Sim:
    env: simcord.Env
    app: BotApp
    adapter: DiscordAdapter
    guild: simcord.GuildHandle
    channel: simcord.ChannelHandle
    admin: simcord.MemberActor
    manager: simcord.MemberActor
    moderator: simcord.MemberActor
    alice: simcord.MemberActor
    bob: simcord.MemberActor

    async def latest(self, member: simcord.MemberActor) -> Generation:
        """The member's newest history row."""
        found = await self.app.store.history("discord", str(member.id), 1)
        assert found, "no history row for this member"
        return found[0]

    async def finish(self, generation: Generation, label: str = "x") -> bytes:
        """Play the worker: store a PNG for the row and let the coordinator deliver it."""
        data = make_png(64, 64, label or generation.id)
        path, width, height = self.app.service.files.write(generation.id, data)
        await self.app.store.mark_done(
            generation.id,
            provider="openai",
            model="gpt-image-1",
            image_path=str(path),
            width=width,
            height=height,
            revised_prompt=None,
            provider_calls=1,
            seed=None,
        )
        await self.app.coordinator.deliver(generation.id)
        await self.env.settle()
        return data


def settings(tmp: Path) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        discord_token="sim-token",
        data_dir=tmp,
        openai_api_key="sk-test",
        max_pending_per_user=50,
    )


@asynccontextmanager
async def simulation(tmp: Path) -> AsyncIterator[Sim]:
    app = await BotApp.create(settings(tmp))
    adapter = DiscordAdapter(app.settings, app.service, handles=app.store, sync_state=app.store)
    app.register(adapter)
    try:
        async with simcord.run(adapter.client) as env:
            guild = env.create_guild()
            channel = guild.create_text_channel("general")
            admins = guild.create_role(
                "Admins", permissions=discord.Permissions(administrator=True)
            )
            managers = guild.create_role(
                "Managers", permissions=discord.Permissions(manage_guild=True)
            )
            mods = guild.create_role("Mods", permissions=discord.Permissions(manage_messages=True))
            yield Sim(
                env=env,
                app=app,
                adapter=adapter,
                guild=guild,
                channel=channel,
                admin=guild.add_member(env.create_user("admin"), roles=[admins]),
                manager=guild.add_member(env.create_user("manager"), roles=[managers]),
                moderator=guild.add_member(env.create_user("mod"), roles=[mods]),
                alice=guild.add_member(env.create_user("alice")),
                bob=guild.add_member(env.create_user("bob")),
            )
    finally:
        await app.close()

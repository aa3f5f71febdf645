"""Result delivery and the buttons under results, through real discord.py on simcord."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.adapters.discord.adapter import DiscordAdapter
from bot.adapters.discord.delivery_handle import FALLBACK_MARKER
from bot.core.errors import DeliveryError
from bot.core.models import Status, StatusUpdate
from tests.fakes.openai_images import make_png
from tests.support.discord_sim import Sim, simulation


async def imagine_and_finish(sim: Sim, prompt: str = "a fox") -> tuple[object, bytes]:
    result = await sim.alice.slash(sim.channel, "imagine", prompt=prompt)
    data = await sim.finish(await sim.latest(sim.alice), prompt)
    return result, data


async def test_delivery_edits_the_acknowledgement_and_twice_leaves_one_image(
    tmp_path: Path,
) -> None:
    async with simulation(tmp_path) as sim:
        result, data = await imagine_and_finish(sim)
        message = result.response  # type: ignore[attr-defined]
        assert message.content == "" and len(message.attachments) == 1
        row = await sim.app.store.get((await sim.latest(sim.alice)).id)
        assert row is not None and row.status is Status.DELIVERED
        assert await message.attachments[0].read() == data
        embed = message.embeds[0]
        assert embed.description == "a fox" and embed.image.url.endswith(f"{row.id}.png")
        fields = {f.name: f.value for f in embed.fields}
        assert fields["Requested by"] == f"<@{sim.alice.id}>"
        assert fields["Seed"] == str(row.seed) and fields["Provider"] == "openai (gpt-image-1)"
        # A second delivery (e.g. after a crash before the row said delivered) edits again.
        await sim.adapter.deliver(row, Path(str(row.image_path)))
        await sim.env.settle()
        assert len(result.response.attachments) == 1  # type: ignore[attr-defined]
        with_images = [m for m in sim.channel.history() if m.attachments]
        assert len(with_images) == 1 and len(sim.channel.history()) == 1


async def test_reroll_after_a_restart_makes_a_new_request_and_message(tmp_path: Path) -> None:
    async with simulation(tmp_path) as sim:
        result, _ = await imagine_and_finish(sim)
        first = await sim.latest(sim.alice)
        # A new process: new adapter and client, nothing in memory but the history.
        fresh = DiscordAdapter(
            sim.app.settings, sim.app.service, handles=sim.app.store, sync_state=sim.app.store
        )
        sim.app.register(fresh)
        await sim.env.restart_bot(fresh.client)
        sim.adapter = fresh
        clicked = await sim.bob.click(result.response, label="Reroll")  # type: ignore[attr-defined]
        assert not clicked.ephemeral and "Queued" in clicked.response.content  # type: ignore[union-attr]
        assert clicked.response.id != result.response.id  # type: ignore[attr-defined,union-attr]
        second = await sim.latest(sim.bob)
        assert second.parent_id == first.id and second.prompt == first.prompt
        assert second.style == first.style and second.seed != first.seed


async def test_restyle_offers_allowed_styles_and_makes_a_new_request(tmp_path: Path) -> None:
    async with simulation(tmp_path) as sim:
        result, _ = await imagine_and_finish(sim)
        first = await sim.latest(sim.alice)
        menu = await sim.alice.click(result.response, label="Restyle")  # type: ignore[attr-defined]
        assert menu.ephemeral
        picked = await sim.alice.select(menu.response, ["anime"])  # type: ignore[arg-type]
        assert picked.response is not None and "Queued" in picked.response.content
        second = await sim.latest(sim.alice)
        assert second.style == "anime" and second.parent_id == first.id


@pytest.mark.parametrize("who", ["bob", "moderator", "alice"])
async def test_delete_is_for_the_requester_or_a_moderator(tmp_path: Path, who: str) -> None:
    async with simulation(tmp_path) as sim:
        result, _ = await imagine_and_finish(sim)
        generation = await sim.latest(sim.alice)
        clicked = await getattr(sim, who).click(result.response, label="Delete")  # type: ignore[attr-defined]
        stored = await sim.app.store.get(generation.id)
        if who == "bob":
            assert clicked.ephemeral
            assert "Only the person who asked" in clicked.response.content  # type: ignore[union-attr]
            assert stored is not None and result.response is not None  # type: ignore[attr-defined]
        else:
            assert stored is None and not Path(str(generation.image_path)).exists()
            assert result.response is None  # type: ignore[attr-defined]


async def test_expired_token_falls_back_to_one_channel_message_pinging_the_requester(
    tmp_path: Path,
) -> None:
    async with simulation(tmp_path) as sim:
        await sim.alice.slash(sim.channel, "imagine", prompt="late picture @everyone")
        generation = await sim.latest(sim.alice)
        await sim.app.store.update_handle(generation.id, {"expires_at": time.time() - 1})
        await sim.finish(generation)
        posted = sim.channel.last_message
        assert posted is not None and posted.content.startswith(f"<@{sim.alice.id}>")
        assert [u.id for u in posted.mentions] == [sim.alice.id] and not posted.mention_everyone
        assert posted.reference is None and len(posted.attachments) == 1
        row = await sim.app.store.get(generation.id)
        assert row is not None and row.status is Status.DELIVERED and row.handle[FALLBACK_MARKER]
        # Retried after a crash: the marker says it may have been posted; never post twice.
        await sim.adapter.deliver(row, Path(str(row.image_path)))
        await sim.env.settle()
        assert sim.channel.last_message.id == posted.id  # type: ignore[union-attr]


async def test_missing_permission_for_the_fallback_is_a_final_delivery_error(
    tmp_path: Path,
) -> None:
    async with simulation(tmp_path) as sim:
        await sim.alice.slash(sim.channel, "imagine", prompt="locked")
        generation = await sim.latest(sim.alice)
        await sim.app.store.update_handle(generation.id, {"expires_at": time.time() - 1})
        generation = await sim.app.store.get(generation.id)  # type: ignore[assignment]
        sim.env.inject_error("POST", "/channels/*/messages", status=403)
        path, _, _ = sim.app.service.files.write(generation.id, make_png(8, 8, "locked"))
        with pytest.raises(DeliveryError) as caught:
            await sim.adapter.deliver(generation, path)
        assert not caught.value.retryable
        assert caught.value.reason == "missing permission to post in this channel"
        row = await sim.app.store.get(generation.id)
        assert row is not None and not row.handle.get(FALLBACK_MARKER)  # nothing was posted
        sim.env.errors.clear()


async def test_provider_failure_reaches_the_requester_ephemerally(tmp_path: Path) -> None:
    async with simulation(tmp_path) as sim:
        result = await sim.alice.slash(sim.channel, "imagine", prompt="refused")
        generation = await sim.latest(sim.alice)
        await sim.app.store.mark_failed(
            generation.id, "refused", "The image service refused this prompt."
        )
        row = await sim.app.store.get(generation.id)
        assert row is not None
        await sim.adapter.report_failure(row)
        await sim.env.settle()
        assert result.response is None  # the public "queued" message is gone
        note = result.followups[-1]
        assert note.ephemeral and "refused this prompt" in note.content


async def test_status_edits_are_throttled_and_never_follow_the_result(tmp_path: Path) -> None:
    async with simulation(tmp_path) as sim:
        await sim.alice.slash(sim.channel, "imagine", prompt="busy")
        generation = await sim.latest(sim.alice)
        edits_before = len([e for e in sim.env.http_requests if e.method == "PATCH"])
        for _ in range(5):
            await sim.adapter.show_status(generation, StatusUpdate(status=Status.RUNNING))
        await sim.adapter.show_status(generation, StatusUpdate(status=Status.RUNNING, detail="50%"))
        await sim.env.settle()
        patches = [e for e in sim.env.http_requests if e.method == "PATCH"][edits_before:]
        assert len(patches) <= 1  # within 1.5 s of the "queued" edit: held back, not sent
        await sim.finish(generation)
        await sim.env.advance_time(2)
        await sim.env.settle()
        last = [e for e in sim.env.http_requests if e.method == "PATCH"][-1]
        assert last.json and "embeds" in last.json  # the result stays the last edit


async def test_status_shows_the_providers_queue_position(tmp_path: Path) -> None:
    async with simulation(tmp_path) as sim:
        await sim.alice.slash(sim.channel, "imagine", prompt="patient")
        generation = await sim.latest(sim.alice)
        await sim.env.advance_time(2)
        await sim.env.settle()
        update = StatusUpdate(status=Status.RUNNING, position=3, eta_seconds=40)
        await sim.adapter.show_status(generation, update)
        await sim.env.advance_time(2)
        await sim.env.settle()
        last = [e for e in sim.env.http_requests if e.method == "PATCH"][-1]
        assert last.json is not None
        assert "position 3 in the provider's queue" in last.json["content"]
        assert "about 40 seconds left" in last.json["content"]

"""Discord server settings and /forget-me end to end: `imaginebot run` (embedded queue and
worker) against the fake Discord (REST + gateway) and the fake AI Horde.

Each setting is judged by what the next /imagine does: what reached the fake Discord (the
refusal text, the picture), what reached the fake Horde (its `nsfw` flag) and the SQLite rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.discord_api import Interaction, Message
from tests.fakes.discord_gateway import ADMIN, MEMBER, MODERATOR, SERVER_MANAGER, DiscordDriver
from tests.fakes.horde_api import FakeHorde
from tests.fakes.server import ServerThread
from tests.support import base_env, process, rows, wait_for

pytestmark = pytest.mark.e2e


class Stack:
    def __init__(self, root: Path, discord: DiscordDriver, horde: FakeHorde) -> None:
        self.root = root
        self.discord = discord
        self.horde = horde
        self.db = root / "data" / "imaginebot.sqlite3"

    def log(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-3000:] for p in sorted(self.root.glob("*.log"))
        )

    def row_for(self, interaction: Interaction) -> dict[str, Any] | None:
        found = rows(
            self.db,
            "SELECT * FROM generations WHERE json_extract(handle, '$.interaction_id') = ?",
            (interaction.id,),
        )
        return found[0] if found else None

    def delivered_row(self, interaction: Interaction) -> dict[str, Any]:
        def finished() -> dict[str, Any] | None:
            row = self.row_for(interaction)
            return row if row and row["status"] in ("delivered", "failed") else None

        row: dict[str, Any] = wait_for(
            finished, 30, message=lambda: f"row of {interaction.id}\n{self.log()}"
        )
        return row

    def answer(self, interaction: Interaction, containing: str = "") -> Message:
        """The bot's response message once its text contains `containing`."""
        d = self.discord

        def ready() -> Message | None:
            message = d.server.run_sync(d.fake.original, interaction.id)
            if message is None or message.deleted or containing not in message.content:
                return None
            return message

        found: Message = wait_for(
            ready,
            15,
            message=lambda: f"an answer with {containing!r}\n{d.fake.errors}\n{self.log()}",
        )
        return found

    def scope_row(self) -> dict[str, Any] | None:
        found = rows(
            self.db,
            "SELECT * FROM scope_settings WHERE platform = 'discord' AND scope_id = ?",
            (self.discord.guild_id,),
        )
        return found[0] if found else None

    def limits_stored(self) -> tuple[Any, Any, Any]:
        row = self.scope_row() or {}
        return tuple(  # type: ignore[return-value]
            row.get(k)
            for k in ("daily_limit_per_user", "daily_limit_per_scope", "max_pending_per_user")
        )

    def settings(self, user: str, permissions: int, name: str, **options: Any) -> Message:
        command = self.discord.slash(
            f"settings {name}", user=user, permissions=permissions, **options
        )
        return self.answer(command)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("discord-settings")
    horde = FakeHorde(checks_before_done=0)
    horde_server = ServerThread(horde.app()).start()
    horde.base_url = horde_server.url
    driver = DiscordDriver().start()
    # Added before the bot connects, so the GUILD_CREATE it receives marks it age-restricted.
    driver.age_restricted = driver.fake.add_age_restricted_channel(driver.guild_id)  # type: ignore[attr-defined]
    env = base_env(
        root / "data",
        HORDE_API_URL=f"{horde_server.url}/api/v2",
        MAX_PENDING_PER_USER="3",
        DAILY_LIMIT_PER_USER="20",
        **driver.env(),
    )
    built = Stack(root, driver, horde)
    try:
        with process(["run"], env, root, root / "bot.log"):
            wait_for(driver.connected, 30, message=lambda: f"gateway connection\n{built.log()}")
            yield built
    finally:
        driver.stop()
        horde_server.stop()


@pytest.fixture
def server_defaults(stack: Stack) -> Iterator[Stack]:
    """Each test starts and ends with the operator's limits and NSFW off."""
    yield stack
    stack.settings("owner", ADMIN, "limits", reset=True)
    stack.settings("owner", ADMIN, "nsfw", choice="off")


def test_settings_limits_and_nsfw_authorization(server_defaults: Stack) -> None:
    s = server_defaults
    # The fake delivers the command to anyone, as Discord does once an admin opened it up in
    # Server Settings > Integrations: the bot's own check is what refuses.
    for user, permissions in (("member", MEMBER), ("moderator", MODERATOR)):
        refused = s.settings(user, permissions, "limits", **{"per-member": 3})
        assert refused.ephemeral and "Only server admins" in refused.content
        refused = s.settings(user, permissions, "nsfw", choice="on")
        assert refused.ephemeral and "Only server admins" in refused.content
        assert s.scope_row() is None

    allowed = s.settings("manager", SERVER_MANAGER, "limits", **{"per-member": 3, "waiting": 2})
    assert allowed.ephemeral and "3 pictures per member" in allowed.content
    assert "at most 2 waiting per member" in allowed.content
    row = s.scope_row()
    assert row is not None
    assert (row["daily_limit_per_user"], row["max_pending_per_user"]) == (3, 2)
    assert row["daily_limit_per_scope"] is None  # left out: the operator's stays

    allowed = s.settings("owner", ADMIN, "nsfw", choice="on")
    assert allowed.ephemeral and "age-restricted" in allowed.content
    assert s.scope_row()["nsfw"] == 1  # type: ignore[index]

    shown = s.settings("owner", ADMIN, "show")
    assert "3 pictures per member" in shown.content and "NSFW: allowed" in shown.content


def test_limits_above_the_operators_are_refused_and_nothing_changes(
    server_defaults: Stack,
) -> None:
    s = server_defaults
    too_high = s.settings("owner", ADMIN, "limits", **{"per-member": 2, "waiting": 4})
    assert "allows at most 3 waiting requests per user" in too_high.content
    assert "you can only lower that" in too_high.content
    # The valid per-member value was not half-applied either.
    assert s.limits_stored() == (None, None, None)
    too_high = s.settings("owner", ADMIN, "limits", **{"per-member": 21})
    assert "allows at most 20 pictures a day per user" in too_high.content
    assert s.limits_stored() == (None, None, None)


def test_a_lowered_daily_limit_refuses_the_next_imagine(server_defaults: Stack) -> None:
    s, d = server_defaults, server_defaults.discord
    s.settings("manager", SERVER_MANAGER, "limits", **{"per-member": 1})
    first = d.slash("imagine", user="limited", prompt="a single kite")
    assert s.delivered_row(first)["status"] == "delivered"
    second = d.slash("imagine", user="limited", prompt="another kite")
    refusal = s.answer(second, "You have used your 1 picture for today")
    assert "resets at 00:00 UTC" in refusal.content
    assert s.row_for(second) is None
    # Another member still has their own allowance.
    other = d.slash("imagine", user="unlimited", prompt="a kite of my own")
    assert s.delivered_row(other)["status"] == "delivered"


def test_a_lowered_waiting_limit_refuses_while_one_is_waiting(server_defaults: Stack) -> None:
    s, d = server_defaults, server_defaults.discord
    s.settings("manager", SERVER_MANAGER, "limits", waiting=1)
    s.horde.checks_before_done = 3  # about three seconds in the Horde's queue
    try:
        slow = d.slash("imagine", user="patient", prompt="a slow tide")
        wait_for(lambda: s.horde.jobs and s.row_for(slow), 15, message="the first job")
        second = d.slash("imagine", user="patient", prompt="an impatient tide")
        refusal = s.answer(second, "You already have 1 request waiting (the limit is 1)")
        assert refusal is not None and s.row_for(second) is None
    finally:
        s.horde.checks_before_done = 0
    assert s.delivered_row(slow)["status"] == "delivered"


def horde_nsfw(stack: Stack, interaction: Interaction) -> tuple[bool, bool]:
    row = stack.delivered_row(interaction)
    assert row["status"] == "delivered", row["failure_reason"]
    (job,) = [j for j in stack.horde.jobs.values() if row["prompt"] in j.payload["prompt"]]
    return bool(job.payload["nsfw"]), bool(job.payload["censor_nsfw"])


def test_nsfw_reaches_the_provider_only_in_age_restricted_channels_when_on(
    server_defaults: Stack,
) -> None:
    s, d = server_defaults, server_defaults.discord
    adult: str = d.age_restricted  # type: ignore[attr-defined]
    off_adult = d.slash("imagine", user="nina", prompt="nsfw off, adult channel", channel=adult)
    assert horde_nsfw(s, off_adult) == (False, True)

    s.settings("owner", ADMIN, "nsfw", choice="on")
    on_adult = d.slash("imagine", user="nina", prompt="nsfw on, adult channel", channel=adult)
    assert horde_nsfw(s, on_adult) == (True, False)
    on_general = d.slash("imagine", user="nina", prompt="nsfw on, general channel")
    assert horde_nsfw(s, on_general) == (False, True)
    on_dm = d.slash("imagine", user="nina", prompt="nsfw on, in a DM", dm=True)
    assert horde_nsfw(s, on_dm) == (False, True)


def test_forget_me_deletes_rows_files_and_settings_after_the_owner_confirms(
    stack: Stack,
) -> None:
    s, d = stack, stack.discord
    chosen = d.slash("mystyle", user="frank", style="anime")
    s.answer(chosen, "Anime")
    made = d.slash("imagine", user="frank", prompt="a picture to forget")
    row = s.delivered_row(made)
    assert row["style"] == "anime" and Path(row["image_path"]).is_file()
    frank = d.user("frank")["id"]

    ask = d.slash("forget-me", user="frank")
    question = s.answer(ask, "Sure?")
    assert question.ephemeral
    buttons = [c["custom_id"] for r in question.components for c in r["components"]]
    assert buttons == [f"ib:forget:{frank}", f"ib:forget-no:{frank}"]

    # A forged press by someone else (the message is ephemeral, but custom ids can be sent
    # for any message) deletes nothing.
    forged = d.click(question, f"ib:forget:{frank}", user="mallory")
    assert "Only the person who asked" in s.answer(forged).content
    cancelled = d.click(question, f"ib:forget-no:{frank}", user="frank")
    wait_for(lambda: d.writes(cancelled), 10, message="the cancel answer")
    assert "Nothing was deleted" in d.fake.messages[question.id].content
    assert s.row_for(made) is not None

    # Cancel took the buttons off that message (Discord refuses presses of buttons that are
    # gone), so the member asks again and confirms this time.
    assert d.fake.messages[question.id].components == []
    question = s.answer(d.slash("forget-me", user="frank"), "Sure?")
    confirmed = d.click(question, f"ib:forget:{frank}", user="frank")
    wait_for(
        lambda: "Deleted your history" in d.fake.messages[question.id].content,
        10,
        message=lambda: f"the confirmation\n{d.fake.errors}\n{s.log()}",
    )
    assert d.writes(confirmed)[0].callback_type == 7  # the question itself became the answer
    assert "(1 pictures)" in d.fake.messages[question.id].content
    assert d.fake.messages[question.id].components == []
    assert rows(s.db, "SELECT id FROM generations WHERE user_id = ?", (frank,)) == []
    assert rows(s.db, "SELECT * FROM user_settings WHERE user_id = ?", (frank,)) == []
    assert not Path(row["image_path"]).exists()

    # The personal default went with it: the next picture uses the bot's default style.
    again = d.slash("imagine", user="frank", prompt="a fresh start")
    assert s.delivered_row(again)["style"] == "photo"

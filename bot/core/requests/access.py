"""Who may touch a generation: the one check every button and follow-up goes through.

Button data comes back from the chat client and can be altered (a modified Telegram client
sends any `callback_data` for any bot message), so the generation id in it proves nothing.
Before a button acts, the row it names is loaded and compared with where and by whom the
button was pressed:

- platform: a Telegram button never names a Discord row, and the other way round;
- scope: the row was made in this chat (Telegram group or private chat) or this server
  (Discord guild) or this direct-message channel; a picture never moves to another chat;
- owner, where the action is personal (delete, forget-me): the requester, or a moderator of
  the row's own scope (the scope check comes first, so a moderator of one server can never
  delete in another).
"""

from __future__ import annotations

from enum import StrEnum

from bot.core.errors import NotOwner, WrongScope
from bot.core.models import Generation, Requester, Scope


class Need(StrEnum):
    """What an action asks of the person pressing the button."""

    SCOPE = "scope"  # anyone where the picture was posted (reroll, restyle, full size)
    OWNER = "owner"  # the requester only (personal actions)
    OWNER_OR_MODERATOR = "owner_or_moderator"  # the requester, or a moderator of that scope
    # The requester, from wherever they ask: their own pictures, shown only to them
    # (Discord's ephemeral /history menu). Platform and owner are still checked.
    OWNER_ANYWHERE = "owner_anywhere"


def check_access(
    generation: Generation,
    actor: Requester,
    scope: Scope,
    need: Need = Need.SCOPE,
    *,
    moderator: bool = False,
) -> None:
    """Raise WrongScope or NotOwner unless `actor`, acting in `scope`, may use `generation`."""
    if generation.platform != actor.platform or generation.platform != scope.platform:
        raise WrongScope()
    if need is not Need.OWNER_ANYWHERE and generation.scope_id != scope.id:
        raise WrongScope()
    if need is Need.SCOPE:
        return
    if generation.user_id == actor.user_id:
        return
    if need is Need.OWNER_OR_MODERATOR and moderator:
        return
    raise NotOwner()

"""Who may do what in a chat: the admin check every admin command and button starts with.

Telegram does not restrict who sends a command, so the bot checks itself, on every update:
`get_chat_member(...).status` in {administrator, creator}. An anonymous admin writes as the
group itself, which proves admin of that group only; the shared anonymous-admin user id is
never an admin anywhere.
"""

from __future__ import annotations

from telegram import Bot, Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.adapters.telegram.answers import Refused
from bot.adapters.telegram.identity import ADMIN_STATUSES, ANONYMOUS_ADMIN_ID
from bot.core.language import Text

# Whole sentences per refusal, so each language words them its own way.
CHANGE_SETTINGS = Text("Only this chat's admins can change its settings.")
SEE_SETTINGS = Text("Only this chat's admins can see its settings.")
MANAGE_STYLES = Text("Only this chat's admins can manage its own styles.")


async def is_admin(update: Update, bot: Bot) -> bool:
    chat, message = update.effective_chat, update.effective_message
    assert chat is not None
    if chat.type == ChatType.PRIVATE:
        return True  # everyone administers their own private chat
    if update.callback_query is None and message is not None and message.sender_chat is not None:
        # An anonymous admin writes as the group itself; that proves admin of this group only.
        return message.sender_chat.id == chat.id
    user = update.effective_user
    if user is None or user.id == ANONYMOUS_ADMIN_ID:
        return False
    member = await bot.get_chat_member(chat.id, user.id)
    return member.status in ADMIN_STATUSES


async def require_admin(update: Update, bot: Bot, refusal: Text = CHANGE_SETTINGS) -> None:
    """Raises `Refused` (with `refusal`) unless the sender administers this chat."""
    if not await is_admin(update, bot):
        raise Refused(refusal)


async def may_act_for(update: Update, bot: Bot, who: str) -> bool:
    """The presser is `who`, or `who` is a chat (an anonymous admin or a channel identity)
    and the presser administers that chat."""
    user = update.effective_user
    if user is None:
        return False
    if who == str(user.id):
        return True
    if not who.startswith("-"):
        return False  # another person's id
    try:
        member = await bot.get_chat_member(int(who), user.id)
    except (TelegramError, ValueError):
        return False
    return member.status in ADMIN_STATUSES

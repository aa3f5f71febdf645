"""Every error a user may read is declared in bot/core/errors.py, once per meaning."""

from __future__ import annotations

import importlib
import pkgutil

import bot
from bot.core.errors import UserFacingError


def import_every_module() -> None:
    for module in pkgutil.walk_packages(bot.__path__, "bot."):
        if not module.name.endswith("__main__"):  # runs the command line
            importlib.import_module(module.name)


def every_subclass(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= every_subclass(sub)
    return found


def test_every_user_facing_error_is_declared_in_errors() -> None:
    import_every_module()
    elsewhere = {
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in every_subclass(UserFacingError)
        if cls.__module__ != "bot.core.errors"
    }
    assert elsewhere == set()


def test_no_two_errors_share_a_name() -> None:
    import_every_module()
    names = [cls.__name__ for cls in every_subclass(Exception) if cls.__module__.startswith("bot.")]
    assert sorted(name for name in set(names) if names.count(name) > 1) == []

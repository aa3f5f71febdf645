"""`imaginebot web` and `imaginebot gallery link`: the argument parsing's other half."""

from __future__ import annotations

import argparse
import asyncio
import signal

from bot.settings import ConfigError, Settings
from bot.web.config import WebConfig
from bot.web.grants import LOCAL_SCOPE


def web_config(settings: Settings) -> WebConfig:
    url = settings.gallery_url
    if url is None:
        raise ConfigError("PUBLIC_URL: not set (and no WEB_PORT); the gallery has no address")
    return WebConfig(
        port=settings.web_port or 0,
        host=settings.web_host,
        public_url=url,
        secret=settings.web_secret.get_secret_value() if settings.web_secret else None,
        link_hours=settings.gallery_link_hours,
        data_dir=settings.data_dir,
        database_path=settings.database_path,
        images_dir=settings.images_dir,
        database_url=postgres_url(settings),
    )


def postgres_url(settings: Settings) -> str | None:
    """DATABASE_URL when it names PostgreSQL (the gallery then reads it there)."""
    url = settings.database_url.get_secret_value() if settings.database_url else ""
    return url if url.lower().startswith(("postgresql:", "postgres:")) else None


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser("web", help="serve the web gallery on WEB_PORT")
    p_gallery = sub.add_parser("gallery", help="the web gallery")
    gallery_sub = p_gallery.add_subparsers(
        dest="gallery_command", required=True, help="what to do with the gallery"
    )
    p_link = gallery_sub.add_parser("link", help="print a signed link to a chat's gallery")
    p_link.add_argument("--platform", required=True, choices=("discord", "telegram", "cli"))
    p_link.add_argument(
        "--scope",
        help="server or group id, or dm:<chat id> for a direct chat "
        "(cli: the pictures made with `imaginebot imagine`, scope local, the default)",
    )
    p_link.add_argument("--user", help="open it as this user id (may delete their pictures)")
    p_link.add_argument(
        "--admin", action="store_true", help="with admin rights (sees and hides any picture)"
    )
    p_link.add_argument("--hours", type=float, help="valid this long (default GALLERY_LINK_HOURS)")


async def web(settings: Settings, _args: argparse.Namespace) -> int:
    if settings.web_port is None:
        raise ConfigError("WEB_PORT: not set; the gallery needs a port to listen on")
    from bot.web.server import GalleryServer

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    server = GalleryServer(web_config(settings))
    await server.start()
    try:
        await stop.wait()
    finally:
        await server.stop()
    return 0


async def gallery(settings: Settings, args: argparse.Namespace) -> int:
    if args.hours is not None and args.hours <= 0:
        raise ConfigError("--hours: must be more than 0")
    scope = args.scope or (LOCAL_SCOPE if args.platform == "cli" else None)
    if scope is None:
        raise ConfigError("--scope: which server, group or chat (see --help)")
    config = web_config(settings)
    links = config.links()
    try:
        links.make(args.platform, scope, user_id=args.user, admin=args.admin, hours=args.hours)
    except ValueError as exc:  # checked before the database is opened
        raise ConfigError(str(exc)) from None
    store = await config.open_store()
    try:
        # The scope's current link generation: a link of an earlier one would open nothing.
        generation = await store.gallery_generation(args.platform, scope)
    finally:
        await store.close()
    if generation is None:
        raise ConfigError(f"the gallery of {args.platform} {scope} is switched off")
    print(
        links.make(
            args.platform,
            scope,
            user_id=args.user,
            admin=args.admin,
            hours=args.hours,
            generation=generation,
        )
    )
    return 0


COMMANDS = {"web": web, "gallery": gallery}

"""What the native command names and descriptions cost at start-up, in the bot's process.

At every start the Discord adapter builds the translated command payload (every command,
option and choice in each of Discord's locales, through `CatalogueTranslator`) and hashes it
to decide whether to sync; the Telegram adapter builds its twelve command lists. Nothing of
this runs per generation. This measures both, cold (catalogues read from disk, as at a
start) and warm, N times each, and prints one JSON object (ms).

    python benchmarks/command_localizations.py [--runs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.adapters.discord.sync import commands_digest
from bot.adapters.discord.translator import CatalogueTranslator, command_tree
from bot.adapters.telegram.command_list import command_lists
from bot.core.language import Catalogues


async def discord_digest(catalogues: Catalogues) -> float:
    tree = command_tree()
    started = time.perf_counter()
    await tree.set_translator(CatalogueTranslator(catalogues))
    await commands_digest(tree, None)
    return (time.perf_counter() - started) * 1000


def telegram_lists(catalogues: Catalogues) -> float:
    started = time.perf_counter()
    command_lists(catalogues)
    return (time.perf_counter() - started) * 1000


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 1), "max": round(max(values), 1)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    warm = Catalogues()
    figures = {
        "discord_cold_ms": summary(
            [asyncio.run(discord_digest(Catalogues())) for _ in range(args.runs)]
        ),
        "discord_warm_ms": summary([asyncio.run(discord_digest(warm)) for _ in range(args.runs)]),
        "telegram_cold_ms": summary([telegram_lists(Catalogues()) for _ in range(args.runs)]),
        "telegram_warm_ms": summary([telegram_lists(warm) for _ in range(args.runs)]),
    }
    print(json.dumps({"scenario": "command_localizations", "runs": args.runs, **figures}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

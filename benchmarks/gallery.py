"""Gallery latency with 100,000 history rows, measured over HTTP from a second process.

The parent process fills a fresh database (through the bot's own migrations), starts the
gallery in a child process (`--serve`), and measures from here with aiohttp:

- page: the first page (60 thumbnails' cards) and "load more" pages deeper down, p50/p99;
- search: prompt searches for words of the prompts (FTS5), p50/p99;
- thumbnails: 200 thumbnails made for the first time (8 requests at once) while the child
  measures its event loop's lag (a 10 ms timer's lateness), max and p99.

Targets: page p99 <= 50 ms, search p99 <= 100 ms, lag < 50 ms. Prints one JSON object.

    python benchmarks/gallery.py [--rows 100000] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp
from PIL import Image

from bot.core.store import Store
from bot.web.config import WebConfig
from bot.web.server import GalleryServer
from tests.support import free_port

WORDS = (
    "castle fox meadow tower ocean forest neon city robot dragon portrait sunset mountain "
    "river garden cat owl desert galaxy ship lantern winter storm temple market bridge "
    "village knight wizard cloud island"
).split()
SCOPE = "100"
PAGE_TARGET_MS, SEARCH_TARGET_MS, LAG_TARGET_MS = 50.0, 100.0, 50.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def config_for(root: Path, port: int) -> WebConfig:
    data = root / "data"
    return WebConfig(
        port=port,
        public_url=f"http://127.0.0.1:{port}",
        secret="benchmark-secret",
        link_hours=1,
        data_dir=data,
        database_path=data / "imaginebot.sqlite3",
        images_dir=data / "images",
        host="127.0.0.1",
    )


def fill(config: WebConfig, rows: int, pictures: int) -> list[str]:
    """`rows` delivered rows, 60 % in the measured server; the newest `pictures` have files."""
    config.images_dir.mkdir(parents=True, exist_ok=True)

    async def migrate() -> None:
        store = await Store.open(config.database_path)
        await store.close()

    asyncio.run(migrate())
    rng = random.Random(7)
    start = time.time() - rows
    batch = []
    for n in range(rows):
        scope = SCOPE if n % 10 < 6 else str(200 + n % 7)
        gen_id = f"{n:016x}"
        prompt = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 9)))
        batch.append(
            (
                gen_id,
                "discord",
                scope,
                scope,
                f"u{n % 300}",
                f"user {n % 300}",
                prompt,
                rng.choice(("photo", "anime", "watercolor")),
                "1:1",
                n,
                "delivered",
                str(config.images_dir / f"{gen_id}.png"),
                1024,
                1024,
                start + n,
            )
        )
    with sqlite3.connect(config.database_path) as db:
        db.executemany(
            "INSERT INTO generations (id, platform, scope_id, chat_id, user_id, user_name, "
            "prompt, style, aspect, seed, status, image_path, image_width, image_height, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            batch,
        )
        db.execute("ANALYZE")
    newest = [b[0] for b in reversed(batch) if b[2] == SCOPE][:pictures]
    for index, gen_id in enumerate(newest):
        image = Image.effect_mandelbrot((1024, 1024), (-2 + index / 500, -1.2, 1, 1.2), 60)
        out = BytesIO()
        image.convert("RGB").save(out, "PNG", compress_level=1)
        (config.images_dir / f"{gen_id}.png").write_bytes(out.getvalue())
    return newest


async def serve(root: Path, port: int) -> None:
    """The child: the gallery, plus an event-loop lag probe switched on and off by signals."""
    server = GalleryServer(config_for(root, port))
    await server.start()
    lags: list[float] = []
    probing = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, probing.set)
    done = asyncio.Event()
    loop.add_signal_handler(signal.SIGUSR2, done.set)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)

    async def probe() -> None:
        await probing.wait()
        while not done.is_set():
            before = loop.time()
            await asyncio.sleep(0.01)
            lags.append((loop.time() - before - 0.01) * 1000)
        (root / "lag.json").write_text(json.dumps(lags))

    task = asyncio.create_task(probe())
    (root / "ready").write_text("ok")
    await stop.wait()
    task.cancel()
    await server.stop()


async def measure(
    url: str, link: str, newest: list[str], quick: bool, child: Any, root: Path
) -> dict[str, Any]:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as client:
        async with client.get(link) as response:
            assert response.status == 200, response.status
        base = f"{url}/g/discord/{SCOPE}/"
        rng = random.Random(3)
        count = 40 if quick else 400

        async def timed(path: str) -> tuple[float, str]:
            started = time.perf_counter()
            async with client.get(path) as response:
                body = await response.text()
                assert response.status == 200, (path, response.status)
            return (time.perf_counter() - started) * 1000, body

        for _ in range(10):  # warm-up: connections, templates, SQLite page cache
            await timed(base)
        first = [(await timed(base))[0] for _ in range(count // 2)]
        deeper: list[float] = []
        next_path = base + "more"
        while len(deeper) < count // 2:
            ms, body = await timed(next_path)
            deeper.append(ms)
            found = re.search(r'data-more="([^"]+)"', body)
            next_path = url + found.group(1).replace("&amp;", "&") if found else base + "more"
        pages = first + deeper
        searches = [
            (
                await timed(
                    f"{base}?q={rng.choice(WORDS)}" + (f"+{rng.choice(WORDS)}" if i % 2 else "")
                )
            )[0]
            for i in range(count)
        ]

        child.send_signal(signal.SIGUSR1)
        await asyncio.sleep(0.2)
        gate = asyncio.Semaphore(8)
        thumbs = newest

        async def thumb(gen_id: str) -> None:
            async with gate, client.get(f"{base}i/{gen_id}/thumb.webp") as response:
                assert response.status == 200
                await response.read()

        started = time.perf_counter()
        await asyncio.gather(*(thumb(g) for g in thumbs))
        thumbs_s = time.perf_counter() - started
        child.send_signal(signal.SIGUSR2)
        for _ in range(100):
            if (root / "lag.json").exists():
                break
            await asyncio.sleep(0.05)
        lags = json.loads((root / "lag.json").read_text())
    return {
        "page_p50_ms": round(percentile(pages, 50), 2),
        "page_p99_ms": round(percentile(pages, 99), 2),
        "first_page_p99_ms": round(percentile(first, 99), 2),
        "deeper_page_p99_ms": round(percentile(deeper, 99), 2),
        "search_p50_ms": round(percentile(searches, 50), 2),
        "search_p99_ms": round(percentile(searches, 99), 2),
        "thumbnails_made": len(thumbs),
        "thumbnails_s": round(thumbs_s, 2),
        "loop_lag_max_ms": round(max(lags), 2),
        "loop_lag_p99_ms": round(percentile(lags, 99), 2),
        "requests_each": count,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--thumbnails", type=int, default=200)
    parser.add_argument("--quick", action="store_true", help="tiny numbers, to check the harness")
    parser.add_argument("--serve", nargs=2, metavar=("ROOT", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(Path(args.serve[0]), int(args.serve[1])))
        return 0
    rows, pictures = (2_000, 20) if args.quick else (args.rows, args.thumbnails)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        port = free_port()
        config = config_for(root, port)
        started = time.perf_counter()
        newest = fill(config, rows, pictures)
        fill_s = time.perf_counter() - started
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(root), str(port)],
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        )
        try:
            for _ in range(200):
                if (root / "ready").exists():
                    break
                time.sleep(0.05)
            link = config.links().make("discord", SCOPE, user_id="u1", admin=False)
            result = asyncio.run(
                measure(f"http://127.0.0.1:{port}", link, newest, args.quick, child, root)
            )
        finally:
            child.terminate()
            child.wait(timeout=30)
    met = (
        result["page_p99_ms"] <= PAGE_TARGET_MS
        and result["search_p99_ms"] <= SEARCH_TARGET_MS
        and result["loop_lag_max_ms"] < LAG_TARGET_MS
    )
    print(
        json.dumps(
            {
                "scenario": "gallery",
                "rows": rows,
                "rows_in_scope": sum(1 for n in range(rows) if n % 10 < 6),
                "fill_s": round(fill_s, 1),
                **result,
                "target": f"page p99 <= {PAGE_TARGET_MS:g} ms, search p99 <= {SEARCH_TARGET_MS:g} ms, "
                f"loop lag < {LAG_TARGET_MS:g} ms while {pictures} thumbnails are made",
                "met": met,
                "quick": args.quick,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

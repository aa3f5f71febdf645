"""The benchmarks' image provider: the test suite's fake OpenAI images API, serving from a
pool of pre-rendered PNGs, `n` of them per call.

`tests.fakes.openai_images.PooledImages` renders nothing per call (rendering costs ~10 ms),
but always answers one picture; a request for a grid of four (`n=4` in one call on
gpt-image-1) must get four, as the real API and the suite's own `FakeOpenAI` give. Every
check the fake makes on a request (fields, model, `n` within the model's range, sizes,
edits decoded) is the suite's fake unchanged. Image edits (image to image) answer from the
same pool. `/stats` also counts the pictures served.

    python -m benchmarks.fake_provider --port PORT [--delay S] [--max-concurrency N]
"""

from __future__ import annotations

import argparse
import base64
from typing import Any

from aiohttp import web

from tests.fakes.openai_images import PooledImages, make_png


class BatchPooledImages(PooledImages):
    def _image_response(self, body: dict[str, Any]) -> web.Response:
        size = body.get("size", "1024x1024")
        if size == "auto":
            size = "1024x1024"
        pool = self.__dict__.setdefault("_pool", {})
        if size not in pool:
            width, height = (int(v) for v in size.split("x"))
            pool[size] = [
                base64.b64encode(make_png(width, height, f"pool:{i}")).decode()
                for i in range(self.pool_size)
            ]
        serial = next(self._counter)
        n = int(body.get("n", 1))
        # Distinct pictures within one answer: consecutive pool entries.
        items = [{"b64_json": pool[size][(serial * n + i) % self.pool_size]} for i in range(n)]
        self.__dict__["pictures_served"] = self.__dict__.get("pictures_served", 0) + n
        return web.json_response({"created": 1_700_000_000 + serial, "data": items})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--max-concurrency", type=int)
    parser.add_argument("--api-key", default="sk-test-fake-key")
    args = parser.parse_args()
    fake = BatchPooledImages(
        api_key=args.api_key, delay=args.delay, max_concurrency=args.max_concurrency
    )
    app = fake.app()

    async def stats(_request: web.Request) -> web.Response:
        return web.json_response(
            {
                "calls": len(fake.calls),
                "rejected_for_concurrency": fake.rejected_for_concurrency,
                "peak_in_flight": fake.peak_in_flight,
                "pictures_served": fake.__dict__.get("pictures_served", 0),
                "edits": len(fake.edits),
                "edit_bytes": sum(len(b) for b in fake.edit_images),
            }
        )

    app.router.add_get("/stats", stats)
    web.run_app(app, host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()

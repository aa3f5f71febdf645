"""A fake ComfyUI server: `/prompt`, `/queue`, `/interrupt`, `/history/{id}`, `/view`,
`/system_stats`, `/models/checkpoints`.

Strict like ComfyUI's validation (400 `prompt_outputs_failed_validation` with `node_errors`):
the workflow must be an object of nodes with `class_type` and `inputs`, links must point at
existing nodes, widget inputs must have the right JSON types (an unfilled "{{seed}}" string
in a number input is an error, as in ComfyUI), a checkpoint must be one that is installed,
and there must be an output node. A prompt waits in `queue_pending`, runs in
`queue_running`, then appears in `/history` with its outputs or an `execution_error`.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.openai_images import make_png

NUMBER_INPUTS = {"seed", "steps", "cfg", "width", "height", "batch_size", "denoise"}


@dataclass
class FakeComfyUI:
    polls_before_done: int = 1
    running_polls: int = 0  # polls during which the prompt is running, after the queue
    fail_runs: bool = False
    checkpoints: list[str] = field(
        default_factory=lambda: ["v1-5-pruned-emaonly.safetensors", "sd15.safetensors"]
    )
    running: list[str] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)
    client_ids: list[str] = field(default_factory=list)
    prompts: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)
    polls: dict[str, int] = field(default_factory=dict)
    images: dict[str, bytes] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    _numbers: itertools.count[int] = field(default_factory=itertools.count)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/prompt", self.prompt)
        app.router.add_get("/queue", self.queue)
        app.router.add_post("/queue", self.queue_edit)
        app.router.add_get("/history/{id}", self.history)
        app.router.add_get("/view", self.view)
        app.router.add_get("/system_stats", self.stats)
        app.router.add_get("/models/checkpoints", self.models)
        app.router.add_post("/interrupt", self.interrupt)
        return app

    async def models(self, request: web.Request) -> web.Response:
        return web.json_response(self.checkpoints)

    async def interrupt(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        target = body.get("prompt_id") if isinstance(body, dict) else None
        for pid in list(self.running):
            if target in (None, pid):
                self.interrupted.append(pid)
                self.running.remove(pid)
        return web.Response(status=200)

    @staticmethod
    def _invalid(message: str, node: str | None = None) -> web.Response:
        node_errors = {node: {"errors": [{"message": message}], "class_type": "?"}} if node else {}
        return web.json_response(
            {
                "error": {"type": "prompt_outputs_failed_validation", "message": message},
                "node_errors": node_errors,
            },
            status=400,
        )

    async def prompt(self, request: web.Request) -> web.Response:
        body = await request.json()
        if not isinstance(body, dict):
            return self._invalid("invalid body")
        if not isinstance(body.get("client_id", ""), str):
            return self._invalid("client_id must be a string")
        self.client_ids.append(body.get("client_id", ""))
        workflow = body.get("prompt")
        if not isinstance(workflow, dict) or not workflow:
            return self._invalid("no prompt")
        for node_id, node in workflow.items():
            if (
                not isinstance(node, dict)
                or "class_type" not in node
                or not isinstance(node.get("inputs"), dict)
            ):
                return self._invalid("invalid node", node_id)
            for name, value in node["inputs"].items():
                if isinstance(value, list) and (len(value) != 2 or str(value[0]) not in workflow):
                    return self._invalid(f"bad link in {name}", node_id)
                if name in NUMBER_INPUTS and not isinstance(value, int | float):
                    return self._invalid(
                        f"Failed to convert an input value to a number: {name}={value!r}", node_id
                    )
            ckpt = node["inputs"].get("ckpt_name")
            if node["class_type"] == "CheckpointLoaderSimple" and ckpt not in self.checkpoints:
                return self._invalid(
                    f"Value not in list: ckpt_name: '{ckpt}' not in {self.checkpoints}", node_id
                )
        if not any(n["class_type"] == "SaveImage" for n in workflow.values()):
            return self._invalid("Prompt has no outputs")
        prompt_id = str(uuid.uuid4())
        self.prompts[prompt_id] = workflow
        self.pending.append(prompt_id)
        self.polls[prompt_id] = 0
        return web.json_response(
            {"prompt_id": prompt_id, "number": next(self._numbers), "node_errors": {}}
        )

    async def queue(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "queue_running": [[0, pid, {}, {}, []] for pid in self.running],
                "queue_pending": [[i + 1, pid, {}, {}, []] for i, pid in enumerate(self.pending)],
            }
        )

    async def queue_edit(self, request: web.Request) -> web.Response:
        body = await request.json()
        for pid in body.get("delete", []):
            self.deleted.append(pid)
            if pid in self.pending:
                self.pending.remove(pid)
        return web.Response(status=200)

    async def history(self, request: web.Request) -> web.Response:
        pid = request.match_info["id"]
        if pid not in self.prompts or pid in self.deleted:
            return web.json_response({})
        self.polls[pid] += 1
        if pid in self.interrupted:
            return web.json_response({})
        if self.polls[pid] <= self.polls_before_done:
            return web.json_response({})
        if pid in self.pending:
            self.pending.remove(pid)
            if self.running_polls:
                self.running.append(pid)
        if self.polls[pid] <= self.polls_before_done + self.running_polls:
            return web.json_response({})
        if pid in self.running:
            self.running.remove(pid)
        if self.fail_runs:
            error = {
                "prompt_id": pid,
                "node_id": "4",
                "node_type": "CheckpointLoaderSimple",
                "exception_message": "Error while deserializing header: MetadataIncompleteBuffer",
                "exception_type": "safetensors_rust.SafetensorError",
            }
            return web.json_response(
                {
                    pid: {
                        "outputs": {},
                        "status": {
                            "status_str": "error",
                            "completed": False,
                            "messages": [["execution_error", error]],
                        },
                    }
                }
            )
        workflow = self.prompts[pid]
        latent = next(n for n in workflow.values() if n["class_type"] == "EmptyLatentImage")[
            "inputs"
        ]
        name = f"imaginebot_{len(self.images):05d}_.png"
        self.images[name] = make_png(latent["width"], latent["height"], f"comfy:{pid}")
        save = next(k for k, n in workflow.items() if n["class_type"] == "SaveImage")
        return web.json_response(
            {
                pid: {
                    "prompt": [0, pid, workflow, {}, [save]],
                    "outputs": {
                        save: {"images": [{"filename": name, "subfolder": "", "type": "output"}]}
                    },
                    "status": {"status_str": "success", "completed": True, "messages": []},
                }
            }
        )

    async def view(self, request: web.Request) -> web.Response:
        data = self.images.get(request.query.get("filename", ""))
        if data is None or request.query.get("type") != "output":
            raise web.HTTPNotFound()
        return web.Response(body=data, content_type="image/png")

    async def stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"system": {"comfyui_version": "0.3.fake", "os": "posix"}, "devices": []}
        )

"""ComfyUI workflows: API-format JSON with `{{placeholder}}` strings, loaded and filled.

Three kinds ship beside each other in `workflows/`: `txt2img.json` (checkpoint, empty latent
of `{{batch_size}}` images, KSampler, VAE decode, save), `img2img.json` (LoadImage of the
uploaded `{{image}}`, VAEEncode, RepeatLatentBatch, KSampler with `{{denoise}}`) and
`upscale.json` (LoadImage, UpscaleModelLoader of `{{upscaler}}`, ImageUpscaleWithModel) and
`inpaint.json` (the `{{image}}` encoded, its latent masked by `SetLatentNoiseMask` with the
red channel of the uploaded `{{mask}}`, white = change, so only that area is sampled again at
`{{denoise}}`; a workflow of one's own may use `VAEEncodeForInpaint` instead).
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal

WorkflowKind = Literal["txt2img", "img2img", "upscale", "inpaint"]
PLACEHOLDERS = (
    "prompt",
    "negative",
    "seed",
    "width",
    "height",
    "steps",
    "cfg_scale",
    "model",
    "batch_size",
    "image",
    "mask",
    "denoise",
    "upscaler",
)
REQUIRED: dict[WorkflowKind, tuple[str, ...]] = {
    "txt2img": ("prompt",),
    "img2img": ("prompt", "image"),
    "upscale": ("image",),
    "inpaint": ("prompt", "image", "mask"),
}
PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def load_workflow(path: Path | None, kind: WorkflowKind = "txt2img") -> dict[str, Any]:
    """The operator's workflow file, or the shipped one of that kind; checked at start."""
    if path is None:
        text = (
            resources.files("bot.core.generation.providers")
            .joinpath(f"workflows/{kind}.json")
            .read_text()
        )
    else:
        text = path.read_text(encoding="utf-8")
    workflow = json.loads(text)
    if not isinstance(workflow, dict) or not all(
        isinstance(node, dict) and "class_type" in node for node in workflow.values()
    ):
        raise ValueError(
            "the workflow must be ComfyUI's API format (Export (API) in ComfyUI): "
            "an object of nodes, each with class_type and inputs"
        )
    found = set(PLACEHOLDER.findall(text))
    unknown = sorted(found - set(PLACEHOLDERS))
    if unknown:
        raise ValueError(
            f"unknown placeholder {{{{{unknown[0]}}}}}; known: "
            + ", ".join("{{" + p + "}}" for p in PLACEHOLDERS)
        )
    for needed in REQUIRED[kind]:
        if needed not in found:
            raise ValueError(f"the workflow has no {{{{{needed}}}}} placeholder")
    return workflow


def uses(workflow: dict[str, Any], placeholder: str) -> bool:
    return "{{" + placeholder + "}}" in json.dumps(workflow)


def fill(node: Any, values: dict[str, Any]) -> Any:
    """Replace placeholders throughout a workflow in one pass, keeping numbers numbers.

    One pass matters: a prompt that itself contains "{{seed}}" stays the user's text."""
    if isinstance(node, dict):
        return {k: fill(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [fill(v, values) for v in node]
    if isinstance(node, str):
        whole = PLACEHOLDER.fullmatch(node)
        if whole and whole.group(1) in values:
            return values[whole.group(1)]
        return PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), node)
    return node

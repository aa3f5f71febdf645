"""ComfyUI workflows: API-format JSON with `{{placeholder}}` strings, loaded and filled.

Three kinds ship beside each other in `workflows/`: `txt2img.json` (checkpoint, empty latent
of `{{batch_size}}` images, KSampler, VAE decode, save), `img2img.json` (LoadImage of the
uploaded `{{image}}`, VAEEncode, RepeatLatentBatch, KSampler with `{{denoise}}`) and
`upscale.json` (LoadImage, UpscaleModelLoader of `{{upscaler}}`, ImageUpscaleWithModel) and
`inpaint.json` (the `{{image}}` encoded, its latent masked by `SetLatentNoiseMask` with the
red channel of the uploaded `{{mask}}`, white = change, so only that area is sampled again at
`{{denoise}}`; a workflow of one's own may use `VAEEncodeForInpaint` instead), and
`reference.json`: text to image through IP-Adapter (the ComfyUI_IPAdapter_plus nodes
`IPAdapterUnifiedLoader` and `IPAdapterAdvanced`, weight type "style transfer") following the
uploaded `{{reference}}` picture at `{{reference_weight}}`. Several reference pictures are one
batch: `with_references` adds a `LoadImage` for each further picture and joins them with
ComfyUI's `ImageBatch`, wired where the `{{reference}}` picture went, so IP-Adapter averages
their looks (`combine_embeds`).
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any, Literal

WorkflowKind = Literal["txt2img", "img2img", "upscale", "inpaint", "reference"]
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
    "reference",
    "reference_weight",
)
REQUIRED: dict[WorkflowKind, tuple[str, ...]] = {
    "txt2img": ("prompt",),
    "img2img": ("prompt", "image"),
    "upscale": ("image",),
    "inpaint": ("prompt", "image", "mask"),
    "reference": ("prompt", "reference"),
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


def with_references(workflow: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """A filled reference workflow taking every uploaded picture in `names`: the first in
    the `LoadImage` that held `{{reference}}` (named `names[0]` after filling), the others
    in new `LoadImage` nodes joined by `ImageBatch` nodes, whose result replaces every link
    to the first picture."""
    first = next(
        (
            node_id
            for node_id, node in workflow.items()
            if node.get("class_type") == "LoadImage" and node["inputs"].get("image") == names[0]
        ),
        None,
    )
    if first is None or len(names) < 2:
        return workflow
    graph = {node_id: dict(node, inputs=dict(node["inputs"])) for node_id, node in workflow.items()}
    joined = [first, 0]
    for number, name in enumerate(names[1:], start=2):
        loader, batch = f"imaginebot-reference-{number}", f"imaginebot-references-{number}"
        graph[loader] = {"class_type": "LoadImage", "inputs": {"image": name}}
        graph[batch] = {
            "class_type": "ImageBatch",
            "inputs": {"image1": joined, "image2": [loader, 0]},
        }
        joined = [batch, 0]
    for node_id, node in graph.items():
        if node_id.startswith("imaginebot-references-"):
            continue
        for key, value in node["inputs"].items():
            if value == [first, 0]:
                node["inputs"][key] = joined
    return graph

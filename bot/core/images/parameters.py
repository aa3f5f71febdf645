"""What a PNG says about how it was made: AUTOMATIC1111's `parameters` text chunk and
ComfyUI's `prompt` chunk (its API-format workflow), read from the chunks before the pixels
(where both tools write them) without decoding anything. For `/describe`, which shows a
picture's own parameters before any suggestion."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field

from PIL import Image, UnidentifiedImageError


@dataclass(frozen=True)
class GenerationParameters:
    """What a picture says about how it was made (AUTOMATIC1111's `parameters` chunk,
    ComfyUI's `prompt` chunk)."""

    source: str  # "automatic1111" or "comfyui"
    prompt: str
    negative_prompt: str = ""
    settings: dict[str, str] = field(default_factory=dict)


MAX_PARAMETER_CHARS = 20_000


def generation_parameters(data: bytes) -> GenerationParameters | None:
    """The generation parameters a PNG carries in its text chunks, or None. Reads the
    chunks before the pixels only (where both tools write them); decodes nothing."""
    try:
        with Image.open(io.BytesIO(data), formats=("PNG",)) as image:
            info = {k: v for k, v in image.info.items() if isinstance(v, str)}
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    if info.get("parameters"):
        return _automatic1111(info["parameters"][:MAX_PARAMETER_CHARS])
    if info.get("prompt"):
        return _comfyui(info["prompt"][:MAX_PARAMETER_CHARS])
    return None


def _automatic1111(text: str) -> GenerationParameters | None:
    """`prompt\\nNegative prompt: ...\\nSteps: 20, Sampler: Euler a, Seed: 1, ...`"""
    lines = text.strip().split("\n")
    settings: dict[str, str] = {}
    if lines and lines[-1].startswith("Steps: "):
        for part in lines.pop().split(", "):
            key, sep, value = part.partition(": ")
            if sep:
                settings[key.strip()] = value.strip()
    prompt_lines: list[str] = []
    negative_lines: list[str] = []
    for line in lines:
        if line.startswith("Negative prompt:") or negative_lines:
            negative_lines.append(line.removeprefix("Negative prompt:").strip())
        else:
            prompt_lines.append(line)
    prompt = "\n".join(prompt_lines).strip()
    if not prompt:
        return None
    return GenerationParameters("automatic1111", prompt, "\n".join(negative_lines), settings)


def _comfyui(text: str) -> GenerationParameters | None:
    """The API-format workflow: the texts wired to a sampler's positive and negative."""
    try:
        workflow = json.loads(text)
    except ValueError:
        return None
    if not isinstance(workflow, dict):
        return None

    def text_of(link: object) -> str:
        if isinstance(link, list) and link and str(link[0]) in workflow:
            node = workflow[str(link[0])]
            inputs = node.get("inputs", {}) if isinstance(node, dict) else {}
            value = inputs.get("text")
            return value if isinstance(value, str) else ""
        return ""

    for node in workflow.values():
        if not isinstance(node, dict) or "KSampler" not in str(node.get("class_type")):
            continue
        inputs = node.get("inputs") or {}
        prompt = text_of(inputs.get("positive"))
        if prompt:
            settings = {
                k: str(inputs[k]) for k in ("seed", "steps", "cfg", "sampler_name") if k in inputs
            }
            return GenerationParameters(
                "comfyui", prompt, text_of(inputs.get("negative")), settings
            )
    return None

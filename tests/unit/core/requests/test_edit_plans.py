"""What an edit asks of the provider chain: the operation of each kind, the chain filtered by
what can make it (in order, a plain refusal when nothing can), the worker's own check of each
provider, the request a provider gets, and the words of an edit by words left as written."""

from __future__ import annotations

import pytest

from bot.core.errors import NoCapableProvider
from bot.core.generation.operations import can_serve, request_for
from bot.core.generation.providers.base import Capabilities
from bot.core.models import Kind, Style
from bot.core.requests.job_plans import operation_of, providers_for, rendered_prompt
from tests.support.generations import job

BASE = Capabilities(aspects=("1:1",), negative_prompt=True, seed=True, max_prompt_chars=100)
IMAGE_IN = BASE.model_copy(update={"image_input": True})
PAINTS = IMAGE_IN.model_copy(update={"inpaint": True, "outpaint": True})
WORDS = IMAGE_IN.model_copy(update={"edit_by_words": True})


def test_each_kind_is_one_operation() -> None:
    assert operation_of(Kind.EDIT, has_mask=True) == "inpaint"
    assert operation_of(Kind.EDIT, has_mask=False) == "edit"
    assert {operation_of(k, True) for k in (Kind.ZOOM, Kind.PAN, Kind.SQUARE)} == {"outpaint"}
    assert operation_of(Kind.VARY) == "generate" and operation_of(Kind.UPSCALE) == "upscale"


def test_the_chain_keeps_its_order_and_only_what_can_make_the_edit() -> None:
    both = PAINTS.model_copy(update={"edit_by_words": True})
    chain = {"words": WORDS, "plain": IMAGE_IN, "paints": PAINTS, "both": both}
    assert providers_for(chain, Kind.ZOOM, True, has_mask=True) == ("paints", "both")
    assert providers_for(chain, Kind.EDIT, True, has_mask=True) == ("paints", "both")
    assert providers_for(chain, Kind.EDIT, True) == ("words", "both")
    with pytest.raises(NoCapableProvider, match=r"\(plain\) can extend a picture"):
        providers_for({"plain": IMAGE_IN}, Kind.PAN, True, has_mask=True)
    with pytest.raises(NoCapableProvider, match="can edit a picture by words"):
        providers_for({"paints": PAINTS}, Kind.EDIT, True)


def test_the_worker_checks_each_provider_again_and_passes_the_mask_on() -> None:
    outpaint = job(operation="outpaint", init_image=b"canvas", mask=b"mask", v=3)
    assert can_serve(PAINTS, outpaint) and not can_serve(WORDS, outpaint)
    assert not can_serve(PAINTS.model_copy(update={"image_input": False}), outpaint)
    assert can_serve(WORDS, job(operation="edit", init_image=b"p", v=3))

    class Painter:
        id = "paints"
        capabilities = PAINTS

    request = request_for(Painter(), outpaint)  # type: ignore[arg-type]
    assert (request.edit, request.mask, request.init_image) == ("outpaint", b"mask", b"canvas")
    assert request_for(Painter(), job()).edit == ""  # type: ignore[arg-type]


def test_an_edit_by_words_sends_the_words_without_the_style_around_them() -> None:
    style = Style(
        id="photo", name="Photo", emoji="📷", description="", template="a photo of {prompt}"
    )
    assert rendered_prompt(style, "make it night", Kind.EDIT, has_mask=False) == "make it night"
    assert rendered_prompt(style, "a red hat", Kind.EDIT, has_mask=True) == "a photo of a red hat"
    assert rendered_prompt(style, "a field", Kind.ZOOM, has_mask=True) == "a photo of a field"


def test_an_edit_request_is_complete_or_refused() -> None:
    from pydantic import ValidationError

    from bot.core.models import EditRequest

    assert EditRequest(action="zoom", factor=1.5).words == "zoomed out 1.5x"
    assert EditRequest(action="pan", direction="up").kind is Kind.PAN
    with pytest.raises(ValidationError, match=r"1\.5x or 2x"):
        EditRequest(action="zoom", factor=3)
    with pytest.raises(ValidationError, match="needs a direction"):
        EditRequest(action="pan")

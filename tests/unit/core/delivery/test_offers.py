"""Which buttons a finished generation offers, from what the provider chain can do: the
edits only where some provider that takes a picture can make them."""

from __future__ import annotations

from bot.core.delivery.offers import follow_ups_for
from bot.core.generation.providers.base import Capabilities
from bot.core.models import Generation, Kind, StoredImage
from tests.support.generations import generation

IMAGE = (StoredImage(index=1, path="/x-1.png", width=8, height=8, seed=1),)


def caps(**can: bool) -> Capabilities:
    return Capabilities(
        aspects=("1:1",), negative_prompt=True, seed=True, max_prompt_chars=1000, **can
    )


def picture(kind: Kind = Kind.IMAGINE) -> Generation:
    return generation("a kite").model_copy(update={"images": IMAGE, "kind": kind})


SD = caps(image_input=True, inpaint=True, outpaint=True)
GPT = caps(image_input=True, inpaint=True, outpaint=True, edit_by_words=True)


def test_edits_follow_the_chains_capabilities() -> None:
    offers = follow_ups_for(picture(), {"sdwebui": SD})
    assert (offers.edit_region, offers.outpaint, offers.edit_words, offers.edits) == (
        True,
        True,
        False,
        True,
    )
    assert follow_ups_for(picture(), {"sdwebui": SD, "openai": GPT}).edit_words


def test_no_edits_without_a_provider_that_takes_a_picture_or_without_a_stored_image() -> None:
    blind = caps(image_input=False, inpaint=True, outpaint=True, edit_by_words=True)
    assert not follow_ups_for(picture(), {"x": blind}).edits
    assert not follow_ups_for(generation("a kite"), {"openai": GPT}).edits
    assert not follow_ups_for(picture(Kind.DESCRIBE), {"openai": GPT}).edits

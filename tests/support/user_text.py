"""User text that must be refused however it is disguised."""

from __future__ import annotations

# Each of these showed up as "dragon" in a chat and reached the provider before.
DISGUISED_DRAGONS = {
    "zero-width space": "a dra\u200bgon",
    "soft hyphen": "a drag\u00adon",
    "fullwidth": "a \uff44\uff52\uff41\uff47\uff4f\uff4e",
    "cyrillic a": "a dr\u0430gon",
    "word joiner": "a dra\u2060gon",
    "zero-width joiner": "a dra\u200dgon",
    "capitals and an accent": "a DRAG\u00d3N",
    "combining accent": "a drago\u0301n",
    "bidi override": "a \u202edragon\u202c",
    "greek omicron": "a drag\u03bfn",
    # Issue 26.4: invisible letters and small capitals.
    "hangul filler": "a dra\u3164gon",
    "hangul jungseong filler": "a dra\u1160gon",
    "halfwidth hangul filler": "a dra\uffa0gon",
    "braille blank": "a dra\u2800gon",
    "combining grapheme joiner": "a dra\u034fgon",
    "latin small capitals": "a \u1d05\u0280\u1d00\u0262\u1d0f\u0274",
    "variation selector": "a dra\ufe0fgon",
    "tag characters": "a dra\U000e0067gon",
    "mongolian vowel separator": "a dra\u180egon",
}

"""`imaginebot imagine` with style references, compare and permutations, end to end: the
real openai SDK against the fake images API, real SQLite, the embedded queue."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from tests.fakes.openai_images import FakeOpenAI, make_png
from tests.support import run_cli
from tests.support.cli import only_row, openai_env

pytestmark = pytest.mark.e2e


def pixels(data: bytes) -> tuple[tuple[int, int], bytes]:
    with Image.open(io.BytesIO(data)) as image:
        return image.size, image.convert("RGB").tobytes()


def test_style_refs_go_to_one_edit_in_the_order_given(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    looks = [make_png(80, 60, "first look"), make_png(60, 80, "second look")]
    for number, look in enumerate(looks, start=1):
        (tmp_path / f"look{number}.png").write_bytes(look)
    args = ["imagine", "a harbour", "--style-ref", "look1.png", "--style-ref", "look2.png"]
    result = run_cli([*args, "-o", "out.png"], openai_env(tmp_path, fake_openai), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (sent,) = fake_openai.edit_image_sets
    assert [pixels(p) for p in sent] == [pixels(look) for look in looks]
    assert (tmp_path / "out.png").read_bytes() == fake_openai.images[0]
    row = only_row(tmp_path)
    stored = sorted(p.name for p in (tmp_path / "data" / "images").glob(f"{row['id']}-ref*"))
    assert stored == [f"{row['id']}-ref1.png", f"{row['id']}-ref2.png"]


def test_more_than_four_style_refs_are_refused_before_anything_runs(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    (tmp_path / "look.png").write_bytes(make_png(8, 8, "x"))
    args = ["imagine", "a fox", *["--style-ref", "look.png"] * 5]
    result = run_cli(args, openai_env(tmp_path, fake_openai), cwd=tmp_path)
    assert result.returncode == 2 and "at most 4 pictures" in result.stderr
    assert fake_openai.calls == []


def test_permutations_write_the_grid_and_each_picture(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    args = ["imagine", "a {red, blue} kite", "--style", "none", "-o", "kites.png"]
    result = run_cli(args, openai_env(tmp_path, fake_openai), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(fake_openai.image_prompts) == ["a blue kite", "a red kite"]
    written = sorted(p.name for p in tmp_path.glob("kites*"))
    assert written == ["kites-1.png", "kites-2.png", "kites.jpg"]
    row = only_row(tmp_path)
    assert (row["prompt"], row["count"], row["status"]) == ("a {red, blue} kite", 2, "delivered")


def test_a_compare_with_an_unknown_style_is_refused(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    args = ["imagine", "a fox", "--style", "anime,anmie"]
    result = run_cli(args, openai_env(tmp_path, fake_openai), cwd=tmp_path)
    assert result.returncode == 2 and "anmie" in result.stderr
    assert fake_openai.calls == []

"""`imaginebot styles ... --scope` and `imaginebot imagine --style NAME|#CODE --scope` end to
end: subprocesses on a real SQLite file, the real openai SDK against the fake images API."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from PIL import Image

from tests.fakes.openai_images import FakeOpenAI
from tests.support import rows, run_cli
from tests.support.cli import openai_env

pytestmark = pytest.mark.e2e


def reference(tmp_path: Path) -> Path:
    path = tmp_path / "look.png"
    out = io.BytesIO()
    Image.new("RGB", (48, 48), "purple").save(out, "PNG")
    path.write_bytes(out.getvalue())
    return path


def test_a_community_style_made_used_exported_and_imported_from_the_cli(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    env = openai_env(tmp_path, fake_openai)
    made = run_cli(
        [
            "styles", "create", "--scope", "discord:100", "--name", "Neon Noir",
            "--recipe", "{prompt}, neon noir, wet streets", "--negative", "daylight",
            "--aspect", "3:2", "--reference", str(reference(tmp_path)),
        ],
        env,
        cwd=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    code = re.search(r"#[0-9a-z]{4,}", made.stdout)
    assert code is not None and "1 reference picture" in made.stdout
    stored = rows(tmp_path / "data" / "imaginebot.sqlite3", "SELECT * FROM community_styles")
    assert [(r["style_id"], r["code"], r["aspect"]) for r in stored] == [
        ("neon-noir", code.group(0), "3:2")
    ]

    # By name in its server: the recipe, and the style's default aspect (3:2 -> 1536x1024).
    out = tmp_path / "noir.png"
    used = run_cli(
        ["imagine", "a cat", "--style", "neon noir", "--scope", "discord:100", "-o", str(out)],
        env,
        cwd=tmp_path,
    )
    assert used.returncode == 0, used.stderr
    body = fake_openai.calls[-1].body
    assert body["prompt"].startswith("a cat, neon noir, wet streets")
    assert body["size"] == "1536x1024"
    # By code from anywhere (here the command line's own scope).
    by_code = run_cli(["imagine", "a dog", "--style", code.group(0)], env, cwd=tmp_path)
    assert by_code.returncode == 0, by_code.stderr
    assert fake_openai.calls[-1].body["prompt"].startswith("a dog, neon noir, wet streets")
    # Not by name elsewhere: the plain refusal, nothing queued.
    elsewhere = run_cli(["imagine", "a dog", "--style", "neon noir"], env, cwd=tmp_path)
    assert elsewhere.returncode == 2 and "no style called" in elsewhere.stderr

    # Exported, imported into a Telegram group under another name.
    exported = tmp_path / "noir.yaml"
    assert (
        run_cli(
            ["styles", "export", "neon-noir", "--scope", "discord:100", "-o", str(exported)],
            env,
            cwd=tmp_path,
        ).returncode
        == 0
    )
    assert "recipe: '{prompt}, neon noir, wet streets'" in exported.read_text()
    imported = run_cli(
        ["styles", "import", str(exported), "--scope", "telegram:-200", "--name", "Rainy"],
        env,
        cwd=tmp_path,
    )
    assert imported.returncode == 0, imported.stderr
    listed = run_cli(["styles", "list", "--scope", "telegram:-200"], env, cwd=tmp_path)
    assert "rainy" in listed.stdout and "anime" in listed.stdout

    # Hidden, then deleted; bad input answered in words.
    hidden = run_cli(
        ["styles", "edit", "neon-noir", "--scope", "discord:100", "--hidden"], env, cwd=tmp_path
    )
    assert hidden.returncode == 0 and "[hidden]" in hidden.stdout
    bad = run_cli(
        ["styles", "create", "--scope", "discord:100", "--name", "X", "--recipe", "no slot"],
        env,
        cwd=tmp_path,
    )
    assert bad.returncode == 2 and "{prompt}" in bad.stderr
    gone = run_cli(["styles", "delete", "neon-noir", "--scope", "discord:100"], env, cwd=tmp_path)
    assert gone.returncode == 0, gone.stderr
    assert not list((tmp_path / "data" / "images").glob("*-input.png"))
    again = run_cli(["styles", "delete", "neon-noir", "--scope", "discord:100"], env, cwd=tmp_path)
    assert again.returncode == 2 and "no style of its own" in again.stderr


def test_a_community_styles_reference_picture_reaches_openai_as_an_image_part(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    """A style's reference picture is the request's style reference: stored beside the
    request and sent to the GPT image model as the `image[]` part of one edit."""
    env = openai_env(tmp_path, fake_openai)
    made = run_cli(
        [
            "styles", "create", "--scope", "discord:100", "--name", "Violet",
            "--recipe", "{prompt}, violet wash", "--reference", str(reference(tmp_path)),
        ],
        env,
        cwd=tmp_path,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    used = run_cli(
        ["imagine", "a cat", "--style", "violet", "--scope", "discord:100", "-o", "v.png"],
        env,
        cwd=tmp_path,
    )
    assert used.returncode == 0, used.stderr
    (sent,) = fake_openai.edit_image_sets
    with Image.open(io.BytesIO(sent[0])) as part:
        assert part.size == (48, 48) and part.convert("RGB").getpixel((0, 0)) == (128, 0, 128)
    (row,) = rows(tmp_path / "data" / "imaginebot.sqlite3", "SELECT id FROM generations")
    beside = [p.name for p in (tmp_path / "data" / "images").glob(f"{row['id']}-ref*")]
    assert beside == [f"{row['id']}-ref1.png"]
    # A one-off --style-ref takes the place of the style's picture.
    other = tmp_path / "other.png"
    Image.new("RGB", (40, 30), "orange").save(other, "PNG")
    again = run_cli(
        ["imagine", "a dog", "--style", "violet", "--scope", "discord:100", "--style-ref",
         str(other), "-o", "w.png"],
        env,
        cwd=tmp_path,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    with Image.open(io.BytesIO(fake_openai.edit_image_sets[-1][0])) as part:
        assert len(fake_openai.edit_image_sets[-1]) == 1 and part.size == (40, 30)

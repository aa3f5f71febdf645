"""The built package: what `pip install .` (the Dockerfile's install) puts on a machine."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from bot.catalogues import DOMAINS
from bot.core.language import LANGUAGES, PSEUDO
from tests.support import ROOT


def test_the_wheel_carries_a_compiled_catalogue_for_every_language(tmp_path: Path) -> None:
    # No build isolation: the build uses this environment's hatchling and Babel, so the test
    # never downloads anything.
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("imaginebot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"bot/locales/{locale}/LC_MESSAGES/{domain}.mo"
        for locale in (*LANGUAGES[1:], PSEUDO)
        for domain in DOMAINS
    }
    assert expected <= names
    assert "bot/migrations/001_initial.sql" in names

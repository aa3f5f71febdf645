"""Tests are as easy to place as code: shared builders live in `tests/support/` (or the fakes in
`tests/fakes/`, or a conftest fixture), so no test module imports another test module, and
nothing outside the tests reaches into one. Imports inside functions count too."""

from __future__ import annotations

import ast
import asyncio
import multiprocessing
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TESTS = ROOT / "tests"
SHARED = ("tests.support", "tests.fakes")


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module an import statement in `path` names, with its line (relative ones resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    return modules_named(path.read_text(encoding="utf-8"), package)


def modules_named(source: str, package: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.append((node.lineno, base))
            # `from tests.e2e import test_x` names a test module as well
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def is_test_module(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return module.startswith("tests.") and (last.startswith("test_") or last == "conftest")


def is_shared(module: str) -> bool:
    return any(module == shared or module.startswith(shared + ".") for shared in SHARED)


def test_no_module_imports_a_test_module() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for folder in ("tests", "benchmarks", "bot")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for line, module in imported_modules(path)
        if is_test_module(module)
    ]
    assert offenders == [], "move what is shared into tests/support/:\n" + "\n".join(offenders)


def test_tests_import_only_the_shared_test_packages() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted(TESTS.rglob("*.py"))
        for line, module in imported_modules(path)
        if module.startswith("tests.") and not is_shared(module) and module != "tests"
    ]
    assert offenders == [], "tests import helpers from tests.support or tests.fakes only:\n" + (
        "\n".join(offenders)
    )


def test_the_check_sees_imports_inside_functions_and_relative_ones() -> None:
    source = "def f():\n    from tests.e2e.test_telegram_e2e import Stack\nfrom . import test_x\n"
    assert sorted(m for _, m in modules_named(source, "tests.e2e") if is_test_module(m)) == [
        "tests.e2e.test_telegram_e2e",
        "tests.e2e.test_x",
    ]


def test_unit_test_folders_mirror_the_bot_package() -> None:
    """tests/unit/<folder>/ holds the tests of bot/<folder>/: a test is found where its code is."""
    unit = TESTS / "unit"
    folders = [
        path.relative_to(unit)
        for path in sorted(unit.rglob("*"))
        if path.is_dir() and path.name != "__pycache__"
    ]
    assert folders, "tests/unit has folders"
    assert [f for f in folders if not (ROOT / "bot" / f).is_dir()] == []


def test_a_fast_lane_test_that_starts_a_process_fails_naming_the_mark() -> None:
    needs_the_mark = re.escape("mark it pytest.mark.e2e")
    with pytest.raises(AssertionError, match=needs_the_mark):
        subprocess.run([sys.executable, "-c", "pass"], check=True)
    with pytest.raises(AssertionError, match=needs_the_mark):
        asyncio.run(asyncio.create_subprocess_exec(sys.executable, "-c", "pass"))
    with pytest.raises(AssertionError, match=needs_the_mark):
        multiprocessing.get_context("spawn").Process(target=print).start()

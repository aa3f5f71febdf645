"""docs/platform-rules.md names, for every platform rule, a test that exists."""

from __future__ import annotations

import ast
import re

from tests.support import ROOT

ROW = re.compile(r"^\|[^|]+\|[^|]+\|[^|]+\| *(tests/[\w/]+\.py)::(\w+) *\|$", re.MULTILINE)


def _rows() -> list[tuple[str, str]]:
    text = (ROOT / "docs" / "platform-rules.md").read_text(encoding="utf-8")
    return ROW.findall(text)


def _test_names(path: str) -> set[str]:
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    }


def test_every_table_row_names_a_test() -> None:
    text = (ROOT / "docs" / "platform-rules.md").read_text(encoding="utf-8")
    table_rows = [
        line
        for line in text.splitlines()
        if line.startswith("| ") and not line.startswith(("| platform", "|---"))
    ]
    assert len(table_rows) == len(_rows()), "a row's test column is not path::test_name"


def test_every_named_test_exists() -> None:
    rows = _rows()
    assert rows, "the catalogue is empty"
    missing = [
        f"{path}::{name}"
        for path, name in rows
        if not (ROOT / path).is_file() or name not in _test_names(path)
    ]
    assert missing == []

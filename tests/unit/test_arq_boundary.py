"""ARQ's internals (its key names, job envelope, worker methods) are known in one module,
bot/core/generation/queue.py; everywhere else uses only ARQ's public names."""

from __future__ import annotations

import ast

from tests.support import ROOT

QUEUE_MODULE = ROOT / "bot" / "core" / "generation" / "queue.py"
PUBLIC = {
    "arq": {"Retry", "Worker"},
    "arq.connections": {"ArqRedis", "RedisSettings", "create_pool"},
    "arq.worker": {"func"},
}


def arq_uses(path: str, tree: ast.AST) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [f"{path}: import {a.name}" for a in node.names if a.name.startswith("arq")]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "arq":
            allowed = PUBLIC.get(node.module or "", set())
            found += [
                f"{path}: from {node.module} import {a.name}"
                for a in node.names
                if a.name not in allowed
            ]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if node.value.startswith("arq:") or node.value.endswith(":health-check"):
                found.append(f"{path}: ARQ key {node.value!r}")
    return found


def test_only_the_queue_module_knows_arq_internals() -> None:
    offenders = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        if path == QUEUE_MODULE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offenders += arq_uses(str(path.relative_to(ROOT)), tree)
    assert offenders == []


def test_the_check_sees_what_the_queue_module_uses() -> None:
    # The rule has teeth: applied to queue.py itself it finds ARQ's internal keys.
    uses = arq_uses("queue.py", ast.parse(QUEUE_MODULE.read_text(encoding="utf-8")))
    assert any("arq.constants import abort_jobs_ss" in u for u in uses)

"""The house rules, read from the source with `ast` (nothing is imported to check them).

- bot.core imports no platform library (discord, telegram), anywhere in a module;
- an adapter imports neither the other adapter, nor bot.bootstrap, nor the store, anywhere
  (TYPE_CHECKING blocks and function bodies included);
- a helper inside an adapter never imports its adapter module (it is handed collaborators);
- bot.core is cut by the stages of a request (docs/architecture.md): every import between
  two stages points down `STAGES`, and the shared modules at the top of bot/core (models,
  errors, messages, ports, ...) import no stage;
- no import cycle under bot/, counting every import that runs: imports inside functions
  count (they run too, only later), imports inside `if TYPE_CHECKING:` (never run) do not.
- no function in bot/ is over 60 lines (modules are sized by concept, not by a line count).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.support import ROOT

BOT = ROOT / "bot"
PLATFORM_LIBRARIES = ("discord", "telegram")
ADAPTERS = ("bot.adapters.discord", "bot.adapters.telegram")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(path): path for path in sorted(BOT.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The modules an import statement loads (a `from package import name` that names a
    submodule loads that submodule)."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name
        return
    base = node.module or ""
    if node.level:  # relative: resolved against this module's package
        package = module.split(".")
        if MODULES.get(module, Path()).name != "__init__.py":
            package = package[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    yield base
    for alias in node.names:
        if f"{base}.{alias.name}" in MODULES:
            yield f"{base}.{alias.name}"


def imports(module: str, *, runtime_only: bool, source: str | None = None) -> set[str]:
    """Every module `module` imports; with `runtime_only`, only the imports that ever run
    (inside functions too, not under TYPE_CHECKING)."""
    if source is None:
        source = MODULES[module].read_text(encoding="utf-8")
    tree = ast.parse(source)
    found: set[str] = set()

    def visit(node: ast.AST, deferred: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                if not (runtime_only and deferred):
                    found.update(_targets(module, child))
            elif isinstance(child, ast.If) and _is_type_checking(child):
                for statement in child.body:
                    visit(ast.Module(body=[statement], type_ignores=[]), True)
                for statement in child.orelse:
                    visit(ast.Module(body=[statement], type_ignores=[]), deferred)
            else:
                visit(child, deferred)

    visit(tree, False)
    return found


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


SAMPLE = """
from typing import TYPE_CHECKING

import bot.core.models
from bot.adapters.discord import privacy
from . import render

if TYPE_CHECKING:
    from bot.core.store import Store
else:
    import bot.core.errors


class Thing:
    import bot.core.text

    def later(self) -> None:
        from bot.bootstrap import BotApp

        handler = lambda: __import__("x")  # not an import statement: not seen
"""


def test_the_reader_sees_imports_at_every_depth() -> None:
    # The rules below are only as good as this reader: it must see imports at every depth
    # (a class body, a function, an `else` of TYPE_CHECKING), resolve relative ones and
    # submodules named by `from package import name`, and tell TYPE_CHECKING ones apart.
    module = "bot.adapters.discord.buttons"
    everywhere = imports(module, runtime_only=False, source=SAMPLE)
    run = imports(module, runtime_only=True, source=SAMPLE)
    assert {
        "bot.core.models",
        "bot.adapters.discord.privacy",
        "bot.adapters.discord.render",
        "bot.core.errors",
        "bot.core.text",
        "bot.bootstrap",
    } <= run
    assert everywhere - run == {"bot.core.store"}


def test_core_imports_no_platform_library() -> None:
    offenders = {
        module: sorted(
            name
            for name in imports(module, runtime_only=False)
            if name.split(".")[0] in PLATFORM_LIBRARIES
        )
        for module in MODULES
        if within(module, "bot.core")
    }
    assert {m: names for m, names in offenders.items() if names} == {}


def test_adapters_import_neither_each_other_nor_bootstrap_nor_the_store() -> None:
    offenders: dict[str, list[str]] = {}
    for module in MODULES:
        own = next((a for a in ADAPTERS if within(module, a)), None)
        if own is None:
            continue
        forbidden = [a for a in ADAPTERS if a != own] + ["bot.bootstrap", "bot.core.store"]
        bad = sorted(
            name
            for name in imports(module, runtime_only=False)
            if any(within(name, f) for f in forbidden)
        )
        if bad:
            offenders[module] = bad
    assert offenders == {}


def test_adapter_helpers_do_not_import_their_adapter() -> None:
    offenders = {
        module: f"{adapter}.adapter"
        for adapter in ADAPTERS
        for module in MODULES
        if within(module, adapter)
        and module != f"{adapter}.adapter"
        and f"{adapter}.adapter" in imports(module, runtime_only=False)
    }
    assert offenders == {}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), or a self-import."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            connect(node)
    return found


def test_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_under_bot() -> None:
    graph = {
        module: {name for name in imports(module, runtime_only=True) if name in MODULES}
        for module in MODULES
    }
    assert cycles(graph) == []


# bot.core's stages, from the top of a request's path down: a module may import its own
# stage, any stage below it and the shared top of bot/core, never a stage above.
STAGES = (
    "bot.core.requests",
    "bot.core.delivery",
    "bot.core.generation",
    "bot.core.limits",
    "bot.core.images",
    "bot.core.store",
)


def stage_of(module: str) -> int | None:
    """The rank of `module`'s stage (0 is the top), len(STAGES) for the shared modules at the
    top of bot/core, None outside bot.core."""
    for rank, stage in enumerate(STAGES):
        if within(module, stage):
            return rank
    return len(STAGES) if within(module, "bot.core") and module != "bot.core" else None


def test_stage_ranks() -> None:
    assert stage_of("bot.core.requests.service") == 0
    assert stage_of("bot.core.generation.providers.horde") == STAGES.index("bot.core.generation")
    assert stage_of("bot.core.models") == len(STAGES)
    assert stage_of("bot.core") is None and stage_of("bot.adapters.telegram.adapter") is None


def test_core_imports_point_down_the_stages() -> None:
    upward = {
        module: sorted(
            name
            for name in imports(module, runtime_only=False)
            if (target := stage_of(name)) is not None and target < rank
        )
        for module in MODULES
        if (rank := stage_of(module)) is not None
    }
    assert {m: names for m, names in upward.items() if names} == {}


def test_core_top_level_holds_at_most_ten_modules() -> None:
    top = [path.name for path in (BOT / "core").glob("*.py")]
    assert len(top) <= 10, sorted(top)


MAX_FUNCTION_LINES = 60


def test_no_function_in_bot_is_over_60_lines() -> None:
    # From its `def` to its last line, docstring included (decorators not counted).
    long = {
        f"{path.relative_to(ROOT)}:{node.lineno} {node.name}": lines
        for path in MODULES.values()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and (lines := (node.end_lineno or node.lineno) - node.lineno + 1) > MAX_FUNCTION_LINES
    }
    assert long == {}

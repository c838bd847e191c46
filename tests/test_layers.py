"""The package's layers import one way: no cycle, counting imports inside functions and under TYPE_CHECKING.

Read from the source with ``ast``, so an import hidden in a function counts as much as one at the top.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pipeline"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports(name: str) -> list[tuple[str, int, bool]]:
    """Each ``pipeline`` module that ``name`` imports: (module, line, inside a function)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    local = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
             for n in ast.walk(f) if isinstance(n, (ast.Import, ast.ImportFrom))}
    out = []
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        out.extend((t, node.lineno, id(node) in local) for t in targets if t in MODULES and t != name)
    return out


def cycles() -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    graph = {name: sorted({t for t, _, _ in imports(name)}) for name in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return found


def test_the_modules_are_found():
    assert {"pipeline.cli", "pipeline.run", "pipeline.publisher", "pipeline.platforms.mastodon.rules",
            "pipeline.platforms.mastodon.publisher"} <= set(MODULES)


def test_no_import_cycle():
    assert cycles() == []


def test_a_platform_publisher_depends_on_its_rules_never_the_reverse():
    for name in MODULES:
        if name.endswith(".rules"):
            assert not any(t.endswith(".publisher") and t != "pipeline.publisher" for t, _, _ in imports(name)), name


def test_the_publisher_types_are_a_leaf_of_the_run():
    run = {"pipeline.run", "pipeline.plan", "pipeline.ledger", "pipeline.compose", "pipeline.cli"}
    assert not run & {t for t, _, _ in imports("pipeline.publisher")}


def test_every_function_local_import_outside_the_cli_says_why():
    """The CLI imports each command's modules when it runs, so --help and --version stay light; elsewhere
    a heavy or optional import may wait until it is needed, with a comment saying so."""
    silent = []
    for name, path in MODULES.items():
        if name == "pipeline.cli":
            continue
        lines = path.read_text(encoding="utf-8").splitlines()
        tree = ast.parse("\n".join(lines))
        for function in ast.walk(tree):
            if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(function):
                    if isinstance(node, (ast.Import, ast.ImportFrom)) and "#" not in lines[node.lineno - 1] \
                            and "#" not in lines[node.lineno - 2]:
                        silent.append(f"{path.name}:{node.lineno}")
    assert silent == []


def test_help_and_version_stay_light():
    code = ("import sys; from pipeline import cli\n"
            "try:\n    cli.main(['--version'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('requests', 'jinja2', 'markdown_it', 'yaml', 'regex') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().endswith("[]")

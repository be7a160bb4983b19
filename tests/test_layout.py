"""The house's architecture, checked: no import circles, and each package imports only what it may.

functions/ (Flask) and workers/ (Dramatiq) are siblings: functions may send through workers.brokers and
nothing else of workers; workers never import functions. minqing/ is the core: outside its shell modules
(the command line, the server launcher, the monthly report, the posters) it imports neither. schemas/ is
vocabulary and validation only. Lazy imports inside functions count: a circle is a circle wherever it is.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("functions", "workers", "schemas", "minqing")
SHELL = {"minqing.cli", "minqing.serve", "minqing.report", "minqing.posters", "minqing.__main__"}


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = modules()


def _resolve(name: str) -> str | None:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(name: str) -> set[str]:
    """The project modules `name` imports, at the top or inside a function."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            resolved = _resolve(target)
            if resolved and resolved != name:
                found.add(resolved)
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def circles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return found


def _top(name: str) -> str:
    return name.split(".")[0]


def test_no_module_is_part_of_an_import_circle():
    assert circles() == []


def test_functions_reach_workers_only_to_send():
    wrong = {(a, b) for a, targets in GRAPH.items() if _top(a) == "functions"
             for b in targets if _top(b) == "workers" and not (b == "workers" or b.startswith("workers.brokers"))}
    assert wrong == set()


def test_workers_never_import_functions():
    assert {(a, b) for a, t in GRAPH.items() if _top(a) == "workers" for b in t if _top(b) == "functions"} == set()


def test_the_core_imports_neither_functions_nor_workers_outside_its_shell():
    wrong = {(a, b) for a, t in GRAPH.items() if _top(a) == "minqing" and a not in SHELL
             for b in t if _top(b) in ("functions", "workers")}
    assert wrong == set()


def test_schemas_are_vocabulary_only():
    assert {(a, b) for a, t in GRAPH.items() if _top(a) == "schemas" for b in t if _top(b) != "schemas"} == set()


def test_pure_rules_touch_no_storage():
    wrong = {(a, b) for a, t in GRAPH.items() if a.startswith("minqing.domain")
             for b in t if b.startswith("minqing.store") or b.startswith("minqing.attachments")}
    assert wrong == set()


def test_every_folder_of_modules_is_a_package_that_a_regular_install_ships():
    # setuptools' find_packages leaves out a folder without __init__.py, which the editable install of the
    # tests would still import: the README's `pip install .` would then miss it.
    missing = sorted(str(path.parent.relative_to(ROOT)) for package in PACKAGES
                     for path in (ROOT / package).rglob("*.py") if not (path.parent / "__init__.py").exists())
    assert missing == []


def test_the_benchmarks_import_nothing_of_the_tests():
    # Shared helpers (the live server, the peers, Lambda events) live in minqing.testing, which both use.
    found = set()
    for path in (ROOT / "bench").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            found |= {(path.name, name) for name in names if name.split(".")[0] == "tests"}
    assert found == set()

"""The package's import graph has no cycle, and training never imports transfer/.

Every ``import`` counts, at module level or inside a function (a deferred import is still a
dependency). ``from X import Y`` is an edge to ``X``, and to ``X.Y`` too when that is a module.
"""
from __future__ import annotations

import ast
import os

import nnmagics

ROOT = os.path.dirname(nnmagics.__file__)


def _modules() -> dict[str, str]:
    found = {}
    for folder, _, files in os.walk(ROOT):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                parts = os.path.relpath(path, os.path.dirname(ROOT))[:-3].split(os.sep)
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                found[".".join(parts)] = path
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(open(path, encoding="utf8").read())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                targets = [source] + [f"{source}.{alias.name}" for alias in node.names]
            for target in targets:
                if target in modules and target != name:
                    graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                out.append(sorted(part))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_detector_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle():
    assert _cycles(_graph()) == []


def test_training_does_not_import_transfer():
    graph = _graph()
    training = [m for m in graph if m.startswith("nnmagics.training")]
    assert training
    for module in training:
        assert not {t for t in graph[module] if t.startswith("nnmagics.transfer")}, module


def test_the_package_root_holds_only_the_vocabulary():
    """The root is the pure-Python vocabulary; every layer of the core is a package of its own."""
    root_modules = {name[:-3] for name in os.listdir(ROOT) if name.endswith(".py")}
    assert root_modules == {"__init__", "_notebooks", "_quiet_tf", "checks", "config", "errors", "files",
                            "progress", "registry"}, root_modules
    packages = {name for name in os.listdir(ROOT) if os.path.isfile(os.path.join(ROOT, name, "__init__.py"))}
    assert {"data", "model", "runtime", "training", "diagnosis", "transfer", "display", "magics"} <= packages

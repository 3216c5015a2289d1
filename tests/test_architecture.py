"""The architecture's contracts (.importlinter, docs/architecture.md) hold for the tree, and they do bite: a copy of
the package with one import against a layer, or one I/O import in a rules module, fails `lint-imports` with the
contract's name. Besides: no two modules of the project import each other, even through others (import-linter
checks layers, not cycles between modules), and no module outside the migrations grows past ~500 lines."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
CONFIG = ROOT / ".importlinter"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
LAYERS = "Apps depend downward"
RULES = "rules modules are pure"
MAX_LINES = 500


def lint_imports(src: Path, cwd: Path) -> subprocess.CompletedProcess:
    # PYTHONPATH comes before the editable install's path, so the copy under `src` is the package analysed.
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(cwd / ".importlinter"), "--no-cache"],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def copy_of_tree(tmp_path_factory) -> Path:
    """The package's Python files and the contracts, copied: the tests below change the copy, never the tree."""
    root = tmp_path_factory.mktemp("tree")
    shutil.copytree(SRC / "haochaping", root / "src" / "haochaping",
                    ignore=shutil.ignore_patterns("__pycache__", "static", "templates", "locale", "*.mo", "*.po"))
    shutil.copy(CONFIG, root / ".importlinter")
    return root


def write_module(root: Path, dotted: str, source: str) -> Path:
    path = root / "src" / Path(*dotted.split(".")).with_suffix(".py")
    path.write_text(source, encoding="utf-8")
    return path


def test_the_tree_keeps_every_contract():
    result = lint_imports(SRC, ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    assert f"{LAYERS}" in result.stdout


def test_an_import_against_the_layers_fails_naming_the_contract(copy_of_tree):
    # A low app reaching up: core would then depend on evaluation.
    added = write_module(copy_of_tree, "haochaping.core.reversed", "from haochaping.evaluation import models\n")
    try:
        result = lint_imports(copy_of_tree / "src", copy_of_tree)
    finally:
        added.unlink()
    assert result.returncode != 0
    out = " ".join(result.stdout.split())  # the report wraps long contract names
    assert f"{LAYERS}" in out and "BROKEN" in out
    assert "haochaping.core is not allowed to import haochaping.evaluation" in out
    assert "haochaping.core.reversed -> haochaping.evaluation.models" in out


def test_siblings_of_a_layer_are_independent(copy_of_tree):
    added = write_module(copy_of_tree, "haochaping.disclosure.sideways", "import haochaping.exchange.rules\n")
    try:
        result = lint_imports(copy_of_tree / "src", copy_of_tree)
    finally:
        added.unlink()
    assert result.returncode != 0
    assert "haochaping.disclosure is not allowed to import haochaping.exchange" in " ".join(result.stdout.split())


def test_a_rules_module_that_does_io_fails_naming_the_contract(copy_of_tree):
    rules = copy_of_tree / "src" / "haochaping" / "evaluation" / "rules.py"
    original = rules.read_text(encoding="utf-8")
    rules.write_text(original + "\nimport subprocess  # noqa\nfrom haochaping.records.models import Stage  # noqa\n",
                     encoding="utf-8")
    try:
        result = lint_imports(copy_of_tree / "src", copy_of_tree)
    finally:
        rules.write_text(original, encoding="utf-8")
    assert result.returncode != 0
    out = " ".join(result.stdout.split())
    assert f"{RULES}" in out
    assert "haochaping.evaluation.rules is not allowed to import subprocess" in out
    assert "haochaping.evaluation.rules is not allowed to import haochaping.records.models" in out


def import_cycles(graph) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), i.e. modules importing each other."""
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in sorted(graph.modules)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:
        # Iterative: the graph is deep enough for Python's recursion limit to matter on a bigger tree.
        work = [(module, iter(edges[module]))]
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(edges[succ])))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        cycles.append(sorted(component))

    for module in edges:
        if module not in index:
            visit(module)
    return cycles


def test_no_modules_import_each_other():
    # Imports inside functions count too: moving an import into a function hides a cycle, it does not end it.
    graph = grimp.build_graph("haochaping", cache_dir=None)
    assert import_cycles(graph) == []


def test_the_cycle_check_finds_cycles():
    graph = grimp.ImportGraph()
    for importer, imported in [("p.a", "p.b"), ("p.b", "p.a"), ("p.c", "p.a"),  # a <-> b; c only imports
                               ("p.x", "p.y"), ("p.y", "p.z"), ("p.z", "p.x")]:  # round three modules
        graph.add_import(importer=importer, imported=imported)
    assert sorted(import_cycles(graph)) == [["p.a", "p.b"], ["p.x", "p.y", "p.z"]]


def test_no_module_outgrows_a_reader():
    too_long = {}
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_LINES:
            too_long[str(path.relative_to(ROOT))] = lines
    assert too_long == {}, f"split by concept (docs/architecture.md): {too_long}"

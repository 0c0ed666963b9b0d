"""The house rules a newcomer relies on: no module over 600 lines, no import cycle among the
package's modules, every third-party import declared in pyproject.toml."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from helpers import ROOT

PACKAGE = ROOT / "archiver"
MAX_LINES = 600


def modules() -> dict[str, Path]:
    return {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): path
        for path in PACKAGE.rglob("*.py")
    }


def imports(name: str, path: Path) -> set[str]:
    """Every module this one imports, at the top or inside a function."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def test_no_module_is_over_600_lines() -> None:
    long = {
        name: n for name, path in modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not long, long


def test_no_import_cycle() -> None:
    known = modules()
    graph = {
        name: sorted(i for i in imports(name, path) if i in known and i != name)
        for name, path in known.items()
    }
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for target in graph[node]:
            if state.get(target) == "open":
                cycle = [*trail[trail.index(target) :], target] if target in trail else [node, target]
                raise AssertionError(" -> ".join(cycle))
            if target not in state:
                visit(target, [*trail, target])
        state[node] = "done"

    for name in graph:
        if name not in state:
            visit(name, [name])


def test_every_third_party_import_is_declared() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    names = {re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].lower().replace("_", "-") for spec in declared}
    owners = packages_distributions()
    missing = {}
    for name, path in modules().items():
        for module in imports(name, path):
            top = module.split(".")[0]
            if not top or top == "archiver" or top in sys.stdlib_module_names:
                continue
            dists = {d.lower().replace("_", "-") for d in owners.get(top, [top])}
            if not dists & names:
                missing.setdefault(top, name)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_every_benchmark_starts() -> None:
    """Benchmarks are scripts, not tests, but each must at least start (imports, --help)."""
    import subprocess

    for script in sorted((ROOT / "benchmarks").glob("*.py")):
        if script.name == "corpus_pairs.py":  # a module the evaluations import
            continue
        done = subprocess.run(
            [sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, (script.name, done.stderr[-500:])

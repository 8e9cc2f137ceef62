"""The import layering of ``pal_eval`` and ``heads``: floors, no upward arrow, no package loop.

The floors are the README's ("Architecture"). The imports are read from the source with
``ast`` (nothing is imported), wherever they stand (module level or inside a function), plus
the modules a module names for ``importlib`` (``pal_eval.registration``'s list).
"""
from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ('pal_eval', 'heads')

#: Bottom to top. A module may import from its own floor (without a package loop) and from
#: any floor below; never from a floor above.
FLOORS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ('ground', ('pal_eval.errors', 'pal_eval.version', 'pal_eval.core')),
    ('files and stack', ('pal_eval.io', 'pal_eval.compat')),
    ('data', ('pal_eval.data',)),
    ('stages', ('pal_eval.pretrain', 'pal_eval.encoders', 'pal_eval.postprocess')),
    ('consumers', ('pal_eval.extraction', 'pal_eval.evaluation', 'pal_eval.visualization')),
    ('registration', ('pal_eval', 'pal_eval.registration')),
    ('heads', ('heads',)),
    ('calibration', ('pal_eval.calibration',)),
    ('leaderboard', ('pal_eval.leaderboard',)),
    ('entry points', ('pal_eval.cli', 'pal_eval.demo', 'pal_eval.predict')),
)
#: What a pure floor may import besides the standard library: (package, allowed).
PURE = {
    'pal_eval.core': ('numpy', 'pal_eval.errors', 'pal_eval.core'),
    'pal_eval.postprocess': ('numpy', 'pal_eval.core', 'pal_eval.postprocess'),
}


def module_files() -> dict[str, Path]:
    """``{dotted module name: file}`` of every module of the two packages."""
    out = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob('*.py')):
            parts = path.relative_to(REPO).with_suffix('').parts
            name = '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)
            out[name] = path
    return out


def imports_of(name: str, path: Path, modules: Iterable[str]) -> set[str]:
    """Every module ``name`` imports (any package), by ``ast``; ``from a import b`` is ``a.b``
    when that is a module of ours (else ``a``). Tuples of module names of ours (for
    ``importlib``) count too."""
    modules = set(modules)
    is_package = path.name == '__init__.py'
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                anchor = name.split('.')[:len(name.split('.')) - node.level + is_package]
                base = '.'.join(anchor + ([base] if base else []))
            submodules = {f'{base}.{a.name}' for a in node.names} & modules
            found.update(submodules)
            if len(submodules) < len(node.names):  # a name defined in `base` itself
                found.add(base)
        elif isinstance(node, (ast.Tuple, ast.List)) and node.elts and all(
                isinstance(e, ast.Constant) and e.value in modules for e in node.elts):
            found.update(e.value for e in node.elts)
    return found


def graph() -> dict[str, set[str]]:
    """``{module: modules of ours it imports}``."""
    files = module_files()
    return {name: {m for m in imports_of(name, path, files) if m.split('.')[0] in PACKAGES}
            for name, path in files.items()}


def unit_of(module: str) -> str | None:
    """The declared package (longest prefix) a module belongs to."""
    units = [u for _, members in FLOORS for u in members
             if module == u or (module.startswith(u + '.') and u != 'pal_eval')]
    return max(units, key=len) if units else None


def floor_of(module: str) -> int:
    unit = unit_of(module)
    return next(i for i, (_, members) in enumerate(FLOORS) if unit in members)


def upward_arrows(edges: Mapping[str, Iterable[str]]) -> list[str]:
    """``'a -> b'`` for every import of a higher floor."""
    return sorted(f'{a} -> {b}' for a, targets in edges.items() for b in targets
                  if floor_of(b) > floor_of(a))


def package_loops(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Cycles among the declared packages (one per strongly connected component)."""
    units: dict[str, set[str]] = {}
    for a, targets in edges.items():
        for b in targets:
            if unit_of(a) != unit_of(b):
                units.setdefault(unit_of(a), set()).add(unit_of(b))
    index, low, stack, on_stack, loops = {}, {}, [], set(), []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in units.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                loops.append(sorted(component))

    for unit in sorted(units):
        if unit not in index:
            visit(unit)
    return loops


@pytest.fixture(scope='module')
def edges() -> dict[str, set[str]]:
    return graph()


def test_every_module_stands_on_a_declared_floor(edges):
    assert [m for m in edges if unit_of(m) is None] == []


def test_no_import_runs_back_up(edges):
    assert upward_arrows(edges) == []


def test_no_package_loop(edges):
    assert package_loops(edges) == []


@pytest.mark.parametrize('package', sorted(PURE))
def test_pure_floors_import_only_what_they_may(package, edges):
    files = module_files()
    allowed = PURE[package]
    bad = sorted(f'{name} -> {target}' for name, path in files.items()
                 if name == package or name.startswith(package + '.')
                 for target in imports_of(name, path, files)
                 if target.split('.')[0] not in sys.stdlib_module_names | {'__future__'}
                 and not any(target == a or target.startswith(a + '.') for a in allowed))
    assert bad == []


def test_the_walker_sees_real_arrows_and_would_flag_wrong_ones(edges):
    # Real arrows it must find: heads imports pal_eval (one way), registration's list.
    assert 'pal_eval.core.tiou' in edges['heads.targets']
    assert 'pal_eval.data.datasets' in edges['pal_eval.registration']
    assert not any(target.startswith('heads') for target in edges['pal_eval.registration'])
    # Injected faults are reported: an upward import, and a loop between two packages.
    assert upward_arrows({'pal_eval.core.tiou': {'pal_eval.evaluation.metrics'}}) == [
        'pal_eval.core.tiou -> pal_eval.evaluation.metrics']
    assert package_loops({'pal_eval.evaluation.grounding': {'pal_eval.extraction.probe'},
                          'pal_eval.extraction.probe': {'pal_eval.evaluation.metrics'}}) == [
        ['pal_eval.evaluation', 'pal_eval.extraction']]

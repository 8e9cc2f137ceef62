"""The installed environment (``make install``): one OpenCV, declared imports, quiet ``mim``."""
from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import subprocess
import sys

import pytest


def _declared() -> set[str]:
    """Runtime requirements of the installed pal-eval (extras excluded)."""
    requirements = importlib.metadata.requires('pal-eval') or []
    return {_normalise(re.split(r'[ ;<>=!~\[(]', r, maxsplit=1)[0])
            for r in requirements if 'extra ==' not in r}


def _normalise(name: str) -> str:
    return re.sub(r'[-_.]+', '-', name).lower()


def _third_party_imports(repo_root) -> dict[str, str]:
    """Top-level module -> first file importing it, over pal_eval/ and heads/."""
    modules: dict[str, str] = {}
    for folder in ('pal_eval', 'heads'):
        for path in sorted((repo_root / folder).rglob('*.py')):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    top = name.split('.')[0]
                    if top not in sys.stdlib_module_names and top not in ('pal_eval', 'heads'):
                        modules.setdefault(top, str(path.relative_to(repo_root)))
    return modules


def test_every_imported_package_is_declared(repo_root):
    declared = _declared()
    providers = importlib.metadata.packages_distributions()
    missing = []
    for module, where in _third_party_imports(repo_root).items():
        distributions = {_normalise(d) for d in providers.get(module, [module])}
        if not distributions & declared:
            missing.append(f'{module} ({where}; provided by {sorted(distributions)})')
    assert not missing, 'imported but not in pyproject dependencies: ' + ', '.join(missing)


def test_tabulate_is_declared_for_to_markdown():
    assert 'tabulate' in _declared()  # pandas imports it lazily, ast cannot see it


def test_exactly_one_distribution_owns_cv2():
    owners = importlib.metadata.packages_distributions().get('cv2', [])
    assert len(set(owners)) == 1, (
        f'cv2 is installed by {sorted(set(owners))}: they overwrite each other\'s files; '
        'run `make install` (it keeps opencv-python only)')
    import cv2

    assert cv2.__version__.split('.')[:2] == importlib.metadata.version(owners[0]).split('.')[:2]


@pytest.mark.slow
def test_mim_import_prints_no_pkg_resources_warning():
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONWARNINGS'}
    proc = subprocess.run([sys.executable, '-c', 'import mim.commands'], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert 'pkg_resources' not in proc.stderr, proc.stderr

"""Shared fixtures."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_ANNOTATIONS = REPO_ROOT.parent / 'shared' / 'annotations'

# Tests run the CPU with few threads: 2 cores in CI, several test processes at once.
os.environ.setdefault('OMP_NUM_THREADS', '1')


@pytest.fixture(scope='session')
def shared_annotations() -> Path:
    """``../shared/annotations`` (real annotation files); skips when absent (a user's clone)."""
    if not SHARED_ANNOTATIONS.is_dir():
        pytest.skip('../shared/annotations is not available')
    return SHARED_ANNOTATIONS


@pytest.fixture(scope='session')
def repo_root() -> Path:
    return REPO_ROOT

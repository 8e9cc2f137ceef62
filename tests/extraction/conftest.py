"""Fixtures of the extraction tests: tiny videos written once per session."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the stand-in encoder module

from standin import make_videos  # noqa: E402

#: video id -> (frames, fps): a normal one, another frame rate, one shorter than a clip.
VIDEO_SPECS = {'alpha': (30, 10.0), 'beta': (21, 15.0), 'gamma': (3, 10.0)}


@pytest.fixture(scope='session')
def tiny_videos(tmp_path_factory) -> Path:
    """A folder with the three :data:`VIDEO_SPECS` videos."""
    return make_videos(tmp_path_factory.mktemp('videos'), VIDEO_SPECS)

"""Fixtures of the encoder tests: tiny videos (helpers in ``encoder_fixtures``)."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from encoder_fixtures import VIDEOS  # noqa: E402

from pal_eval.data.video_io import write_video  # noqa: E402


@pytest.fixture(scope='session')
def tiny_videos(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp('videos')
    rng = np.random.default_rng(0)
    for video_id, (frames, fps) in VIDEOS.items():
        write_video(folder / f'{video_id}.mp4',
                    rng.integers(0, 256, (frames, 40, 48, 3), dtype=np.uint8), fps=fps)
    return folder

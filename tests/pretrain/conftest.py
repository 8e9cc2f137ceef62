"""Fixtures of the pretraining tests (helpers live in ``pretrain_fixtures.py``)."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:  # make pretrain_fixtures importable in any import mode
    sys.path.insert(0, HERE)

from pretrain_fixtures import NUM_FRAMES, make_video_frames  # noqa: E402


@pytest.fixture(scope='session')
def tiny_videos(tmp_path_factory) -> Path:
    """Folder with 5 coded videos + ``list.txt`` (the synthetic ``unlabeled/`` layout)."""
    from pal_eval.data.video_io import write_video

    root = tmp_path_factory.mktemp('unlabeled')
    names = []
    for video_id in range(5):
        name = f'clip_{video_id}.mp4'
        write_video(root / name, make_video_frames(video_id, NUM_FRAMES), fps=8, crf=0)
        names.append(name)
    (root / 'list.txt').write_text('\n'.join(names) + '\n')
    return root

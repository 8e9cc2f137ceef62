"""Coded tiny videos for the pretraining tests: video id in red, frame index in green."""
from __future__ import annotations

import numpy as np

#: Frame index k is painted green = GREEN_STEP * k, so indices survive H.264 rounding.
GREEN_STEP = 8
NUM_FRAMES = 24
SIZE = 32


def red_of(video_id: int) -> int:
    return 20 + 40 * video_id


def make_video_frames(video_id: int, num_frames: int = NUM_FRAMES) -> np.ndarray:
    """[T, SIZE, SIZE, 3] uint8 flat frames: R = video id code, G = frame index code."""
    frames = np.zeros((num_frames, SIZE, SIZE, 3), dtype=np.uint8)
    frames[..., 0] = red_of(video_id)
    frames[..., 1] = (np.arange(num_frames) * GREEN_STEP)[:, None, None]
    frames[..., 2] = 128
    return frames

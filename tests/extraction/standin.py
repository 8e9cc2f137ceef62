"""A tiny stand-in encoder and tiny videos for the extraction tests (no pretrain import)."""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from pal_eval.data.video_io import write_video
from pal_eval.extraction.folder import ClipSettings
from pal_eval.extraction.sampling import SamplingPolicy


class TinyEncoder(torch.nn.Module):
    """Conv3d + ReLU: ``[N, 3, T, H, W] -> [N, 6, T', H', W']``, like a backbone's feature map.

    Args:
        sleep: Seconds to wait per forward pass (lets a test kill the run mid-way).
    """

    def __init__(self, sleep: float = 0.0, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.conv = torch.nn.Conv3d(3, 6, kernel_size=(2, 3, 3), stride=(1, 2, 2))
        self.sleep = sleep

    def forward(self, clips: torch.Tensor) -> torch.Tensor:
        if self.sleep:
            time.sleep(self.sleep)
        return torch.relu(self.conv(clips))


def tiny_settings(**policy) -> ClipSettings:
    """4-frame clips of 16x16 pixels, stride 4 unless overridden."""
    policy = {'frames_per_clip': 4, 'stride': 4, **policy}
    return ClipSettings(SamplingPolicy(**policy), input_size=(16, 16))


def make_videos(folder: Path, specs: dict[str, tuple[int, float]], seed: int = 0) -> Path:
    """Write ``{video_id: (num_frames, fps)}`` as random 16x16 mp4 files into ``folder``."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for video_id, (num_frames, fps) in specs.items():
        frames = rng.integers(0, 256, (num_frames, 16, 16, 3), dtype=np.uint8)
        write_video(folder / f'{video_id}.mp4', frames, fps=fps)
    return folder

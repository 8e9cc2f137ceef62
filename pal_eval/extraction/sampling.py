"""Where clips start and what time each feature stands for: pure functions, numpy only.

Conventions (every number below is in frames of the *sampling grid*):

* **Sampling grid.** With ``target_fps=None`` the grid is the video's own frames. With a
  target frame rate the video is resampled in time: grid frame ``k`` (time
  ``k / target_fps``) shows the last source frame whose start time is ``<=`` that time, i.e.
  source index ``floor(k * fps / target_fps)``. The grid has
  ``floor(num_frames * target_fps / fps)`` frames (at least 1). Videos with different frame
  rates therefore give features on the same time scale.
* **Clip.** ``frames_per_clip`` frames taken every ``frame_interval`` grid frames: it spans
  ``window = (frames_per_clip - 1) * frame_interval + 1`` grid frames.
* **Sliding clips.** Clip ``j`` starts at grid frame ``j * stride``. There are
  ``1 + max(0, ceil((M - window) / stride))`` clips for a grid of ``M`` frames, so every grid
  frame is seen by at least one clip.
* **Stride longer than the window** (``stride > window``: clips sparser than frames, as in
  ActivityNet's 16-frame stride with short clips). No clip can see every frame, so the grid
  is cut into ``ceil(M / stride)`` slots of ``stride`` frames, and clip ``j`` sits in the
  middle of slot ``j`` (``start = j * stride + (slot - window) // 2``, ``slot`` the frames of
  the slot inside the grid): each feature samples its own slot, no slot is left without a
  clip, and no clip starts past the last frame. (The plain rule above would, for such
  strides, skip the frames between clips at the end of each slot and add a clip starting
  after the video end whose centre time lies beyond the duration.)
* **Tail and very short videos.** A clip that runs past the last grid frame (the last clip
  when ``(M - window)`` is not a multiple of ``stride``, or the only clip of a video shorter
  than one clip) repeats the last frame to fill its missing frames.
* **Centre time.** A clip's receptive field is ``[start / f, min((start + window) / f, D)]``
  seconds (``f`` the grid rate, ``D`` the duration), i.e. the padded frames do not count; the
  feature's centre time is the middle of that interval.
* **ActivityNet convention** (``num_snippets=T``): the sliding features are then resampled to
  exactly ``T`` features whose centres are ``(j + 0.5) * D / T``: ``'linear'`` interpolates each
  channel linearly in time between clip centres (constant beyond the first/last centre);
  ``'mean'`` averages the clip features whose centres fall into each of the ``T`` equal bins
  (bins that catch no clip, when there are fewer clips than ``T``, fall back to ``'linear'``).

Frame times assume a constant frame rate (the stream's average rate): a variable-frame-rate
file is treated as constant-rate at its average rate.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from pal_eval.core.resample import RESAMPLE_METHODS

POLICIES = ('sliding', 'resample')


@dataclass(frozen=True)
class SamplingPolicy:
    """How clips are cut out of a video and how their features become a sequence.

    Args:
        frames_per_clip: Frames fed to the encoder per clip (``T`` of ``[N, 3, T, H, W]``).
        frame_interval: Grid frames between two sampled frames of a clip.
        stride: Grid frames between the starts of two consecutive clips.
        target_fps: Resample every video to this frame rate first (``None``: native rate).
        num_snippets: ``None`` for plain sliding clips (THUMOS convention); an integer to
            resample the sliding features to that many snippets (ActivityNet, usually 100).
        resample: ``'linear'`` or ``'mean'`` (see the module docstring).

    Examples:
        >>> policy = SamplingPolicy(frames_per_clip=4, frame_interval=2, stride=4)
        >>> policy.window
        7
        >>> policy.name
        'sliding'
    """

    frames_per_clip: int
    frame_interval: int = 1
    stride: int = 1
    target_fps: float | None = None
    num_snippets: int | None = None
    resample: str = 'linear'

    def __post_init__(self):
        for name in ('frames_per_clip', 'frame_interval', 'stride'):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f'{name} must be a positive integer, got {value!r}')
        if self.target_fps is not None and not self.target_fps > 0:
            raise ValueError(f'target_fps must be positive, got {self.target_fps!r}')
        if self.num_snippets is not None and self.num_snippets < 1:
            raise ValueError(f'num_snippets must be positive, got {self.num_snippets!r}')
        if self.resample not in RESAMPLE_METHODS:
            raise ValueError(f'resample must be one of {RESAMPLE_METHODS}, got {self.resample!r}')

    @property
    def window(self) -> int:
        """Grid frames spanned by one clip."""
        return (self.frames_per_clip - 1) * self.frame_interval + 1

    @property
    def skips_frames(self) -> bool:
        """Whether frames fall between clips (``stride > window``: see the module doc)."""
        return self.stride > self.window

    @property
    def name(self) -> str:
        """``'sliding'`` or ``'resample'`` (the ActivityNet convention)."""
        return 'sliding' if self.num_snippets is None else 'resample'

    def to_dict(self) -> dict:
        """Plain dict for ``meta.json``."""
        return {'policy': self.name, **asdict(self), 'window': self.window}


def grid_size(num_frames: int, fps: float, target_fps: float | None) -> int:
    """Number of frames of the sampling grid.

    Examples:
        >>> grid_size(100, 25.0, None), grid_size(100, 25.0, 10.0), grid_size(3, 30.0, 1.0)
        (100, 40, 1)
    """
    if num_frames < 1:
        raise ValueError(f'a video needs at least one frame, got {num_frames}')
    if target_fps is None:
        return int(num_frames)
    # The small epsilon keeps exact products (100 * 10 / 25 = 40) from flooring to 39.
    return max(1, int(math.floor(num_frames * target_fps / fps + 1e-9)))


def grid_source_indices(num_frames: int, fps: float, target_fps: float | None) -> np.ndarray:
    """Source frame index shown by each grid frame.

    Examples:
        >>> grid_source_indices(10, 30.0, 15.0).tolist()
        [0, 2, 4, 6, 8]
        >>> grid_source_indices(4, 10.0, 20.0).tolist()
        [0, 0, 1, 1, 2, 2, 3, 3]
    """
    size = grid_size(num_frames, fps, target_fps)
    if target_fps is None:
        return np.arange(size, dtype=np.int64)
    index = np.floor(np.arange(size) * (fps / target_fps) + 1e-9).astype(np.int64)
    return np.minimum(index, num_frames - 1)


def num_sliding_clips(grid_frames: int, window: int, stride: int) -> int:
    """Number of sliding clips covering ``grid_frames`` frames (at least one).

    Examples:
        >>> num_sliding_clips(16, 16, 4), num_sliding_clips(17, 16, 4), num_sliding_clips(3, 16, 4)
        (1, 2, 1)
    """
    return 1 + max(0, math.ceil((grid_frames - window) / stride))


def clip_starts(grid_frames: int, policy: SamplingPolicy) -> np.ndarray:
    """Grid frame at which each sliding clip starts (always ``< grid_frames``).

    Examples:
        >>> clip_starts(10, SamplingPolicy(frames_per_clip=4, stride=2)).tolist()
        [0, 2, 4, 6]
        >>> clip_starts(11, SamplingPolicy(frames_per_clip=2, stride=4)).tolist()  # slots
        [1, 5, 8]
    """
    if not policy.skips_frames:
        count = num_sliding_clips(grid_frames, policy.window, policy.stride)
        return np.arange(count, dtype=np.int64) * policy.stride
    slot_starts = np.arange(0, grid_frames, policy.stride, dtype=np.int64)
    slot_lengths = np.minimum(policy.stride, grid_frames - slot_starts)
    return slot_starts + np.maximum(0, (slot_lengths - policy.window) // 2)


def clip_frame_indices(num_frames: int, fps: float, policy: SamplingPolicy) -> np.ndarray:
    """Source frame indices of every clip, ``[num_clips, frames_per_clip]``.

    Frames past the end of the grid repeat its last frame (tail padding).

    Examples:
        >>> policy = SamplingPolicy(frames_per_clip=3, frame_interval=2, stride=4)
        >>> clip_frame_indices(10, 25.0, policy).tolist()
        [[0, 2, 4], [4, 6, 8], [8, 9, 9]]
    """
    grid = grid_source_indices(num_frames, fps, policy.target_fps)
    starts = clip_starts(len(grid), policy)
    offsets = np.arange(policy.frames_per_clip, dtype=np.int64) * policy.frame_interval
    grid_index = np.minimum(starts[:, None] + offsets[None, :], len(grid) - 1)
    return grid[grid_index]


def clip_center_times(num_frames: int, fps: float, policy: SamplingPolicy) -> np.ndarray:
    """Centre time (seconds) of each sliding clip's receptive field, padding excluded.

    Examples:
        >>> policy = SamplingPolicy(frames_per_clip=4, stride=4)
        >>> clip_center_times(10, 10.0, policy).round(6).tolist()  # [0,4), [4,8), [8,10)
        [0.2, 0.6, 0.9]
    """
    rate = fps if policy.target_fps is None else policy.target_fps
    duration = num_frames / fps
    starts = clip_starts(grid_size(num_frames, fps, policy.target_fps), policy) / rate
    ends = np.minimum(starts + policy.window / rate, duration)
    return (starts + ends) / 2.0

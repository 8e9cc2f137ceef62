"""Equal features per video: every encoder yields the target grid's features, centre for centre.

PAL's comparison (supplementary, Sec. 1) keeps each method's native input (clip length,
resolution) "but adjust[s] the sampling frame rate and stride to ensure that the number
of features extracted for each video is identical". Here the *target grid* is the one
PAL's own encoder yields for a data set: an extraction config's ``sampling`` section
(stride, fps, ActivityNet's ``num_snippets``) with PAL's clip (``target_frames_per_clip``
x ``target_frame_interval``, 4 x 1 in the paper). For another encoder, clip ``j``:

* is **centred on the target feature's centre time** ``c_j`` (the grid's own
  :func:`~pal_eval.extraction.sampling.clip_center_times`, tail clip included), so the
  stride between features is the target's and the feature count is the target's,
  whatever the encoder's clip length;
* takes the encoder's ``frames_per_clip`` frames spaced by its **sampling interval**:
  ``span='native'`` keeps the encoder's own frame interval (in grid frames: it sees
  motion at its training speed and a longer or shorter window than PAL's), ``span='match'``
  spreads its frames evenly over PAL's clip window (``window / frames_per_clip`` grid
  frames apart: the same receptive field, frames repeated when the encoder wants more
  frames than the window has);
* frame positions are rounded to the nearest grid frame and clamped to the video (first /
  last frame repeated), so a clip's centre is within half a grid frame of ``c_j``, and the
  feature is written with the time ``c_j`` itself.

The choice lands in ``meta.json`` (``sampling``: the target grid, the encoder's clip,
the span rule). :func:`plan_clips` / :func:`plan_centers` are the extractor's entry points
and fall back to plain sliding clips for an ordinary :class:`SamplingPolicy`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pal_eval.extraction.sampling import (
    SamplingPolicy,
    clip_center_times,
    clip_frame_indices,
    grid_source_indices,
)

SPANS = ('native', 'match')


@dataclass(frozen=True)
class AlignedSampling:
    """An encoder's clips centred on a target feature grid (see the module docstring).

    Args:
        target: The target grid: PAL's clip and the data set's stride / fps / snippets.
        frames_per_clip: The encoder's native clip length.
        frame_interval: The encoder's native frame interval (used by ``span='native'``).
        span: ``'native'`` or ``'match'``.

    Examples:
        >>> grid = SamplingPolicy(frames_per_clip=4, stride=4)
        >>> aligned = AlignedSampling(grid, frames_per_clip=8)
        >>> aligned.frame_indices(10, 10.0).tolist()  # centres 0.2, 0.6, 0.9 s
        [[0, 0, 0, 1, 2, 3, 4, 5], [2, 3, 4, 5, 6, 7, 8, 9], [5, 6, 7, 8, 9, 9, 9, 9]]
        >>> aligned.center_times(10, 10.0).round(6).tolist()
        [0.2, 0.6, 0.9]
    """

    target: SamplingPolicy
    frames_per_clip: int
    frame_interval: int = 1
    span: str = 'native'

    def __post_init__(self):
        if self.span not in SPANS:
            raise ValueError(f'span must be one of {SPANS}, got {self.span!r}')
        for name in ('frames_per_clip', 'frame_interval'):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f'{name} must be a positive integer, got {value!r}')

    # The SamplingPolicy interface the extractor and meta.json read.
    stride = property(lambda self: self.target.stride)
    target_fps = property(lambda self: self.target.target_fps)
    num_snippets = property(lambda self: self.target.num_snippets)
    resample = property(lambda self: self.target.resample)
    name = property(lambda self: self.target.name)

    @property
    def spacing(self) -> float:
        """Grid frames between two sampled frames of an encoder clip."""
        if self.span == 'native':
            return float(self.frame_interval)
        return self.target.window / self.frames_per_clip

    @property
    def window(self) -> float:
        """Grid frames spanned by one encoder clip."""
        return (self.frames_per_clip - 1) * self.spacing + 1

    def center_times(self, num_frames: int, fps: float) -> np.ndarray:
        """The target grid's centre times (seconds): the features' times."""
        return clip_center_times(num_frames, fps, self.target)

    def frame_indices(self, num_frames: int, fps: float) -> np.ndarray:
        """Source frame indices ``[num_target_features, frames_per_clip]``."""
        grid = grid_source_indices(num_frames, fps, self.target.target_fps)
        rate = fps if self.target.target_fps is None else self.target.target_fps
        # Grid frame k covers [k, k + 1) / rate, so time t is at position t * rate - 0.5.
        centres = self.center_times(num_frames, fps) * rate - 0.5
        offsets = (np.arange(self.frames_per_clip) - (self.frames_per_clip - 1) / 2) \
            * self.spacing
        positions = np.floor(centres[:, None] + offsets[None, :] + 0.5).astype(np.int64)
        return grid[np.clip(positions, 0, len(grid) - 1)]

    def to_dict(self) -> dict:
        """Plain dict for ``meta.json``: the target grid and this encoder's choice."""
        rate = 'native fps' if self.target_fps is None else f'{self.target_fps} fps'
        return {'policy': self.name, 'equal_features': True,
                'target': self.target.to_dict(), 'frames_per_clip': self.frames_per_clip,
                'frame_interval': self.frame_interval, 'span': self.span,
                'sampling_interval_frames': self.spacing, 'window': self.window,
                'stride': self.stride, 'target_fps': self.target_fps,
                'num_snippets': self.num_snippets, 'resample': self.resample,
                'rule': f'clip j centred on the target centre c_j, {self.frames_per_clip} '
                        f'frames {self.spacing:g} grid frames apart ({rate}), rounded to '
                        'the nearest frame (<= 0.5 frame from c_j)'}


def equal_feature_sampling(target: SamplingPolicy, frames_per_clip: int,
                           frame_interval: int = 1, span: str = 'native') -> AlignedSampling:
    """The sampling that gives an encoder the target grid's features.

    Args:
        target: The grid PAL's own encoder yields (its clip, the data set's stride / fps).
        frames_per_clip: The encoder's native clip length.
        frame_interval: The encoder's native frame interval.
        span: ``'native'`` (own interval) or ``'match'`` (frames spread over PAL's window).
    """
    return AlignedSampling(target, int(frames_per_clip), int(frame_interval), span)


def plan_clips(num_frames: int, fps: float, policy) -> np.ndarray:
    """Source frames of every clip, for a :class:`SamplingPolicy` or :class:`AlignedSampling`."""
    if isinstance(policy, AlignedSampling):
        return policy.frame_indices(num_frames, fps)
    return clip_frame_indices(num_frames, fps, policy)


def plan_centers(num_frames: int, fps: float, policy) -> np.ndarray:
    """Centre time of every clip, for either kind of policy."""
    if isinstance(policy, AlignedSampling):
        return policy.center_times(num_frames, fps)
    return clip_center_times(num_frames, fps, policy)

"""Pseudo-action compositing, the data side of PAL (functional core: numpy only).

PAL (Zhang et al., CVPR 2022) builds its pretext task by cutting a *pseudo-action
region* of ``L`` consecutive clips out of an unlabeled video and pasting it into two
other (background) videos of ``J`` clips each, at random temporal positions and with
an independent random temporal scale per composite. The per-clip action mask of each
composite is the exact target: clip ``j`` is action iff it holds pasted frames.

Everything here works on *frame indices*, so the data set decodes only the frames it
needs, and on frame arrays for the final paste. Terms used throughout:

* ``J`` clips per composite, ``F`` frames per clip, ``interval`` frame stride;
* ``L`` region length in source clips (``1 <= L <= J - 2``), spanning
  ``L * F * interval`` source frames;
* ``L'`` the region's length once rescaled in a composite (also ``1 <= L' <= J - 2``);
  its ``L' * F`` frames are spread evenly over the same source span, so ``L' > L``
  slows the action down and ``L' < L`` speeds it up;
* ``start`` first action clip, ``1 <= start`` and ``start + L' <= J - 1``: at least one
  background clip on each side.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ['RegionSpec', 'CompositePlan', 'sample_clip_frame_inds', 'sample_region',
           'plan_composite', 'paste_region', 'corresponding_clips']


@dataclass(frozen=True)
class RegionSpec:
    """A pseudo-action region in its source video.

    Attributes:
        start_frame: First source frame of the region.
        num_frames: Source frames the region spans (``num_clips * F * interval``).
        num_clips: ``L``, its length in clips at the source speed.
    """

    start_frame: int
    num_frames: int
    num_clips: int


@dataclass(frozen=True)
class CompositePlan:
    """Where every frame of one composite comes from.

    Attributes:
        background_frame_inds: ``[J * F]`` frame indices into the background video.
        region_frame_inds: ``[L' * F]`` frame indices into the source video.
        start_clip: First action clip in the composite.
        num_action_clips: ``L'``.
        mask: ``[J]`` bool, True on action clips.
    """

    background_frame_inds: np.ndarray
    region_frame_inds: np.ndarray
    start_clip: int
    num_action_clips: int
    mask: np.ndarray


def _validate_geometry(num_clips: int, frames_per_clip: int, frame_interval: int) -> None:
    if num_clips < 3:
        raise ValueError(f'clips_per_video must be >= 3 (one action and one background clip '
                         f'each side), got {num_clips}')
    if frames_per_clip < 1 or frame_interval < 1:
        raise ValueError('frames_per_clip and frame_interval must be >= 1')


def sample_clip_frame_inds(rng: np.random.Generator, total_frames: int, num_clips: int,
                           frames_per_clip: int, frame_interval: int = 1) -> np.ndarray:
    """Frame indices of ``num_clips`` consecutive clips at a random start of a video.

    Videos shorter than the span are looped (mmaction2's ``out_of_bound_opt='loop'``).

    Args:
        rng: Random generator.
        total_frames: Frames in the video.
        num_clips: Clips to sample back to back.
        frames_per_clip: ``F``.
        frame_interval: Stride between sampled frames.

    Returns:
        ``[num_clips * F]`` int64 indices.

    Examples:
        >>> sample_clip_frame_inds(np.random.default_rng(0), 100, 2, 4, 1).shape
        (8,)
    """
    span = num_clips * frames_per_clip * frame_interval
    start = int(rng.integers(0, max(total_frames - span, 0) + 1))
    return (start + np.arange(num_clips * frames_per_clip) * frame_interval) % total_frames


def sample_region(rng: np.random.Generator, total_frames: int, *, clips_per_video: int,
                  frames_per_clip: int, frame_interval: int = 1,
                  region_clips: tuple[int, int] | None = None) -> RegionSpec:
    """Choose the pseudo-action region ``L`` clips long at a random start of the source.

    Args:
        rng: Random generator.
        total_frames: Frames in the source video.
        clips_per_video: ``J``.
        frames_per_clip: ``F``.
        frame_interval: Frame stride.
        region_clips: Inclusive range of ``L``; default and upper bound ``(1, J - 2)``.

    Returns:
        The region (looped past the end for very short videos, like the clips).
    """
    _validate_geometry(clips_per_video, frames_per_clip, frame_interval)
    low, high = region_clips or (1, clips_per_video - 2)
    low, high = max(1, low), min(clips_per_video - 2, high)
    if low > high:
        raise ValueError(f'empty region length range {region_clips} for J={clips_per_video}')
    num_clips = int(rng.integers(low, high + 1))
    num_frames = num_clips * frames_per_clip * frame_interval
    start = int(rng.integers(0, max(total_frames - num_frames, 0) + 1))
    return RegionSpec(start_frame=start, num_frames=num_frames, num_clips=num_clips)


def plan_composite(rng: np.random.Generator, region: RegionSpec, source_frames: int,
                   background_frames: int, *, clips_per_video: int, frames_per_clip: int,
                   frame_interval: int = 1,
                   scale_range: tuple[float, float] = (0.5, 2.0)) -> CompositePlan:
    """Plan one composite: background clips, rescaled region, and where it goes.

    The temporal scale ``s`` is drawn log-uniformly in ``scale_range`` independently for
    each composite; the region then lasts ``L' = clip(round(L * s), 1, J - 2)`` clips,
    and its ``L' * F`` frames are spread evenly over the source span.

    Args:
        rng: Random generator.
        region: The pseudo-action region (shared by both composites of a sample).
        source_frames: Frames in the source video.
        background_frames: Frames in the background video.
        clips_per_video: ``J``.
        frames_per_clip: ``F``.
        frame_interval: Frame stride of the background clips.
        scale_range: ``(min, max)`` of the temporal scale; ``(1, 1)`` disables it.

    Returns:
        The plan.
    """
    J, F = clips_per_video, frames_per_clip
    _validate_geometry(J, F, frame_interval)
    low, high = scale_range
    scale = math.exp(rng.uniform(math.log(low), math.log(high))) if high > low else low
    num_action = int(np.clip(round(region.num_clips * scale), 1, J - 2))
    # Centre of each of the L'*F output frames, mapped onto the source span.
    positions = (np.arange(num_action * F) + 0.5) * region.num_frames / (num_action * F)
    region_inds = (region.start_frame + np.floor(positions).astype(np.int64)) % source_frames
    background_inds = sample_clip_frame_inds(rng, background_frames, J, F, frame_interval)
    start = int(rng.integers(1, J - num_action))  # 1 .. J-1-L' inclusive
    mask = np.zeros(J, dtype=bool)
    mask[start:start + num_action] = True
    return CompositePlan(background_frame_inds=background_inds, region_frame_inds=region_inds,
                         start_clip=start, num_action_clips=num_action, mask=mask)


def paste_region(background: np.ndarray, region: np.ndarray, plan: CompositePlan,
                 frames_per_clip: int) -> np.ndarray:
    """Replace the action clips of ``background`` with the region's frames.

    Args:
        background: ``[J * F, ...]`` frames decoded at ``plan.background_frame_inds``.
        region: ``[L' * F, ...]`` frames decoded at ``plan.region_frame_inds``.
        plan: The composite's plan.
        frames_per_clip: ``F``.

    Returns:
        A new ``[J * F, ...]`` array; the inputs are not modified.
    """
    first = plan.start_clip * frames_per_clip
    if len(region) != plan.num_action_clips * frames_per_clip:
        raise ValueError(f'region has {len(region)} frames, plan needs '
                         f'{plan.num_action_clips * frames_per_clip}')
    composite = np.array(background, copy=True)
    composite[first:first + len(region)] = region
    return composite


def corresponding_clips(start_1: int, length_1: int, start_2: int,
                        length_2: int) -> np.ndarray:
    """For each action clip of composite 1, the clip of composite 2 showing the same moment.

    Undoes both temporal scales: action clip ``r`` of composite 1 covers the region's
    fraction ``[r, r + 1) / L1``; its centre falls in clip ``floor((r + .5) / L1 * L2)``
    of composite 2's action.

    Returns:
        ``[L1]`` clip indices into composite 2.

    Examples:
        >>> corresponding_clips(1, 2, 2, 4).tolist()   # composite 2 is twice slower
        [3, 5]
    """
    relative = (np.arange(length_1) + 0.5) / length_1
    return start_2 + np.minimum(np.floor(relative * length_2).astype(np.int64), length_2 - 1)

"""Sampling policies against brute-force and hand-worked references."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from pal_eval.extraction.sampling import (
    SamplingPolicy,
    clip_center_times,
    clip_frame_indices,
    grid_source_indices,
)


def brute_force_starts(grid_frames: int, window: int, stride: int) -> list[int]:
    """Add clips every ``stride`` frames until one reaches the last frame; with a stride
    longer than the window, one clip in the middle of each ``stride``-frame slot."""
    if stride > window:
        starts = []
        for slot in range(0, grid_frames, stride):
            frames = list(range(slot, min(slot + stride, grid_frames)))
            spare = len(frames) - window
            starts.append(frames[0] + (spare // 2 if spare > 0 else 0))
        return starts
    starts, start = [], 0
    while True:
        starts.append(start)
        if start + window >= grid_frames:
            return starts
        start += stride


@pytest.mark.parametrize('frames, per_clip, interval, stride',
                         list(itertools.product([1, 3, 7, 16, 17, 40], [1, 2, 4, 8], [1, 2],
                                                [1, 3, 4, 9])))
def test_sliding_clips_cover_every_frame(frames, per_clip, interval, stride):
    policy = SamplingPolicy(frames_per_clip=per_clip, frame_interval=interval, stride=stride)
    plan = clip_frame_indices(frames, 25.0, policy)
    window = (per_clip - 1) * interval + 1
    starts = brute_force_starts(frames, window, stride)
    assert plan.shape == (len(starts), per_clip)
    for row, start in zip(plan, starts):
        expected = [min(start + k * interval, frames - 1) for k in range(per_clip)]
        assert row.tolist() == expected
    centers = clip_center_times(frames, 25.0, policy)
    assert np.all(centers <= frames / 25.0 + 1e-12) and np.all(np.diff(centers) > 0)
    if window < stride:
        # clips sparser than frames: one clip inside each stride-long slot, none after
        # the last frame
        assert all(slot <= start < min(slot + stride, frames)
                   for slot, start in zip(range(0, frames, stride), starts))
        assert len(starts) == -(-frames // stride)
        return
    # every frame is inside some clip's span
    covered = set()
    for start in starts:
        covered.update(range(start, min(start + window, frames)))
    assert covered == set(range(frames))


def test_centre_times_hand_worked():
    # 10 s at 25 fps, 16-frame clips every 8 frames: clip j spans [8j, 8j + 16) frames.
    policy = SamplingPolicy(frames_per_clip=16, stride=8)
    centers = clip_center_times(250, 25.0, policy)
    assert len(centers) == 1 + int(np.ceil((250 - 16) / 8))  # 31 clips
    assert centers[0] == pytest.approx(8 / 25)
    assert centers[1] == pytest.approx(16 / 25)
    # the last clip starts at frame 240 and is cut at 250 (padding excluded): centre 245
    assert centers[-1] == pytest.approx(245 / 25)


def test_very_short_video_gives_one_padded_clip():
    policy = SamplingPolicy(frames_per_clip=8, frame_interval=2, stride=4)
    plan = clip_frame_indices(3, 30.0, policy)
    assert plan.tolist() == [[0, 2, 2, 2, 2, 2, 2, 2]]  # the last frame repeated
    assert clip_center_times(3, 30.0, policy).tolist() == pytest.approx([1.5 / 30])


def brute_force_source(num_frames: int, fps: float, target_fps: float) -> list[int]:
    """For each grid time, the last source frame whose start time is not after it."""
    source_times = np.arange(num_frames) / fps
    count = max(1, int(np.floor(num_frames / fps * target_fps + 1e-9)))
    return [int(np.nonzero(source_times <= k / target_fps + 1e-12)[0][-1])
            for k in range(count)]


@pytest.mark.parametrize('num_frames, fps', [(60, 25.0), (72, 30.0), (50, 29.97), (7, 12.0),
                                             (13, 6.0)])
def test_resampled_grid_matches_time_search(num_frames, fps):
    assert grid_source_indices(num_frames, fps, 10.0).tolist() == brute_force_source(
        num_frames, fps, 10.0)


def test_different_frame_rates_share_one_time_grid():
    # Two 2.4 s videos at 25 and 30 fps resampled to 10 fps: same clips, same centres.
    policy = SamplingPolicy(frames_per_clip=4, stride=2, target_fps=10.0)
    centers_25 = clip_center_times(60, 25.0, policy)
    centers_30 = clip_center_times(72, 30.0, policy)
    np.testing.assert_allclose(centers_25, centers_30)
    np.testing.assert_allclose(np.diff(centers_25)[:-1], 0.2)  # stride 2 at 10 fps


def test_invalid_policy_is_refused():
    with pytest.raises(ValueError, match='stride'):
        SamplingPolicy(frames_per_clip=4, stride=0)
    with pytest.raises(ValueError, match='resample'):
        SamplingPolicy(frames_per_clip=4, resample='cubic')


def test_stride_longer_than_window_hand_worked():
    # 11 frames at 10 fps, 2-frame clips every 4 frames: slots [0,4) [4,8) [8,11), one
    # clip centred in each; the old rule started a 4th clip at frame 12, past the end,
    # with its centre (1.15 s) after the video's end (1.1 s).
    policy = SamplingPolicy(frames_per_clip=2, stride=4)
    assert policy.skips_frames and not SamplingPolicy(frames_per_clip=4, stride=4).skips_frames
    assert clip_frame_indices(11, 10.0, policy).tolist() == [[1, 2], [5, 6], [8, 9]]
    assert clip_center_times(11, 10.0, policy).round(6).tolist() == [0.2, 0.6, 0.9]

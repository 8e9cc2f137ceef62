"""Compositing invariants, checked over many random draws against direct definitions."""
from __future__ import annotations

import numpy as np
import pytest

from pal_eval.pretrain.compositing import (
    corresponding_clips,
    paste_region,
    plan_composite,
    sample_clip_frame_inds,
    sample_region,
)

GEOMETRIES = [(8, 4, 1), (4, 2, 2), (12, 1, 1), (3, 4, 1)]


@pytest.mark.parametrize('J,F,interval', GEOMETRIES)
def test_plan_invariants_hold_for_every_draw(J, F, interval):
    rng = np.random.default_rng(0)
    for _ in range(300):
        src_frames, bg_frames = int(rng.integers(5, 200)), int(rng.integers(5, 200))
        region = sample_region(rng, src_frames, clips_per_video=J, frames_per_clip=F,
                               frame_interval=interval)
        assert 1 <= region.num_clips <= J - 2
        assert region.num_frames == region.num_clips * F * interval
        plan = plan_composite(rng, region, src_frames, bg_frames, clips_per_video=J,
                              frames_per_clip=F, frame_interval=interval)
        mask = plan.mask
        assert mask.shape == (J,) and mask.dtype == bool
        action = np.flatnonzero(mask)
        # One contiguous block, >= 1 background clip on each side.
        assert len(action) == plan.num_action_clips >= 1
        assert np.array_equal(action, np.arange(action[0], action[-1] + 1))
        assert action[0] >= 1 and action[-1] <= J - 2
        assert plan.start_clip == action[0]
        assert len(plan.region_frame_inds) == plan.num_action_clips * F
        assert len(plan.background_frame_inds) == J * F
        # Region frames stay inside the source span (modulo looping of short videos).
        offsets = (plan.region_frame_inds - region.start_frame) % src_frames
        assert offsets.max() < region.num_frames
        if region.start_frame + region.num_frames <= src_frames:   # no looping
            assert np.all(np.diff(plan.region_frame_inds) >= 0)     # time runs forward
        assert plan.background_frame_inds.max() < bg_frames
        assert plan.region_frame_inds.max() < src_frames


def test_scale_changes_length_and_speed():
    rng = np.random.default_rng(1)
    for _ in range(100):
        region = sample_region(rng, 500, clips_per_video=12, frames_per_clip=4,
                               region_clips=(2, 4))
        slow = plan_composite(rng, region, 500, 500, clips_per_video=12, frames_per_clip=4,
                              scale_range=(2.0, 2.0))
        same = plan_composite(rng, region, 500, 500, clips_per_video=12, frames_per_clip=4,
                              scale_range=(1.0, 1.0))
        fast = plan_composite(rng, region, 500, 500, clips_per_video=12, frames_per_clip=4,
                              scale_range=(0.5, 0.5))
        assert slow.num_action_clips == min(2 * region.num_clips, 10)
        assert same.num_action_clips == region.num_clips
        assert fast.num_action_clips == max(1, round(region.num_clips / 2))
        # Unscaled: the source frames, consecutively; slowed: frames repeat; fast: skipped.
        expected = region.start_frame + np.arange(region.num_clips * 4)
        assert np.array_equal(same.region_frame_inds, expected)
        assert np.min(np.diff(slow.region_frame_inds)) == 0
        assert np.max(np.diff(fast.region_frame_inds)) >= 2
        # Both cover the same source span: the speed factor is L / L'.
        for plan in (slow, same, fast):
            inds = plan.region_frame_inds
            assert inds[0] - region.start_frame < region.num_frames / len(inds) + 1
            assert region.start_frame + region.num_frames - 1 - inds[-1] \
                < region.num_frames / len(inds) + 1


def test_scale_is_drawn_independently_per_composite():
    rng = np.random.default_rng(2)
    lengths = set()
    region = sample_region(rng, 500, clips_per_video=12, frames_per_clip=4, region_clips=(4, 4))
    for _ in range(50):
        pair = [plan_composite(rng, region, 500, 500, clips_per_video=12, frames_per_clip=4)
                for _ in range(2)]
        lengths.add(tuple(p.num_action_clips for p in pair))
    assert any(a != b for a, b in lengths)
    assert len({a for a, _ in lengths}) > 2


def test_paste_region_keeps_background_outside_the_mask():
    rng = np.random.default_rng(3)
    J, F = 6, 3
    region = sample_region(rng, 100, clips_per_video=J, frames_per_clip=F)
    plan = plan_composite(rng, region, 100, 100, clips_per_video=J, frames_per_clip=F)
    background = np.arange(J * F)[:, None] + 1000           # tagged background frames
    pasted = np.arange(plan.num_action_clips * F)[:, None] + 5000
    composite = paste_region(background, pasted, plan, F)
    frame_is_action = np.repeat(plan.mask, F)
    assert np.array_equal(composite[~frame_is_action], background[~frame_is_action])
    assert np.array_equal(composite[frame_is_action], pasted)
    assert background[0, 0] == 1000  # input untouched


def test_corresponding_clips_brute_force():
    for start_1, len_1, start_2, len_2 in [(1, 3, 2, 3), (1, 2, 1, 5), (2, 6, 1, 2), (1, 1, 4, 1)]:
        result = corresponding_clips(start_1, len_1, start_2, len_2)
        for r in range(len_1):
            centre = (r + 0.5) / len_1           # fraction of the region at clip r's centre
            # brute force: the clip of composite 2 whose span contains that fraction
            hits = [c for c in range(len_2) if c / len_2 <= centre < (c + 1) / len_2]
            assert result[r] == start_2 + hits[0]


def test_short_videos_loop_and_geometry_is_validated():
    inds = sample_clip_frame_inds(np.random.default_rng(0), 5, 2, 4, 1)
    assert np.array_equal(inds, np.arange(8) % 5)
    with pytest.raises(ValueError, match='clips_per_video'):
        sample_region(np.random.default_rng(0), 100, clips_per_video=2, frames_per_clip=4)

"""The synthetic pretraining set: shared scenes, one motion per clip performed by a new
object every segment, and the TAC-only motion labels file."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from pal_eval.data import synthetic


@pytest.fixture(scope='module')
def plan():
    return synthetic.plan_benchmark('small', 0)


def test_clips_share_a_small_pool_of_scenes(plan):
    scenes = synthetic.unlabeled_scene_pool(0, plan.preset)
    assert len({s.seed for s in scenes}) == synthetic.UNLABELED_SCENES
    by_scene = {s.seed: s for s in scenes}
    for clip in plan.clips:
        scene = by_scene[clip.seed]                          # every clip uses a pool scene
        assert clip.pan_velocity == scene.pan_velocity and clip.distractors == scene.distractors
    # Two clips of one scene at one frame rate show the same background, frame for frame.
    a, b = next((a, b) for a, b in itertools.combinations(plan.clips, 2)
                if a.seed == b.seed and a.fps == b.fps)
    frames = min(a.num_frames, b.num_frames)
    bg_a = synthetic.render_video(a, with_foreground=False).frames[:frames]
    bg_b = synthetic.render_video(b, with_foreground=False).frames[:frames]
    assert np.array_equal(bg_a, bg_b)


def test_one_motion_per_clip_with_a_new_object_every_segment(plan):
    low, high = synthetic.UNLABELED_SEGMENT_SECONDS
    changed_look = 0
    for clip in plan.clips:
        segments = clip.instances
        assert segments[0].frame_start == 0 and segments[-1].frame_end == clip.num_frames
        for first, second in zip(segments, segments[1:]):
            assert first.frame_end == second.frame_start       # back to back, no gap
        for segment in segments[:-1]:                           # the last may be longer
            assert low * clip.fps - 1 <= segment.frame_end - segment.frame_start \
                <= high * clip.fps + 1
        motion = {(s.label, s.speed, s.period, s.amplitude) for s in segments}
        assert len(motion) == 1                                  # same class and parameters
        looks = {(s.colour, s.shape, s.size, s.center) for s in segments}
        changed_look += len(looks) == len(segments) > 1
    assert changed_look >= 0.9 * sum(len(c.instances) > 1 for c in plan.clips)


def test_labels_file_is_mmaction2_video_dataset_format(tmp_path):
    from mmaction.datasets import VideoDataset

    out = tmp_path / 'synth'
    synthetic.generate('tiny', 0, out, progress=False)
    names = (out / 'unlabeled' / 'list.txt').read_text().split()
    rows = [line.split(' ') for line in
            (out / 'unlabeled' / 'labels.txt').read_text().splitlines()]
    assert [r[0] for r in rows] == names
    expected = [c.instances[0].label for c in synthetic.plan_benchmark('tiny', 0).clips]
    assert [int(r[1]) for r in rows] == expected
    dataset = VideoDataset(str(out / 'unlabeled' / 'labels.txt'), pipeline=[],
                           data_prefix=dict(video=str(out / 'unlabeled')))
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    assert [info['label'] for info in infos] == expected
    assert infos[0]['filename'].endswith(names[0])

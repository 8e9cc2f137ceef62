"""Tests of the synthetic benchmark: determinism, annotations vs rendered pixels, CLI."""
from __future__ import annotations

import collections
import json

import numpy as np
import pytest

from pal_eval.cli import main
from pal_eval.data import synthetic
from pal_eval.data.annotations import load_actions, load_queries
from pal_eval.data.video_io import probe_video, read_video

SEED = 3


@pytest.fixture(scope='module')
def tiny_twice(tmp_path_factory):
    """The tiny preset generated twice with the same seed (the CLI, in-process)."""
    root = tmp_path_factory.mktemp('synth')
    for name in ('a', 'b'):
        code = main(['synth', '--preset', 'tiny', '--seed', str(SEED), '--out',
                     str(root / name), '--quiet'])
        assert code == 0
    return root / 'a', root / 'b'


def _files(folder):
    return sorted(p.relative_to(folder) for p in folder.rglob('*') if p.is_file())


def test_layout_is_the_documented_one(tiny_twice):
    folder = tiny_twice[0]
    for name in ('meta.json', 'annotations/activitynet.json', 'annotations/thumos14.json',
                 'annotations/grounding_train.json', 'annotations/grounding_val.json',
                 'annotations/grounding_test.json', 'annotations/charades_sta_train.txt',
                 'annotations/charades_sta_val.txt', 'annotations/charades_sta_test.txt',
                 'unlabeled/list.txt'):
        assert (folder / name).is_file(), name
    database = json.loads((folder / 'annotations/activitynet.json').read_text())['database']
    assert sorted(p.stem for p in (folder / 'videos').glob('*.mp4')) == sorted(database)
    listed = (folder / 'unlabeled/list.txt').read_text().split()
    assert sorted(listed) == sorted(p.name for p in (folder / 'unlabeled').glob('*.mp4'))
    meta = json.loads((folder / 'meta.json').read_text())
    assert meta['counts']['videos'] == len(database)
    assert meta['counts']['unlabeled_clips'] == len(listed)
    assert meta['seed'] == SEED and len(meta['classes']) >= 8
    assert not list(folder.parent.glob('.*partial*'))  # staging folder renamed away


def test_same_seed_gives_identical_files_and_frames(tiny_twice):
    first, second = tiny_twice
    assert _files(first) == _files(second)
    for name in _files(first / 'annotations'):
        assert (first / 'annotations' / name).read_bytes() == \
            (second / 'annotations' / name).read_bytes()
    for name in sorted((first / 'videos').iterdir())[:3]:
        frames_a, fps_a = read_video(name)
        frames_b, fps_b = read_video(second / 'videos' / name.name)
        assert fps_a == fps_b
        np.testing.assert_array_equal(frames_a, frames_b)


def test_another_seed_gives_another_benchmark():
    a = synthetic.plan_benchmark('tiny', 0)
    b = synthetic.plan_benchmark('tiny', 1)
    assert [s.instances for _, s in a.videos] != [s.instances for _, s in b.videos]


def test_every_class_appears_in_training_and_validation(tiny_twice):
    database = json.loads((tiny_twice[0] / 'annotations/activitynet.json').read_text())[
        'database']
    for subset in ('training', 'validation'):
        labels = {a['label'] for v in database.values() if v['subset'] == subset
                  for a in v['annotations']}
        assert labels == set(synthetic.CLASS_NAMES), subset


def test_annotations_agree_with_rendered_masks_and_pixels(tiny_twice):
    """The object is present exactly in annotated frames, and really drawn in the mp4."""
    folder = tiny_twice[0]
    ann = load_actions(folder / 'annotations/activitynet.json')
    plan = synthetic.plan_benchmark('tiny', SEED)
    checked_videos = 0
    for _, spec in plan.videos[:6]:
        rendered = synthetic.render_video(spec, with_masks=True)
        decoded, fps = read_video(folder / 'videos' / f'{spec.video_id}.mp4')
        assert len(decoded) == spec.num_frames and fps == spec.fps
        rows = ann.instances[ann.instances['video_id'] == spec.video_id]
        centres = (np.arange(spec.num_frames) + 0.5) / fps
        annotated = np.zeros(spec.num_frames, bool)
        for start, end in zip(rows['t_start'], rows['t_end']):
            annotated |= (centres > start) & (centres < end)
        foreground = rendered.masks.any(axis=(0, 2, 3)) if len(rows) else \
            np.zeros(spec.num_frames, bool)
        np.testing.assert_array_equal(foreground, annotated)
        assert ann.videos[spec.video_id].duration == pytest.approx(spec.num_frames / fps)
        # Decoded pixels: far from the background-only render under the masks, close to
        # it in frames without any instance.
        background = synthetic.render_video(spec, with_foreground=False).frames
        change = np.abs(decoded.astype(int) - background.astype(int)).sum(-1)
        if annotated.any():
            union = rendered.masks.any(0)
            assert change[union].mean() > 60
        if (~annotated).any():
            assert change[~annotated].mean() < 20
        checked_videos += 1
    assert checked_videos == 6


def test_durations_overlaps_and_adjacency_in_the_small_plan():
    plan = synthetic.plan_benchmark('small', 0)
    fractions, overlapping, adjacent, empty = [], 0, 0, 0
    for _, spec in plan.videos:
        spans = sorted((i.frame_start, i.frame_end) for i in spec.instances)
        empty += not spans
        fractions += [(e - s) / spec.num_frames for s, e in spans]
        for (_, end_first), (start_next, _) in zip(spans, spans[1:]):
            overlapping += start_next < end_first
            adjacent += start_next == end_first
    assert min(fractions) >= 0.015 and max(fractions) <= 0.61
    assert min(fractions) < 0.05 and max(fractions) > 0.4  # short and long actions
    assert overlapping > 0 and adjacent > 0 and empty > 0
    durations = [spec.duration for _, spec in plan.videos]
    assert 10 <= min(durations) and max(durations) <= 40.2
    assert len({spec.fps for _, spec in plan.videos}) > 1


def test_appearance_is_drawn_independently_of_the_class():
    plan = synthetic.plan_benchmark('small', 0)
    colours_by_class = collections.defaultdict(set)
    for _, spec in plan.videos:
        for inst in spec.instances:
            colours_by_class[inst.label].add((inst.colour, inst.shape))
    # every class is drawn in many colour/shape combinations
    assert min(len(v) for v in colours_by_class.values()) >= 10


@pytest.mark.parametrize('name, check', [
    ('move_right', lambda x, y, a, s: np.all(np.diff(x) > 0)),
    ('move_left', lambda x, y, a, s: np.all(np.diff(x) < 0)),
    ('move_up', lambda x, y, a, s: np.all(np.diff(y) < 0)),
    ('move_down', lambda x, y, a, s: np.all(np.diff(y) > 0)),
    ('rotate_clockwise', lambda x, y, a, s: np.all(np.diff(a) > 0) and np.ptp(x) == 0),
    ('rotate_counterclockwise', lambda x, y, a, s: np.all(np.diff(a) < 0)),
    ('shake_horizontal', lambda x, y, a, s: np.ptp(x) > 15 and np.ptp(y) == 0),
    ('bounce_vertical', lambda x, y, a, s: np.ptp(y) > 15 and np.ptp(x) == 0),
    ('pulse', lambda x, y, a, s: np.ptp(s) > 0.5 and np.ptp(x) == 0),
    ('orbit', lambda x, y, a, s: np.allclose(np.hypot(x - 50, y - 40), 12)),
])
def test_each_class_is_its_motion(name, check):
    inst = synthetic.InstanceSpec(
        label=synthetic.CLASS_NAMES.index(name), frame_start=0, frame_end=20, colour='red',
        shape='disk', size='small', radius=7.0, center=(50.0, 40.0), angle=0.0, speed=20.0,
        period=1.0, amplitude=12.0 if name != 'pulse' else 0.4, phase=0.0)
    seconds = np.arange(20) / 10
    assert check(*synthetic.object_pose(inst, seconds))


def test_disk_mask_area_and_torus_wrap():
    inside, marker = synthetic.shape_masks('disk', np.array([20.0, 0.0]), np.array([16.0, 0.0]),
                                           np.zeros(2), np.full(2, 6.0), width=48, height=32)
    assert abs(inside[0].sum() - np.pi * 36) < 12
    assert inside[0, 16, 20] and not inside[0, 16, 30]
    # centred on the corner: split over the four corners, same area
    assert inside[1].sum() == inside[0].sum()
    assert inside[1, 0, 0] and inside[1, -1, -1]
    assert marker[0].sum() > 0 and not (marker & ~inside).any()


def test_grounding_sentences_name_colour_shape_and_motion(tiny_twice):
    folder = tiny_twice[0]
    ann = load_actions(folder / 'annotations/activitynet.json')
    for subset, split in synthetic.GROUNDING_SPLITS.items():
        queries = load_queries(folder / f'annotations/grounding_{split}.json',
                               subset=split).queries
        sta = load_queries(folder / f'annotations/charades_sta_{split}.txt').queries
        assert len(queries) == len(sta)
        np.testing.assert_allclose(queries['t_start'], sta['t_start'], atol=5e-4)
        expected = ann.select_subset(subset).instances
        assert len(queries) == len(expected)
        phrases = {name: phrase for name, (_, phrase) in synthetic.CLASSES.items()}
        for (_, q), label in zip(queries.iterrows(), expected['label']):
            assert phrases[label] in q['sentence']
            assert any(c in q['sentence'] for c in synthetic.COLOURS)
            assert any(s in q['sentence'] for s in synthetic.SHAPES)


def test_thumos_file_maps_training_and_validation(tiny_twice):
    folder = tiny_twice[0]
    anet = json.loads((folder / 'annotations/activitynet.json').read_text())['database']
    thumos = json.loads((folder / 'annotations/thumos14.json').read_text())['database']
    mapping = {'training': 'validation', 'validation': 'test'}
    assert {k: v['subset'] for k, v in thumos.items()} == {
        k: mapping[v['subset']] for k, v in anet.items() if v['subset'] in mapping}
    assert all(v['fps'] > 0 for v in thumos.values())


def test_unlabeled_clips_decode(tiny_twice):
    folder = tiny_twice[0] / 'unlabeled'
    first = folder / (folder / 'list.txt').read_text().split()[0]
    info = probe_video(first)
    low, high = synthetic.PRESETS['tiny'].clip_duration_range
    assert low - 0.2 <= info['duration'] <= high + 0.2
    assert (info['width'], info['height']) == (128, 96)


def test_stats_prints_histogram_lengths_and_totals(tiny_twice, capsys):
    folder = tiny_twice[0]
    assert main(['synth', '--stats', str(folder)]) == 0
    text = capsys.readouterr().out
    database = json.loads((folder / 'annotations/activitynet.json').read_text())['database']
    total = sum(len(v['annotations']) for v in database.values())
    assert f'instances: {total}' in text
    assert f'videos: {len(database)}' in text
    for name in synthetic.CLASS_NAMES:
        assert name in text
    assert 'p50' in text


@pytest.mark.slow
def test_force_replaces_an_earlier_benchmark(tiny_twice, tmp_path):
    import shutil

    target = tmp_path / 'old'
    shutil.copytree(tiny_twice[1], target)
    (target / 'videos' / 'stale.mp4').write_bytes(b'old')
    assert main(['synth', '--preset', 'tiny', '--seed', str(SEED), '--out', str(target),
                 '--quiet']) == 2  # not without --force
    assert (target / 'videos' / 'stale.mp4').exists()
    assert main(['synth', '--preset', 'tiny', '--seed', str(SEED), '--out', str(target),
                 '--force', '--quiet']) == 0
    assert not (target / 'videos' / 'stale.mp4').exists()
    assert _files(target) == _files(tiny_twice[0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ['old']  # no staging left over


def test_cli_refuses_to_replace_a_users_folder(tmp_path, capsys):
    user_folder = tmp_path / 'mine'
    user_folder.mkdir()
    (user_folder / 'notes.txt').write_text('precious')
    assert main(['synth', '--preset', 'tiny', '--out', str(user_folder), '--quiet']) == 2
    assert 'not empty' in capsys.readouterr().err
    assert main(['synth', '--preset', 'tiny', '--out', str(user_folder), '--force',
                 '--quiet']) == 2
    assert (user_folder / 'notes.txt').read_text() == 'precious'
    assert main(['synth', '--stats', str(user_folder)]) == 2


def test_bad_seed_is_one_error_line(tmp_path, capsys):
    assert main(['synth', '--seed', '-1', '--out', str(tmp_path / 'x'), '--quiet']) == 2
    assert 'non-negative' in capsys.readouterr().err
    assert not (tmp_path / 'x').exists()


def test_stats_on_a_broken_annotation_file_is_one_error_line(tmp_path, capsys):
    (tmp_path / 'annotations').mkdir()
    (tmp_path / 'annotations/activitynet.json').write_text('{"database": {"v": {}}}')
    assert main(['synth', '--stats', str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith('error: ') and '\n' not in err and "'v'" in err

"""``pal-eval visualize predictions`` on foreign prediction files, and its bad input."""
from __future__ import annotations

import json

import pytest

from pal_eval.cli import main

# A hand-written ActivityNet-format submission as another tool writes it: bare YouTube ids
# (the ground truth says v_<id>), labels, segments running past the video.
FOREIGN = {'version': 'VERSION 1.3', 'results': {
    'abc': [{'label': 'Long jump', 'score': 0.91, 'segment': [3.0, 9.5]},
            {'label': 'High jump', 'score': 0.42, 'segment': [2.0, 12.5]},
            {'label': 'Long jump', 'score': 0.18, 'segment': [20.0, 31.0]}],
    'def': [{'label': 'High jump', 'score': 0.66, 'segment': [0.0, 4.0]}]}}
GT = {'database': {
    'v_abc': {'subset': 'validation', 'duration': 30.0, 'annotations': [
        {'segment': [3.2, 9.0], 'label': 'Long jump'},
        {'segment': [21.0, 29.0], 'label': 'Long jump'}]},
    'v_def': {'subset': 'validation', 'duration': 5.0, 'annotations': [
        {'segment': [0.5, 4.5], 'label': 'High jump'}]}}}


def _run(capsys, *argv):
    code = main(['visualize', 'predictions', *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(tmp_path):
    pred, gt = tmp_path / 'foreign.json', tmp_path / 'gt.json'
    pred.write_text(json.dumps(FOREIGN))
    gt.write_text(json.dumps(GT))
    return pred, gt


def test_foreign_file_against_ground_truth(files, tmp_path, capsys):
    pred, gt = files
    code, out, err = _run(capsys, pred, '--gt', gt, '--subset', 'validation', '--out',
                          tmp_path / 'timelines.png')
    assert code == 0, err
    assert (tmp_path / 'timelines.png').read_bytes()[:4] == b'\x89PNG'
    # the busiest video first, ids matched through the v_ prefix
    assert out.splitlines()[0] == '  v_abc: 3 predictions, 2 ground-truth instances'


def test_titles_name_video_ground_truth_subset_and_source(files):
    from pal_eval.visualization.predictions import timeline_panels

    pred, gt = files
    [first, second] = timeline_panels(pred, gt_path=gt, subset='validation')
    for text in ('v_abc', '30.0 s', 'gt.json', "subset 'validation'", 'foreign.json',
                 '3 detections'):
        assert text in first.title
    assert first.ground_truth == [(3.2, 9.0, 'Long jump'), (21.0, 29.0, 'Long jump')]
    assert second.name == 'v_def' and second.duration == 5.0


def test_one_png_per_video_without_ground_truth(files, tmp_path, capsys):
    pred, _ = files
    code, _, err = _run(capsys, pred, '--out', tmp_path / 'figs', '--num-videos', '5')
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / 'figs').iterdir()) == ['abc.png', 'def.png']
    code, _, err = _run(capsys, pred, '--out', tmp_path / 'figs')
    assert code == 2 and 'already exists' in err  # never overwritten silently


def test_official_sample_submission(shared_annotations, tmp_path, capsys):
    sample = shared_annotations / 'activitynet_ActivityNet' / 'sample_detection_prediction.json'
    code, out, err = _run(capsys, sample, '--out', tmp_path / 'sample.png', '--num-videos', '2')
    assert code == 0, err
    assert (tmp_path / 'sample.png').stat().st_size > 10_000


def test_mmaction2_results_against_their_ground_truth(shared_annotations, tmp_path, capsys):
    folder = shared_annotations / 'open-mmlab_mmaction2'
    code, out, err = _run(capsys, folder / 'eval_localization_result.json', '--gt',
                          folder / 'eval_localization_gt.json', '--out', tmp_path / 'mm')
    assert code == 0, err
    assert len(list((tmp_path / 'mm').glob('*.png'))) == 2


@pytest.mark.parametrize('which, needle', [
    ('gt-as-pred', 'ground-truth file'),
    ('missing', 'file not found'),
    ('bad-segment', "field 'results[0].segment'"),
    ('unknown-video', "--video 'zzz'"),
])
def test_bad_input_is_one_error_line(files, tmp_path, capsys, which, needle):
    pred, gt = files
    argv = [pred, '--gt', gt, '--out', tmp_path / 'x.png']
    if which == 'gt-as-pred':
        argv[0] = gt
    elif which == 'missing':
        argv[0] = tmp_path / 'absent.json'
    elif which == 'bad-segment':
        broken = tmp_path / 'broken.json'
        broken.write_text(json.dumps({'results': {'v_abc': [
            {'label': 'Long jump', 'score': 0.5, 'segment': [5.0, 'x']}]}}))
        argv[0] = broken
    else:
        argv += ['--video', 'zzz']
    code, _, err = _run(capsys, *argv)
    assert code == 2 and err.count('\n') == 1 and err.startswith('error: '), err
    assert needle in err and 'Traceback' not in err
    assert not (tmp_path / 'x.png').exists()

"""``evaluate --blocked-videos``: blocked videos leave the ground truth and the predictions."""
from __future__ import annotations

import json

import pytest

from pal_eval.cli import main


@pytest.fixture()
def files(tmp_path):
    """Two validation videos of one class; predictions find only 'a' (exactly)."""
    gt = tmp_path / 'gt.json'
    gt.write_text(json.dumps({'database': {
        'a': {'subset': 'validation', 'duration': 10.0,
              'annotations': [{'segment': [1.0, 4.0], 'label': 'x'}]},
        'b': {'subset': 'validation', 'duration': 10.0,
              'annotations': [{'segment': [2.0, 5.0], 'label': 'x'}]}}}))
    pred = tmp_path / 'pred.json'
    pred.write_text(json.dumps({'results': {
        'a': [{'segment': [1.0, 4.0], 'label': 'x', 'score': 0.9}],
        'b': [{'segment': [7.0, 9.0], 'label': 'x', 'score': 0.8}]}}))
    return gt, pred


def _map(tmp_path, gt, pred, *extra) -> float:
    out = tmp_path / f'm{len(list(tmp_path.glob("m*.json")))}.json'
    assert main(['evaluate', 'detection', '--gt', str(gt), '--pred', str(pred),
                 '--tiou-thresholds', '0.5', '--out', str(out), *extra]) == 0
    return json.loads(out.read_text())['average_mAP']


@pytest.mark.parametrize('name, text', [('blocked.json', '["v_b"]'),     # OpenTAD's form
                                        ('missing_files.txt', 'b\n\n'),
                                        ('video_info.csv', 'video,subset\nb,validation\n')])
def test_blocked_videos_leave_ground_truth_and_predictions(tmp_path, files, name, text,
                                                           capsys):
    gt, pred = files
    # hand-worked: one hit at rank 1 (a), one false positive at rank 2 (on b), two ground
    # truths -> precision 1 at recall 0.5: AP 0.5; without b: one hit, one gt: AP 1.
    assert _map(tmp_path, gt, pred) == pytest.approx(0.5, abs=1e-12)
    blocked = tmp_path / name
    blocked.write_text(text)
    assert _map(tmp_path, gt, pred, '--blocked-videos', str(blocked)) == \
        pytest.approx(1.0, abs=1e-12)
    assert 'left out 1 blocked videos (1 predictions on them)' in capsys.readouterr().err


def test_an_empty_or_malformed_list_is_one_error(tmp_path, files, capsys):
    gt, pred = files
    for name, text, needle in [('e.txt', '\n', 'empty'), ('e.json', '[]', 'empty'),
                               ('num.json', '[1, 2]', 'expected a JSON list of video ids')]:
        path = tmp_path / name
        path.write_text(text)
        code = main(['evaluate', 'detection', '--gt', str(gt), '--pred', str(pred),
                     '--blocked-videos', str(path)])
        err = capsys.readouterr().err
        assert code == 2 and needle in err and str(path) in err and err.count('\n') == 1

"""Bootstrap intervals: resampling by hand, the evaluators on resampled data, coverage."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pal_eval.cli import main
from pal_eval.evaluation import bootstrap
from pal_eval.evaluation.detection import evaluate_detection
from pal_eval.evaluation.grounding import evaluate_grounding
from pal_eval.evaluation.proposal import evaluate_proposals


def test_resampled_rows_by_hand():
    rows, slot = bootstrap.resampled_rows(np.array([1, 0, 1, -1, 0]), np.array([0, 0, 1]))
    assert rows.tolist() == [1, 4, 1, 4, 0, 2] and slot.tolist() == [0, 0, 1, 1, 2, 2]
    rows, slot = bootstrap.resampled_rows(np.array([-1, -1]), np.array([0]))
    assert rows.tolist() == [] and slot.tolist() == []


def test_percentile_interval_and_draws_are_seeded():
    assert bootstrap.percentile_interval(np.arange(1001.0)) == pytest.approx((25.0, 975.0))
    first = bootstrap.resample_indices(7, 4, seed=1)
    np.testing.assert_array_equal(first, bootstrap.resample_indices(7, 4, seed=1))
    assert not np.array_equal(first, bootstrap.resample_indices(7, 4, seed=2))


def _detection_data():
    gt = pd.DataFrame({'video_id': ['a', 'a', 'b', 'c'], 't_start': [0.0, 5.0, 1.0, 2.0],
                       't_end': [4.0, 9.0, 3.0, 8.0], 'label': ['x', 'y', 'x', 'y']})
    pred = pd.DataFrame({'video_id': ['a', 'b', 'c', 'c', 'z'],
                         't_start': [0.0, 1.5, 2.0, 0.0, 0.0], 't_end': [4.0, 3.0, 7.0, 1.0, 1.0],
                         'label': ['x', 'x', 'y', 'y', 'x'], 'score': [0.9, 0.8, 0.7, 0.95, 0.5]})
    return gt, pred


def test_detection_draw_equals_the_evaluator_on_the_resampled_set():
    gt, pred = _detection_data()
    metric, count = bootstrap.detection_metric(gt, pred, [0.5, 0.7], videos=['a', 'b', 'c'])
    assert count == 3
    full = evaluate_detection(gt, pred, [0.5, 0.7])
    assert metric(np.arange(3))['average_mAP'] == full.average_mAP
    # draw [c, c, a]: video c twice (as two videos), a once, b not at all; the prediction
    # on 'z' (no ground truth) stays a false positive in every draw
    by_hand_gt = pd.concat([gt[gt.video_id == 'c'].assign(video_id='c1'),
                            gt[gt.video_id == 'c'].assign(video_id='c2'),
                            gt[gt.video_id == 'a']])
    by_hand_pred = pd.concat([pred[pred.video_id == 'c'].assign(video_id='c1'),
                              pred[pred.video_id == 'c'].assign(video_id='c2'),
                              pred[pred.video_id == 'a'], pred[pred.video_id == 'z']])
    expected = evaluate_detection(by_hand_gt, by_hand_pred, [0.5, 0.7])
    drawn = metric(np.array([2, 2, 0]))
    assert drawn['average_mAP'] == pytest.approx(expected.average_mAP, abs=1e-12)
    assert drawn['mAP@0.5'] == pytest.approx(expected.mAP[0], abs=1e-12)


def test_proposal_draw_equals_the_evaluator_on_the_resampled_set():
    gt, pred = _detection_data()
    metric, _ = bootstrap.proposal_metric(gt, pred, max_avg_proposals=2, ar_at=[1, 2])
    by_hand = evaluate_proposals(
        pd.concat([gt[gt.video_id == 'b'].assign(video_id='b1'),
                   gt[gt.video_id == 'b'].assign(video_id='b2')]),
        pd.concat([pred[pred.video_id == 'b'].assign(video_id='b1'),
                   pred[pred.video_id == 'b'].assign(video_id='b2'),
                   pred[pred.video_id == 'z']]), 2, ar_at=[1, 2])
    assert metric(np.array([1, 1, 1])[:2])['AUC'] == pytest.approx(by_hand.auc, abs=1e-12)


def test_grounding_per_query_outcomes_equal_the_evaluator():
    rng = np.random.default_rng(0)
    queries = pd.DataFrame({'query_id': [f'q{i}' for i in range(12)],
                            't_start': rng.uniform(0, 5, 12), 't_end': rng.uniform(6, 10, 12)})
    rows = [(f'q{i}', *sorted(rng.uniform(0, 10, 2)), float(rng.random()))
            for i in range(12) for _ in range(4)]
    pred = pd.DataFrame(rows, columns=['query_id', 't_start', 't_end', 'score'])
    metric, count = bootstrap.grounding_metric(queries, pred)
    draw = rng.integers(0, count, count)
    picked = queries.iloc[draw].assign(query_id=[f'd{k}' for k in range(count)])
    renamed = pd.concat([pred[pred.query_id == queries.query_id[i]].assign(query_id=f'd{k}')
                         for k, i in enumerate(draw)])
    expected = evaluate_grounding(picked, renamed).to_dict()
    for name, value in metric(draw).items():
        assert value == pytest.approx(expected[name], abs=1e-12), name


def test_percentile_intervals_cover_a_known_mean():
    """95 % intervals of a mean of 0/1 outcomes contain the true rate ~95 % of the time."""
    covered = 0
    for trial in range(200):
        outcomes = np.random.default_rng(trial).random(150) < 0.3
        low, high = bootstrap.bootstrap(lambda d, o=outcomes: {'rate': o[d].mean()}, 150,
                                        resamples=400, seed=trial)['rate']
        covered += low <= 0.3 <= high
    assert 0.88 <= covered / 200 <= 0.99, covered


def test_evaluate_ci_prints_and_writes_intervals(tmp_path, capsys):
    gt = tmp_path / 'gt.json'
    gt.write_text(json.dumps({'version': 'VERSION 1.3', 'database': {
        f'v{i}': {'subset': 'validation', 'duration': 10.0,
                  'annotations': [{'segment': [1.0 + i % 3, 5.0], 'label': 'x'}]}
        for i in range(10)}}))
    pred = tmp_path / 'pred.json'
    pred.write_text(json.dumps({'results': {
        f'v{i}': [{'segment': [1.0, 5.0 - 0.3 * i], 'score': 0.9, 'label': 'x'}]
        for i in range(10)}}))
    out = tmp_path / 'm.json'
    assert main(['evaluate', 'detection', '--gt', str(gt), '--pred', str(pred), '--ci', '50',
                 '--out', str(out)]) == 0
    printed = capsys.readouterr().out
    assert '95% bootstrap intervals (50 resamples of the 10 videos)' in printed
    ci = json.loads(out.read_text())['ci']
    assert ci['resamples'] == 50 and ci['unit'] == 'video' and ci['units'] == 10
    low, high = ci['intervals']['average_mAP']
    value = json.loads(out.read_text())['average_mAP']
    assert 0.0 <= low <= value <= high <= 1.0 and low < high

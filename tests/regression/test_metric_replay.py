"""Replay committed predictions through ``pal-eval evaluate``: the numbers must not move.

The fixtures (``fixtures/``) are written by ``make_fixtures.py`` from a fixed-seed case;
their expected numbers (``fixtures/expected.json``) come from the naive, independent
evaluators of ``regression_brute_force.py``. Any change to the metrics that moves a
number by more than 1e-9 fails here. (When written, the brute-force numbers were also
checked against mmaction2's ``ActivityNetLocalization`` and
``average_recall_at_avg_proposals``, restricted to the same subset: equal to 1e-16.)
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / 'fixtures'
sys.path.insert(0, str(HERE))

import make_fixtures  # noqa: E402
from regression_brute_force import (  # noqa: E402
    detection_metrics,
    grounding_metrics,
    proposal_metrics,
    voc_ap,
)

TOL = 1e-9


def _load(name: str):
    return json.loads((FIXTURES / name).read_text())


@pytest.fixture(scope='module')
def expected() -> dict:
    return _load('expected.json')


# ---- the reference itself ---------------------------------------------------------------

def test_voc_ap_hand_worked():
    # hits: TP, FP, TP with 2 positives: precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1;
    # made monotone from the right: 1 at recall 1/2, 2/3 at recall 1 -> 0.5 + 1/3.
    assert voc_ap([1, 0, 1], 2) == pytest.approx(0.5 + 1 / 3, abs=1e-15)
    assert voc_ap([0, 0], 3) == 0.0
    assert voc_ap([], 0) == 0.0


def test_brute_force_detection_hand_worked():
    gt = {'database': {
        'a': {'subset': 'validation', 'annotations': [
            {'segment': [0.0, 10.0], 'label': 'X'}, {'segment': [20.0, 30.0], 'label': 'X'}]},
        'b': {'subset': 'training', 'annotations': [{'segment': [0.0, 5.0], 'label': 'Y'}]}}}
    pred = {'results': {
        'a': [{'label': 'X', 'score': 0.9, 'segment': [0.0, 5.0]},     # tIoU 0.5 exactly
              {'label': 'X', 'score': 0.8, 'segment': [0.0, 10.0]},    # tIoU 1 (same GT)
              {'label': 'X', 'score': 0.7, 'segment': [20.0, 29.0]}],  # tIoU 0.9
        'b': [{'label': 'X', 'score': 0.95, 'segment': [0.0, 5.0]}]}}  # not in subset: FP
    # @0.5 ranked b, a.9, a.8, a.7: FP, TP, FP (its GT is used), TP -> precision 0, 1/2,
    # 1/3, 1/2 at recall 0, 1/2, 1/2, 1; monotone from the right: 1/2 and 1/2 -> AP 0.5.
    # @0.95: FP, FP (tIoU 0.5), TP (tIoU 1), FP (0.9) -> precision 1/3 at recall 1/2.
    out = detection_metrics(gt, pred, 'validation', [0.5, 0.95])
    assert list(out['ap_per_class']) == ['X']  # Y is only annotated outside the subset
    assert out['ap_per_class']['X'] == pytest.approx([0.5, 1 / 6], abs=1e-15)
    assert out['average_mAP'] == pytest.approx((0.5 + 1 / 6) / 2, abs=1e-15)


def test_brute_force_grounding_hand_worked():
    gt = {'queries': [{'query_id': 'q', 'video': 'v', 'duration': 20.0,
                       'segment': [4.0, 12.0], 'sentence': 's'}]}
    pred = {'results': {'q': [
        {'segment': [4.0, 8.0], 'score': 0.9},    # IoU 0.5: not > 0.5
        {'segment': [4.0, 9.0], 'score': 0.8},    # suppressed: IoU with the first 0.8 > 0.5
        {'segment': [5.0, 12.0], 'score': 0.7}]}}  # IoU 7/8, kept (IoU 3/8 with the first)
    out = grounding_metrics(gt, pred, recalls=(1, 5), ious=(0.3, 0.5))
    assert out == {'R@1,IoU=0.3': 1.0, 'R@1,IoU=0.5': 0.0, 'R@5,IoU=0.3': 1.0,
                   'R@5,IoU=0.5': 1.0, 'mIoU': 0.5}


def test_fixtures_are_reproducible_and_numbers_are_the_reference(expected):
    # The committed inputs are what make_fixtures.py generates, and the committed numbers
    # are what the brute force computes on them: neither was edited by hand afterwards.
    import numpy as np

    rng = np.random.default_rng(make_fixtures.SEED)
    gt = make_fixtures.build_ground_truth(rng)
    detections = make_fixtures.build_detections(rng, gt)
    proposals = make_fixtures.build_proposals(rng, gt)
    grounding_gt, grounding_pred = make_fixtures.build_grounding(rng)
    roundtrip = lambda obj: json.loads(json.dumps(obj))  # noqa: E731
    assert roundtrip(gt) == _load('anet_gt.json')
    assert roundtrip(detections) == _load('detection_pred.json')
    assert roundtrip(proposals) == _load('proposal_pred.json')
    assert roundtrip(grounding_gt) == _load('grounding_gt.json')
    assert roundtrip(grounding_pred) == _load('grounding_pred.json')
    # Same code on the same inputs: the committed numbers must come back bit for bit.
    assert roundtrip(detection_metrics(gt, detections, 'validation',
                                       make_fixtures.ANET_THRESHOLDS)) \
        == expected['detection_anet']
    assert roundtrip(detection_metrics(gt, detections, 'validation',
                                       make_fixtures.THUMOS_THRESHOLDS)) \
        == expected['detection_thumos_thresholds']
    assert roundtrip(proposal_metrics(gt, proposals, 'validation',
                                      make_fixtures.ANET_THRESHOLDS)) == expected['proposal']
    assert roundtrip(grounding_metrics(grounding_gt, grounding_pred)) == expected['grounding']


# ---- replay through pal-eval evaluate ------------------------------------------------------

def _evaluate(tmp_path: Path, argv: list[str]) -> dict:
    pytest.importorskip('pal_eval.cli.evaluate', reason='pal-eval evaluate not available yet')
    from pal_eval.cli import main

    out = tmp_path / 'metrics.json'
    assert main(['evaluate', *argv, '--out', str(out)]) == 0
    return json.loads(out.read_text())


def _assert_close(ours: dict, reference: dict, keys) -> None:
    for key in keys:
        assert ours[key] == pytest.approx(reference[key], abs=TOL, rel=0), key


def test_replay_detection_activitynet_thresholds(tmp_path, expected):
    ours = _evaluate(tmp_path, ['detection', '--gt', str(FIXTURES / 'anet_gt.json'),
                                '--pred', str(FIXTURES / 'detection_pred.json'),
                                '--subset', 'validation'])
    reference = expected['detection_anet']
    _assert_close(ours, reference, ['tiou_thresholds', 'mAP', 'average_mAP'])
    assert set(ours['ap_per_class']) == set(reference['ap_per_class'])
    for label, values in reference['ap_per_class'].items():
        assert ours['ap_per_class'][label] == pytest.approx(values, abs=TOL, rel=0), label


def test_replay_detection_thumos_thresholds(tmp_path, expected):
    ours = _evaluate(tmp_path, ['detection', '--gt', str(FIXTURES / 'anet_gt.json'),
                                '--pred', str(FIXTURES / 'detection_pred.json'),
                                '--subset', 'validation',
                                '--tiou-thresholds', '0.3,0.4,0.5,0.6,0.7'])
    _assert_close(ours, expected['detection_thumos_thresholds'],
                  ['tiou_thresholds', 'mAP', 'average_mAP'])


def test_replay_proposals(tmp_path, expected):
    ours = _evaluate(tmp_path, ['proposal', '--gt', str(FIXTURES / 'anet_gt.json'),
                                '--pred', str(FIXTURES / 'proposal_pred.json'),
                                '--subset', 'validation', '--max-avg-proposals', '100'])
    _assert_close(ours, expected['proposal'],
                  ['AR@1', 'AR@5', 'AR@10', 'AR@50', 'AR@100', 'AUC'])


def test_replay_grounding(tmp_path, expected):
    ours = _evaluate(tmp_path, ['grounding', '--gt', str(FIXTURES / 'grounding_gt.json'),
                                '--pred', str(FIXTURES / 'grounding_pred.json'),
                                '--recalls', '1,5', '--ious', '0.3,0.5,0.7',
                                '--nms-thresh', '0.5'])
    _assert_close(ours, expected['grounding'], list(expected['grounding']))

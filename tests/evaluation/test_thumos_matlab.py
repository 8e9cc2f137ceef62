"""THUMOS14 MATLAB protocol: hand-worked differences from ANet-style, and a literal port."""
from __future__ import annotations

import metric_reference as reference
import numpy as np
import pandas as pd
import pytest

from pal_eval.evaluation.detection import evaluate_detection
from pal_eval.evaluation.thumos_matlab import evaluate_thumos14_matlab

COLUMNS = ['video_id', 't_start', 't_end', 'label']


def frame(rows, score=False):
    return pd.DataFrame(rows, columns=COLUMNS + (['score'] if score else []))


def test_hand_worked_differences_from_anet():
    gt = frame([('a', 0, 10, 'x'), ('a', 20, 30, 'x')])
    amb = frame([('a', 40, 50, 'Ambiguous')])
    pred = frame([('a', 0, 10, 'x', 0.9),    # TP
                  ('a', 41, 45, 'x', 0.8),   # overlaps Ambiguous: dropped (ANet: FP)
                  ('a', 60, 70, 'x', 0.7),   # FP
                  ('a', 20, 30, 'x', 0.6)], score=True)  # TP
    matlab = evaluate_thumos14_matlab(gt, pred, amb, tiou_thresholds=[0.5])
    # retained: TP FP TP -> precision at TPs 1 and 2/3 -> (1 + 2/3) / 2
    assert matlab.mAP == [pytest.approx((1 + 2 / 3) / 2, abs=1e-15)]
    # ANet: TP FP FP TP, interpolated -> .5 * 1 + .5 * .5 = .75
    assert evaluate_detection(gt, pred, [0.5]).mAP == [0.75]


def test_overlap_equal_to_threshold_is_not_a_match():
    gt = frame([('a', 0, 2, 'x')])
    pred = frame([('a', 1, 2, 'x', 1.0)], score=True)  # overlap exactly 0.5
    assert evaluate_thumos14_matlab(gt, pred, tiou_thresholds=[0.5]).mAP == [0.0]
    assert evaluate_detection(gt, pred, [0.5]).mAP == [1.0]


def test_ground_truth_driven_matching():
    # gt1 (first in file) takes its best detection d2 even though d1 scores higher;
    # d1 then has nothing left (gt2 prefers d1? no: gt2 overlaps only d3).
    gt = frame([('a', 0, 10, 'x'), ('a', 30, 40, 'x')])
    pred = frame([('a', 0, 7, 'x', 0.9), ('a', 0, 9, 'x', 0.8), ('a', 30, 40, 'x', 0.7)],
                 score=True)
    got = evaluate_thumos14_matlab(gt, pred, tiou_thresholds=[0.5]).mAP[0]
    want = reference.thumos_matlab_ap(list(gt.itertuples(index=False)), [],
                                      list(pred.itertuples(index=False)), 'x', 0.5)
    assert got == want == pytest.approx((1 / 2 + 2 / 3) / 2)  # FP, TP, TP


@pytest.mark.parametrize('seed', range(6))
def test_matches_literal_matlab_port(seed):
    rng = np.random.default_rng(seed)
    classes = ['x', 'y', 'z']
    gt, amb, pred = [], [], []
    for v in range(5):
        for _ in range(int(rng.integers(1, 5))):
            s, e = sorted(rng.integers(0, 10, 2))
            gt.append((f'v{v}', float(s), float(e + 1), classes[rng.integers(3)]))
        if rng.random() < 0.5:
            s, e = sorted(rng.integers(0, 10, 2))
            amb.append((f'v{v}', float(s), float(e + 1), 'Ambiguous'))
    for v in range(6):
        for _ in range(int(rng.integers(0, 14))):
            s, e = sorted(rng.integers(0, 10, 2))
            pred.append((f'v{v}', float(s), float(e + 1), classes[rng.integers(3)],
                         float(rng.integers(0, 4))))
    thresholds = [0.1, 0.3, 0.5, 0.7, 1 / 3]
    got = evaluate_thumos14_matlab(frame(gt), frame(pred, score=True), frame(amb),
                                   tiou_thresholds=thresholds)
    for label, aps in got.ap_per_class.items():
        for t, thr in enumerate(thresholds):
            want = reference.thumos_matlab_ap(gt, amb, pred, label, thr)
            assert abs(aps[t] - want) < 1e-12, (label, thr)


@pytest.mark.parametrize('seed', range(3))
def test_reversed_detections_are_flipped_like_matlab(seed):
    # MATLAB sorts each interval before overlapping: [7, 2] is scored as [2, 7].
    rng = np.random.default_rng(50 + seed)
    gt = [(f'v{v}', float(s), float(s + 1 + rng.integers(0, 4)), 'x')
          for v in range(3) for s in rng.integers(0, 8, 3)]
    amb = [('v0', 8.0, 9.0, 'Ambiguous')]
    pred = [(f'v{v}', float(a), float(b), 'x', float(rng.integers(0, 4)))
            for v in range(3) for a, b in rng.integers(0, 10, (8, 2))]   # many reversed
    assert any(b < a for _, a, b, *_ in pred)
    for thr in (0.1, 0.5):
        got = evaluate_thumos14_matlab(frame(gt), frame(pred, score=True), frame(amb),
                                       tiou_thresholds=[thr]).mAP[0]
        assert abs(got - reference.thumos_matlab_ap(gt, amb, pred, 'x', thr)) < 1e-12


def test_real_thumos14_ground_truth_with_ambiguous(shared_annotations):
    """The published THUMOS14 test CSV (Ambiguous rows kept), 30 videos, seeded detections."""
    from pal_eval.data.annotations import load_actions

    annotations = load_actions(
        shared_annotations / 'frostinassiky_gtad' / 'thumos14_test_groundtruth.csv', 'test')
    videos = sorted(annotations.instances['video_id'].unique())[:30]
    gt = annotations.instances[annotations.instances['video_id'].isin(videos)]
    amb = annotations.ambiguous[annotations.ambiguous['video_id'].isin(videos)]
    assert len(amb) > 0  # the case this protocol exists for
    rng = np.random.default_rng(0)
    labels = sorted(gt['label'].unique())
    pred = []
    for row in gt.itertuples(index=False):
        for _ in range(3):  # detections around every instance, some on Ambiguous ones
            s, e = sorted(np.round(np.array([row.t_start, row.t_end])
                                   + rng.normal(0, 1.0, 2), 1))
            label = row.label if rng.random() < 0.8 else labels[rng.integers(len(labels))]
            pred.append((row.video_id, float(s), float(e), label, float(rng.integers(0, 20))))
    for row in amb.itertuples(index=False):
        pred.append((row.video_id, row.t_start, row.t_end, labels[0], 5.0))
    got = evaluate_thumos14_matlab(gt, frame(pred, score=True), amb, tiou_thresholds=[0.5])
    gt_rows, amb_rows = list(gt.itertuples(index=False)), list(amb.itertuples(index=False))
    for label, aps in got.ap_per_class.items():
        want = reference.thumos_matlab_ap(gt_rows, amb_rows, pred, label, 0.5)
        assert abs(aps[0] - want) < 1e-12, label
    # and the ANet-style protocol on the same data against its own brute force
    anet = evaluate_detection(gt, frame(pred, score=True), [0.5])
    _, want = reference.detection_ap(gt_rows, pred, [0.5])
    assert abs(anet.mAP[0] - float(np.mean(want[0]))) < 1e-12

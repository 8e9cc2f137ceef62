"""Detection mAP: hand-worked cases, brute force on random cases, mmaction2's public case."""
from __future__ import annotations

import json

import metric_reference as reference
import numpy as np
import pandas as pd
import pytest

from pal_eval.errors import PalEvalError
from pal_eval.evaluation.detection import (
    ANET_TIOU_THRESHOLDS,
    UnknownLabelError,
    evaluate_detection,
    interpolated_average_precision,
)


def frames(gt_rows, pred_rows):
    gt = pd.DataFrame(gt_rows, columns=['video_id', 't_start', 't_end', 'label'])
    pred = pd.DataFrame(pred_rows, columns=['video_id', 't_start', 't_end', 'label', 'score'])
    return gt, pred


GT = [('a', 0, 10, 'jump'), ('a', 20, 30, 'jump'), ('b', 0, 5, 'run')]
PRED = [('a', 0, 9, 'jump', 0.9),    # tIoU 0.9 with gt 1
        ('a', 0, 10, 'jump', 0.8),   # gt 1 taken at 0.5 -> FP; TP at 0.95
        ('c', 0, 1, 'jump', 0.7),    # video without ground truth -> FP
        ('a', 20, 30, 'jump', 0.6)]  # tIoU 1 with gt 2


def test_hand_worked_two_thresholds():
    result = evaluate_detection(*frames(GT, PRED), tiou_thresholds=[0.5, 0.95])
    # 0.5: TP FP FP TP, npos 2 -> interpolated precision 1 up to recall .5, .5 up to 1
    #      -> AP .5*1 + .5*.5 = .75 ; 'run' has no prediction -> 0 ; mAP .375
    # 0.95: FP TP FP TP -> .5*.5 + .5*.5 = .5 ; mAP .25
    assert result.ap_per_class == {'jump': [0.75, 0.5], 'run': [0.0, 0.0]}
    assert result.mAP == [0.375, 0.25]
    assert result.average_mAP == 0.3125


def test_score_ties_keep_input_order():
    gt, _ = frames([('a', 0, 10, 'x')], [])
    _, first_tp = frames([], [('a', 0, 10, 'x', 0.5), ('a', 50, 60, 'x', 0.5)])
    _, first_fp = frames([], [('a', 50, 60, 'x', 0.5), ('a', 0, 10, 'x', 0.5)])
    assert evaluate_detection(gt, first_tp, [0.5]).mAP == [1.0]
    assert evaluate_detection(gt, first_fp, [0.5]).mAP == [0.5]


def test_tiou_equal_to_threshold_is_a_match():
    gt, pred = frames([('a', 0, 2, 'x')], [('a', 1, 2, 'x', 1.0)])  # tIoU exactly 0.5
    assert evaluate_detection(gt, pred, [0.5, 0.55]).mAP == [1.0, 0.0]


def test_takes_highest_tiou_unmatched_ground_truth():
    # pred 1 overlaps gt A (0.9) and gt B (0.6): takes A; pred 2 then can only take B
    gt, pred = frames([('a', 0, 10, 'x'), ('a', 4, 14, 'x')],
                      [('a', 0, 9, 'x', 0.9), ('a', 1, 10, 'x', 0.8)])
    want = reference.detection_ap(list(gt.itertuples(index=False)),
                                  list(pred.itertuples(index=False)), [0.5])[1]
    assert evaluate_detection(gt, pred, [0.5]).mAP == [np.mean(want[0])]


def test_unknown_labels_are_ignored_and_counted_or_strict_error():
    gt, pred = frames(GT, PRED + [('a', 0, 10, 'fly', 0.99), ('b', 0, 5, 'fly', 0.98)])
    result = evaluate_detection(gt, pred, [0.5, 0.95])
    assert result.num_ignored == 2 and result.ignored_labels == {'fly': 2}
    assert result.mAP == [0.375, 0.25]
    with pytest.raises(UnknownLabelError, match='fly'):
        evaluate_detection(gt, pred, [0.5], strict=True)


def test_empty_ground_truth_is_an_error_not_zero():
    gt, pred = frames([], PRED)
    with pytest.raises(PalEvalError, match='no ground-truth'):
        evaluate_detection(gt, pred)


def test_no_predictions_gives_zero():
    gt, pred = frames(GT, [])
    assert evaluate_detection(gt, pred, [0.5]).mAP == [0.0]


def test_interpolated_ap_matches_voc_loop():
    # 3 thresholds x 4 classes of random ranked TP/FP flags vs the official VOC loop
    rng = np.random.default_rng(0)
    counts = rng.integers(0, 30, size=4)
    pred_class = np.repeat(np.arange(4), counts)
    bounds = np.searchsorted(pred_class, np.arange(5))
    tp = rng.random((3, pred_class.size)) < 0.4
    npos = np.array([float(max(1, tp[:, pred_class == c].sum(axis=1).max()
                               + rng.integers(0, 3))) for c in range(4)])
    got = interpolated_average_precision(tp, pred_class, bounds, npos)
    for t in range(3):
        for c in range(4):
            flags = tp[t, bounds[c]:bounds[c + 1]]
            tps, fps = np.cumsum(flags).astype(float), np.cumsum(~flags).astype(float)
            want = reference.voc_ap(tps / (tps + fps), tps / npos[c]) if flags.size else 0.0
            assert reference.isclose(got[t, c], want), (t, c)


def random_case(rng, num_videos, num_classes, gt_per_video, preds_per_video, grid):
    """Segments on a coarse grid: many exact ties in tIoU, scores, and tIoU == threshold."""
    gt, pred = [], []
    classes = [f'c{i}' for i in range(num_classes)]
    for v in range(num_videos):
        for _ in range(int(rng.integers(1, gt_per_video + 1))):
            s, e = sorted(rng.integers(0, grid, 2))
            gt.append((f'v{v}', float(s), float(e + 1), classes[rng.integers(num_classes)]))
    for v in range(num_videos + 2):  # two videos without ground truth
        for _ in range(int(rng.integers(0, preds_per_video + 1))):
            s, e = sorted(rng.integers(0, grid, 2))
            pred.append((f'v{v}', float(s), float(e + 1), classes[rng.integers(num_classes)],
                         float(rng.integers(0, 5)) / 4))
    return gt, pred


@pytest.mark.parametrize('seed', range(8))
def test_matches_brute_force_on_random_cases(seed):
    rng = np.random.default_rng(seed)
    gt, pred = random_case(rng, num_videos=6, num_classes=3, gt_per_video=4,
                           preds_per_video=12, grid=8)
    thresholds = list(ANET_TIOU_THRESHOLDS) + [0.25, 1 / 3, 0.2]
    classes, want = reference.detection_ap(gt, pred, thresholds)
    got = evaluate_detection(*frames(gt, pred), tiou_thresholds=thresholds)
    assert list(got.ap_per_class) == classes
    for c, label in enumerate(classes):
        for t in range(len(thresholds)):
            assert reference.isclose(got.ap_per_class[label][t], want[t][c]), (label, t)
    assert reference.isclose(got.average_mAP, float(np.mean(want)))


def degenerate_case(rng):
    """Zero-length ground truths and predictions, and reversed predictions whose lengths
    often cancel a ground truth's (official tIoU 0/0 = NaN, which matches)."""
    gt, pred = [], []
    for v in range(4):
        for _ in range(3):
            s = float(rng.integers(0, 6))
            gt.append((f'v{v}', s, s + float(rng.integers(0, 3)), 'x'))
    for v in range(5):
        for _ in range(8):
            s = float(rng.integers(0, 6))
            pred.append((f'v{v}', s, s + float(rng.integers(-2, 3)), 'x',
                         float(rng.integers(0, 4)) / 4))
    return gt, pred


@pytest.mark.parametrize('seed', range(6))
def test_degenerate_segments_are_scored_like_eval_detection(seed):
    gt, pred = degenerate_case(np.random.default_rng(seed))
    assert any(e < s for _, s, e, *_ in pred) and any(e == s for _, s, e, _ in gt)
    thresholds = [0.1, 0.5, 0.95]
    _, want = reference.detection_ap(gt, pred, thresholds)
    got = evaluate_detection(*frames(gt, pred), tiou_thresholds=thresholds)
    for t in range(len(thresholds)):
        assert reference.isclose(got.mAP[t], want[t][0]), (t, got.mAP, want)


def test_hand_worked_nan_match_of_a_reversed_prediction():
    # GT [0, 2] (length 2); prediction [5, 3] (length -2): intersection 0, union
    # 2 + (-2) - 0 = 0, official tIoU 0/0 = NaN, and NaN < 0.5 is False: a true positive.
    # Prediction [7, 4] (length -3): union -1, tIoU -0.0 < 0.5: a false positive.
    gt, pred = frames([('a', 0, 2, 'x')], [('a', 5, 3, 'x', 0.9), ('a', 7, 4, 'x', 0.8)])
    assert evaluate_detection(gt, pred, [0.5]).mAP == [1.0]
    gt, pred = frames([('a', 0, 2, 'x')], [('a', 7, 4, 'x', 0.9), ('a', 5, 3, 'x', 0.8)])
    assert evaluate_detection(gt, pred, [0.5]).mAP == [0.5]   # FP, then TP at rank 2


def test_mmaction2_public_case(shared_annotations):
    """mmaction2's tests/data/eval_localization: public expected average mAP."""
    folder = shared_annotations / 'open-mmlab_mmaction2'
    gt_json = json.loads((folder / 'eval_localization_gt.json').read_text())
    res_json = json.loads((folder / 'eval_localization_result.json').read_text())
    # mmaction2's ground-truth format keys videos 'v_<id>' and strips the prefix.
    gt = [(vid[2:], *ann['segment'], ann['label'])
          for vid, info in gt_json.items() for ann in info['annotations']]
    pred = [(vid, *r['segment'], r['label'], r['score'])
            for vid, results in res_json['results'].items() for r in results]
    result = evaluate_detection(*frames(gt, pred), tiou_thresholds=ANET_TIOU_THRESHOLDS)
    assert abs(result.average_mAP - 0.6177579365079365) < 1e-12

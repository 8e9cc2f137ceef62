"""Grounding R@n,IoU=m / mIoU: hand-worked case and the 2D-TAN loops on random cases."""
from __future__ import annotations

import metric_reference as reference
import numpy as np
import pandas as pd
import pytest

from pal_eval.errors import PalEvalError
from pal_eval.evaluation.grounding import UnknownQueryError, evaluate_grounding


def frames(gt: dict, preds: dict):
    queries = pd.DataFrame([(q, s, e) for q, (s, e) in gt.items()],
                           columns=['query_id', 't_start', 't_end'])
    rows = [(q, s, e, score) for q, items in preds.items() for s, e, score in items]
    return queries, pd.DataFrame(rows, columns=['query_id', 't_start', 't_end', 'score'])


def test_hand_worked():
    gt = {'q1': (0, 10), 'q2': (0, 10), 'q3': (5, 6)}
    preds = {'q1': [(0, 5, 0.9),     # IoU .5: not > .5
                    (0, 4.5, 0.8),   # suppressed by NMS (tIoU .9 with the first)
                    (2, 10, 0.7)],   # tIoU .3 with the first: kept second; IoU .8
             'q2': [(0, 10, 0.1)]}   # IoU 1; q3 has no prediction -> miss, IoU 0
    result = evaluate_grounding(*frames(gt, preds), recalls=[1, 2], ious=[0.3, 0.5])
    assert result.recall == {(1, 0.3): 2 / 3, (1, 0.5): 1 / 3,
                             (2, 0.3): 2 / 3, (2, 0.5): 2 / 3}
    assert result.miou == pytest.approx((0.5 + 1.0 + 0.0) / 3, abs=1e-15)
    assert set(result.to_dict()) == {'R@1,IoU=0.3', 'R@1,IoU=0.5', 'R@2,IoU=0.3',
                                     'R@2,IoU=0.5', 'mIoU'}


def test_unknown_queries_are_counted_or_strict():
    gt, preds = frames({'q1': (0, 10)}, {'q1': [(0, 10, 1.0)], 'zz': [(0, 1, 1.0)]})
    result = evaluate_grounding(gt, preds)
    assert result.num_unmatched_predictions == 1 and result.recall[(1, 0.5)] == 1.0
    with pytest.raises(UnknownQueryError, match='zz'):
        evaluate_grounding(gt, preds, strict=True)
    with pytest.raises(PalEvalError, match='no ground-truth'):
        evaluate_grounding(gt.iloc[:0], preds)


@pytest.mark.parametrize('seed', range(5))
def test_matches_2dtan_loops(seed):
    rng = np.random.default_rng(seed)
    gt, preds = {}, {}
    for q in range(30):
        s, e = sorted(rng.integers(0, 10, 2))
        gt[f'q{q}'] = (float(s), float(e + 1))
        items = []
        for _ in range(int(rng.integers(0, 15))):
            s, e = sorted(rng.integers(0, 10, 2))
            items.append((float(s), float(e + 1), float(rng.integers(0, 4))))
        if items:
            preds[f'q{q}'] = items
    for nms_thresh in (0.5, 0.3, 1.0):
        want, want_miou = reference.grounding(gt, preds, [1, 5], [0.3, 0.5, 0.7], nms_thresh)
        got = evaluate_grounding(*frames(gt, preds), nms_threshold=nms_thresh)
        assert got.recall == want
        assert reference.isclose(got.miou, want_miou)


@pytest.mark.parametrize('seed', range(3))
def test_reversed_and_zero_length_predictions_match_2dtan(seed):
    # 2D-TAN's eval accepts them: its NMS suppresses a 0/0 overlap (NaN), its IoU of a
    # reversed candidate with the ground truth is 0.
    rng = np.random.default_rng(70 + seed)
    gt = {f'q{q}': (float(s), float(s + 1 + rng.integers(0, 5))) for q, s in
          enumerate(rng.integers(0, 8, 20))}
    preds = {q: [(float(a), float(a + rng.integers(-3, 4)), float(rng.integers(0, 3)))
                 for a in rng.integers(0, 8, 10)] for q in gt}
    assert any(e < s for items in preds.values() for s, e, _ in items)
    for nms_thresh in (0.5, 0.3):
        want, want_miou = reference.grounding(gt, preds, [1, 5], [0.3, 0.5], nms_thresh)
        got = evaluate_grounding(*frames(gt, preds), ious=[0.3, 0.5],
                                 nms_threshold=nms_thresh)
        assert got.recall == want
        assert reference.isclose(got.miou, want_miou)


# ------------------------------------------------------ 2D-TAN's float32 moment times
def official_float32_time(fraction: float, duration: float) -> float:
    """2D-TAN's ``get_proposal_results``: float32 ``index / N`` times float32 ``duration``."""
    return float(np.float32(fraction) * np.float32(duration))


def test_float32_times_are_2d_tan_numbers():
    """Our float64 grid times of a 16-clip map over [0, d], through the option, equal
    2D-TAN's float32 arithmetic ``float32(k / 16) * float32(d)`` for every k (rounding
    the float64 value to float32 instead is not the same number for about 1 time in 5)."""
    from pal_eval.evaluation.grounding import float32_moment_times

    for duration in (30.96, 24.3, 17.53, 112.6):
        edges = np.linspace(0.0, duration, 17)
        segments = np.stack([edges[:-1], edges[1:]], axis=1)
        got = float32_moment_times(segments, np.full(16, duration))
        want = [[official_float32_time(k / 16, duration),
                 official_float32_time((k + 1) / 16, duration)] for k in range(16)]
        assert got.tolist() == want


def test_float32_time_precision_changes_a_tie_at_the_nms_threshold():
    """A 30.96 s video on a 16-clip grid, NMS 0.5 (hand-worked).

    Candidates [0, d/16] (score .9) and [0, d/8] (.8), ground truth [0, d/8]. Their tIoU
    is (d/16) / (d/16 + d/8 - d/16): in float64, d/16 + d/8 = 3d/16 loses its last bit
    and the quotient is 0.5000000000000001 > 0.5, so [0, d/8] is suppressed and R@2 at
    IoU 0.7 is 0 (the kept one has IoU 0.5). 2D-TAN's times are float32 values, whose
    float64 sum is exact: tIoU 0.5, not > 0.5, both kept, R@2 = 1.
    """
    d = 30.96
    queries = pd.DataFrame({'query_id': ['q'], 't_start': [0.0], 't_end': [d / 8],
                            'duration': [d]})
    preds = pd.DataFrame({'query_id': ['q', 'q'], 't_start': [0.0, 0.0],
                          't_end': [d / 16, d / 8], 'score': [0.9, 0.8]})
    exact = evaluate_grounding(queries, preds, recalls=[2], ious=[0.7])
    official = evaluate_grounding(queries, preds, recalls=[2], ious=[0.7],
                                  time_precision='float32')
    assert exact.recall[(2, 0.7)] == 0.0 and official.recall[(2, 0.7)] == 1.0
    # Top-1 IoU with the float64 ground truth: 0.5, and 0.49999998... from float32 times.
    assert exact.miou == 0.5 and official.miou == pytest.approx(0.5, abs=1e-7)
    with pytest.raises(PalEvalError, match="needs each query's video duration"):
        evaluate_grounding(queries.assign(duration=np.nan), preds, time_precision='float32')
    with pytest.raises(PalEvalError, match='time_precision must be one of'):
        evaluate_grounding(queries, preds, time_precision='float16')

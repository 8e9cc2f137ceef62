"""AR@AN / AUC: hand-worked case and brute force (the official loops) on random cases."""
from __future__ import annotations

import metric_reference as reference
import numpy as np
import pandas as pd
import pytest

from pal_eval.errors import PalEvalError
from pal_eval.evaluation.detection import ANET_TIOU_THRESHOLDS
from pal_eval.evaluation.proposal import evaluate_proposals


def frames(gt_rows, prop_rows):
    gt = pd.DataFrame(gt_rows, columns=['video_id', 't_start', 't_end'])
    props = pd.DataFrame(prop_rows, columns=['video_id', 't_start', 't_end', 'score'])
    return gt, props


def test_hand_worked():
    # 2 videos, 3 ground truths, 2 proposals per video, max 2 per video -> ratio 1.
    gt, props = frames([('a', 0, 10), ('a', 20, 30), ('b', 0, 4)],
                       [('a', 0, 10, 0.9), ('a', 20, 29, 0.8),    # hits gt1 then gt2 (0.9)
                        ('b', 0, 2, 0.7), ('b', 0, 4, 0.1)])      # 0.5 then 1.0
    result = evaluate_proposals(gt, props, max_avg_proposals=2, tiou_thresholds=[0.5, 0.95],
                                ar_at=[1, 2])
    # AN=1 (first proposal of each video): t=0.5 -> gt1, gt3 (tIoU .5 >= .5) = 2/3;
    #   t=0.95 -> gt1 = 1/3 ; AR@1 = 1/2.  AN=2: t=.5 -> 3/3, t=.95 -> gt1, gt3 = 2/3; 5/6
    assert result.ar_at == {1: 0.5, 2: (1 + 2 / 3) / 2}
    assert result.avg_proposals[-1] == 2.0 and result.avg_proposals[49] == 1.0


def test_ar_at_must_be_on_the_curve():
    gt, props = frames([('a', 0, 10)], [('a', 0, 10, 1.0)])
    with pytest.raises(PalEvalError, match='AR@150'):
        evaluate_proposals(gt, props, max_avg_proposals=100, ar_at=[150])
    with pytest.raises(PalEvalError, match='AR@3'):
        evaluate_proposals(gt, props, max_avg_proposals=200, ar_at=[3])
    with pytest.raises(PalEvalError, match='no ground-truth'):
        evaluate_proposals(gt.iloc[:0], props)


@pytest.mark.parametrize('seed', range(6))
def test_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    gt, props = [], []
    for v in range(7):
        for _ in range(int(rng.integers(1, 4))):
            s, e = sorted(rng.integers(0, 10, 2))
            gt.append((f'v{v}', float(s), float(e + 1)))
    for v in range(9):  # v7, v8: videos without ground truth; some videos get none
        for _ in range(int(rng.integers(0, 25))):
            s, e = sorted(rng.integers(0, 10, 2))
            props.append((f'v{v}', float(s), float(e + 1), float(rng.integers(0, 6))))
    max_avg = [100, 10, 7, 3.5, 50, 20][seed]
    thresholds = list(ANET_TIOU_THRESHOLDS) + [0.25, 1 / 3]
    _, want_avg, want_x, want_auc = reference.average_recall(gt, props, max_avg, thresholds)
    got = evaluate_proposals(*frames(gt, props), max_avg_proposals=max_avg,
                             tiou_thresholds=thresholds, ar_at=[])
    np.testing.assert_allclose(got.average_recall, want_avg, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.avg_proposals, want_x, rtol=0, atol=1e-12)
    assert reference.isclose(got.auc, want_auc)

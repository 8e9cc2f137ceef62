"""Hard NMS against a literal loop version of 2D-TAN's algorithm."""
from __future__ import annotations

import numpy as np
import pytest

from pal_eval.postprocess.nms import nms


def loop_nms(segments, scores, threshold, top_k=None):
    """Reference: visit by score (stable), keep unless some kept one overlaps > threshold."""
    def tiou(a, b):
        # 2D-TAN's ovr = inter / (len_i + len_j - inter), numpy float division: 0/0 is
        # NaN, and NaN <= threshold is False (suppressed), as in its np.where(ovr <= t).
        inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
        union = (a[1] - a[0]) + (b[1] - b[0]) - inter
        with np.errstate(invalid='ignore', divide='ignore'):
            return np.float64(inter) / np.float64(union)

    order = sorted(range(len(scores)), key=lambda i: -scores[i])  # Python sort is stable
    keep = []
    for i in order:
        if top_k and len(keep) == top_k:
            break
        if all(tiou(segments[i], segments[k]) <= threshold for k in keep):
            keep.append(i)
    return keep


def test_hand_worked():
    segs = [[0, 10], [1, 10], [20, 30], [0, 5]]
    # [1,10] vs [0,10] = 0.9 > 0.5 -> dropped; [0,5] vs [0,10] = 0.5, not > 0.5 -> kept
    assert nms(segs, [0.9, 0.8, 0.7, 0.6], 0.5).tolist() == [0, 2, 3]
    assert nms(segs, [0.9, 0.8, 0.7, 0.6], 0.5, top_k=2).tolist() == [0, 2]


def test_zero_union_pairs_are_suppressed_like_2dtan_nan():
    # two zero-length segments: 0/0 -> NaN -> suppressed; a reversed [6, 4] (length -2)
    # against [0, 2]: union 2 - 2 - 0 = 0 -> suppressed too; [3, 3] vs [0, 2]: union 2,
    # tIoU 0 -> kept
    assert nms([[1, 1], [5, 5]], [0.9, 0.8], 0.5).tolist() == [0]
    assert nms([[0, 2], [6, 4], [3, 3]], [0.9, 0.8, 0.7], 0.5).tolist() == [0, 2]


def test_ties_keep_input_order():
    segs = [[0, 10], [0, 10], [0, 10]]
    assert nms(segs, [0.5, 0.5, 0.5], 0.5).tolist() == [0]
    assert nms(segs, [0.5, 0.7, 0.7], 0.5).tolist() == [1]


def test_empty():
    assert nms(np.zeros((0, 2)), np.zeros(0), 0.5).tolist() == []


@pytest.mark.parametrize('seed', range(5))
def test_matches_loop_reference(seed):
    rng = np.random.default_rng(seed)
    segs = np.sort(rng.integers(0, 30, size=(60, 2)), axis=1) / 2
    scores = rng.integers(0, 10, size=60) / 10  # many ties
    for threshold in (0.3, 0.5, 0.7):
        for top_k in (None, 5):
            want = loop_nms(segs.tolist(), scores.tolist(), threshold, top_k)
            assert nms(segs, scores, threshold, top_k).tolist() == want


@pytest.mark.parametrize('seed', range(3))
def test_batched_equals_nms_per_group(seed):
    from pal_eval.postprocess.nms import batched_nms

    rng = np.random.default_rng(seed)
    segs = np.sort(rng.integers(0, 20, size=(120, 2)), axis=1) / 2
    scores = rng.integers(0, 6, size=120) / 5
    groups = rng.integers(0, 9, size=120)
    for top_k in (None, 3):
        got = batched_nms(segs, scores, groups, 0.5, top_k).tolist()
        want = []
        for g in range(9):
            members = np.flatnonzero(groups == g)
            want += [int(members[i]) for i in loop_nms(segs[members].tolist(),
                                                       scores[members].tolist(), 0.5, top_k)]
        assert got == want

"""tIoU: hand-worked values and agreement with a scalar loop reference.

Exact comparisons are machine independent here: tIoU is only IEEE-754 +, -, min, max and
one division, each correctly rounded on every CPU, and the reference uses the same
operation order (no transcendental function, no reduction whose order could change).
"""
from __future__ import annotations

import numpy as np
import pytest

from pal_eval.core.tiou import paired_tiou, pairwise_tiou, segment_tiou


def scalar_tiou(a, b) -> float:
    """Plain-Python tIoU, the ActivityNet formula written out for two segments."""
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (b[1] - b[0]) + (a[1] - a[0]) - inter
    return inter / union if union > 0 else 0.0


def test_hand_worked_values():
    # [0,10] vs [5,15]: intersection 5, union 15 -> 1/3; disjoint -> 0; touching -> 0
    got = segment_tiou([0, 10], [[0, 10], [5, 15], [20, 30], [10, 12], [2, 4]])
    np.testing.assert_array_equal(got, [1.0, 5 / 15, 0.0, 0.0, 2 / 10])


def test_intersection_is_clipped_at_zero_not_negative():
    # far apart segments: a negative intersection would give a negative tIoU
    assert segment_tiou([0, 1], [[100, 101]])[0] == 0.0


def test_threshold_exact_value_is_float64_exact():
    # [0,2] vs [1,2] = 1/2 exactly in float64 (float32 would also be exact here),
    # [0, 0.3] vs [0, 0.1+0.2]-ish values: check dtype and value bit-for-bit vs Python floats
    a, b = [0.0, 0.3], [0.1, 0.3]
    assert segment_tiou(a, [b])[0] == scalar_tiou(a, b)
    assert segment_tiou(a, [b]).dtype == np.float64


def test_zero_length_pairs_are_zero_not_nan():
    got = pairwise_tiou([[1, 1], [0, 2]], [[1, 1], [1, 1]])
    np.testing.assert_array_equal(got, [[0.0, 0.0], [0.0, 0.0]])


@pytest.mark.parametrize('seed', range(3))
def test_pairwise_matches_scalar_loop(seed):
    rng = np.random.default_rng(seed)
    # integer-ish grid so many pairs tie / touch / equal thresholds exactly
    a = np.sort(rng.integers(0, 20, size=(15, 2)), axis=1) / 4
    b = np.sort(rng.integers(0, 20, size=(9, 2)), axis=1) / 4
    got = pairwise_tiou(a, b)
    want = np.array([[scalar_tiou(x, y) for y in b] for x in a])
    np.testing.assert_array_equal(got, want)
    for i, x in enumerate(a):
        np.testing.assert_array_equal(segment_tiou(x, b), want[i])
    np.testing.assert_array_equal(paired_tiou(a[:9], b), np.diag(want[:9]))
    # symmetric bit for bit
    np.testing.assert_array_equal(pairwise_tiou(b, a), got.T)


def test_bad_shape_raises():
    with pytest.raises(ValueError):
        pairwise_tiou(np.zeros((3, 3)), np.zeros((1, 2)))


def test_hull_union_matches_2dtan_formula():
    rng = np.random.default_rng(7)
    a = np.sort(rng.uniform(0, 10, size=(20, 2)), axis=1)
    b = np.sort(rng.uniform(0, 10, size=(5, 2)), axis=1)
    got = pairwise_tiou(a, b, union='hull')
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            inter = max(0.0, min(x[1], y[1]) - max(x[0], y[0]))
            hull = max(x[1], y[1]) - min(x[0], y[0])
            assert got[i, j] == inter / hull
    np.testing.assert_allclose(got, pairwise_tiou(a, b), rtol=0, atol=1e-12)

"""Soft-NMS against a straightforward list-based loop (mmaction2/G-TAD style)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from pal_eval.postprocess.soft_nms import bmn_soft_nms, gaussian_soft_nms, soft_nms, top_k_by_score


def _loop_tiou(a_start, a_end, b_start, b_end):
    inter = max(0.0, min(a_end, b_end) - max(a_start, b_start))
    union = (b_end - b_start) + (a_end - a_start) - inter
    return inter / union if union > 0 else 0.0


def reference_soft_nms(segments, scores, alpha, low, high, top_k, width_scale=1.0):
    """Textbook Soft-NMS with Python lists: pick the max, pop it, decay the rest one by one."""
    order = np.asarray(scores).argsort()[::-1]  # the same tie order as mmaction2
    pool = [(int(i), float(segments[i][0]), float(segments[i][1]), float(scores[i]))
            for i in order]
    kept = []
    while pool and len(kept) < top_k:
        best = max(range(len(pool)), key=lambda j: (pool[j][3], -j))
        index, start, end, score = pool.pop(best)
        kept.append((index, score))
        threshold = low + (high - low) * (end - start) / width_scale
        for j, (other, s, e, sc) in enumerate(pool):
            iou = _loop_tiou(start, end, s, e)
            if iou > threshold:
                pool[j] = (other, s, e, sc * math.exp(-iou * iou / alpha))
    return [k for k, _ in kept], [s for _, s in kept]


@pytest.mark.parametrize('seed', range(6))
def test_bmn_soft_nms_matches_loop_reference(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 300))
    start = rng.uniform(0, 1, n)
    segments = np.stack([start, np.minimum(1.0, start + rng.uniform(0.01, 0.6, n))], 1)
    # Quantised scores create ties; the tie order must match too.
    scores = np.round(rng.uniform(0, 1, n), 2)
    kept, new_scores = bmn_soft_nms(segments, scores, top_k=50)
    ref_kept, ref_scores = reference_soft_nms(segments, scores, 0.4, 0.5, 0.9, 50)
    assert kept.tolist() == ref_kept
    # The loop decays with math.exp, ours with numpy's vectorised exp: the two may differ
    # in the last ulp on some CPUs, so scores get a tolerance; the kept order is exact.
    np.testing.assert_allclose(new_scores, ref_scores, rtol=1e-12, atol=0)


@pytest.mark.parametrize('seed', range(4))
def test_gaussian_soft_nms_matches_loop_reference(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(2, 200))
    start = rng.uniform(0, 100, n)
    segments = np.stack([start, start + rng.uniform(0.5, 30, n)], 1)
    scores = rng.uniform(0, 1, n)
    kept, new_scores = gaussian_soft_nms(segments, scores, sigma=0.46, top_k=200)
    ref_kept, ref_scores = reference_soft_nms(segments, scores, 0.46, 0.0, 0.0, 200)
    assert kept.tolist() == ref_kept
    # The loop decays with math.exp, ours with numpy's vectorised exp: the two may differ
    # in the last ulp on some CPUs, so scores get a tolerance; the kept order is exact.
    np.testing.assert_allclose(new_scores, ref_scores, rtol=1e-12, atol=0)


def test_hand_worked_width_adaptive_threshold():
    # Selected [0, 0.5] has width 0.5: threshold 0.5 + 0.4 * 0.5 = 0.7.
    # [0, 0.4] overlaps it by 0.8 > 0.7 and decays; [0, 0.3] overlaps by 0.6 <= 0.7 and
    # keeps its score.
    segments = np.array([[0, .5], [0, .4], [0, .3]])
    kept, new_scores = bmn_soft_nms(segments, np.array([1.0, .9, .8]))
    assert kept.tolist() == [0, 2, 1]
    expected_decayed = 0.9 * math.exp(-0.8 ** 2 / 0.4)
    # [0, 0.3] is picked second (0.8 > 0.18); [0, 0.4] overlaps it by 0.75 > 0.5 + 0.4 * 0.3.
    expected_decayed *= math.exp(-0.75 ** 2 / 0.4)
    np.testing.assert_allclose(new_scores, [1.0, 0.8, expected_decayed])


def test_scores_non_increasing_and_top_k():
    rng = np.random.default_rng(7)
    start = rng.uniform(0, 1, 80)
    segments = np.stack([start, start + 0.2], 1)
    kept, scores = soft_nms(segments, rng.uniform(size=80), alpha=0.4, top_k=30)
    assert len(kept) == 30 and len(set(kept.tolist())) == 30
    assert np.all(np.diff(scores) <= 0)


def test_empty_and_top_k_by_score():
    kept, scores = bmn_soft_nms(np.zeros((0, 2)), np.zeros(0))
    assert kept.shape == (0,) and scores.shape == (0,)
    assert top_k_by_score(np.array([0.2, 0.9, 0.9, 0.1]), 2).tolist() == [1, 2]


def reference_gtad_soft_nms(segments, scores, sigma, num_prop, max_length=None):
    """frostinassiky/gtad ``gtad_postprocess.py::Soft_NMS`` transcribed (lists; ``IOU`` is
    its hull form: 0 when apart, else (min end - max start) / (max end - min start));
    the initial order is ours (pandas' unstable sort only differs on ties)."""
    order = np.asarray(scores).argsort()[::-1]
    index = [int(i) for i in order]
    tstart = [float(segments[i][0]) for i in order]
    tend = [float(segments[i][1]) for i in order]
    tscore = [float(scores[i]) for i in order]
    if max_length is not None:  # master only: "remove the detection longer than 300"
        for idx in range(len(tscore)):
            if tend[idx] - tstart[idx] >= max_length:
                tscore[idx] = 0
    kept, kept_scores = [], []
    while len(tscore) > 1 and len(kept) < num_prop and max(tscore) > 0:
        best = tscore.index(max(tscore))
        for idx in range(len(tscore)):
            if idx != best:
                s1, e1, s2, e2 = tstart[best], tend[best], tstart[idx], tend[idx]
                iou = 0 if (s2 > e1 or s1 > e2) else (min(e1, e2) - max(s1, s2)) / (
                    max(e1, e2) - min(s1, s2))
                if iou > 0:
                    tscore[idx] = tscore[idx] * math.exp(-iou ** 2 / sigma)
        kept.append(index.pop(best))
        kept_scores.append(tscore.pop(best))
        tstart.pop(best)
        tend.pop(best)
    return kept, kept_scores


@pytest.mark.parametrize('seed', range(4))
def test_gtad_loop_options_match_the_reference_soft_nms(seed):
    """``keep_last=False, stop_at_zero=True`` (+ ``max_length`` on THUMOS14) is G-TAD's
    loop: the last remaining candidate is never kept, zero scores end it, segments at
    least ``max_length`` long are zeroed first but still count as remaining."""
    rng = np.random.default_rng(200 + seed)
    n = int(rng.integers(2, 60))
    start = rng.uniform(0, 1000, n)
    segments = np.stack([start, start + rng.uniform(5, 500, n)], 1)
    scores = rng.uniform(0, 1, n)
    for top_k, max_length in ((200, None), (200, 300.0), (5, 300.0)):
        kept, new_scores = gaussian_soft_nms(segments, scores, sigma=0.46, top_k=top_k,
                                             keep_last=False, stop_at_zero=True,
                                             max_length=max_length)
        ref_kept, ref_scores = reference_gtad_soft_nms(segments, scores, 0.46, top_k,
                                                       max_length)
        assert kept.tolist() == ref_kept
        np.testing.assert_allclose(new_scores, ref_scores, rtol=1e-12, atol=0)


def test_gtad_loop_hand_worked():
    """Window A of the THUMOS14 example (frames): [0, 100] .9, [0, 400] .95 (>= 300:
    zeroed), [10, 110] .8, [500, 600] .5. Keep [0, 100]; [10, 110] decays by
    exp(-(90/110)^2 / .46) to .186671; keep [500, 600], then [10, 110] (two remain: the
    zero one and it); the zero one is never kept. The defaults (mmaction2's loop) keep
    all four and do not zero the long one."""
    segments = np.array([[0, 100], [0, 400], [10, 110], [500, 600]], float)
    scores = np.array([0.9, 0.95, 0.8, 0.5])
    kept, new = gaussian_soft_nms(segments, scores, sigma=0.46, top_k=200, keep_last=False,
                                  stop_at_zero=True, max_length=300)
    assert kept.tolist() == [0, 3, 2]
    np.testing.assert_allclose(new, [0.9, 0.5, 0.8 * math.exp(-(90 / 110) ** 2 / 0.46)])
    assert round(float(new[2]), 6) == 0.186671
    assert len(gaussian_soft_nms(segments, scores, sigma=0.46, top_k=200)[0]) == 4

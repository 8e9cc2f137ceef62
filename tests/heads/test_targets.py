"""Training targets: BMN's labels and G-TAD's targets, by hand and against the shared tIoU."""
from __future__ import annotations

import numpy as np
import pytest

from heads.targets import (
    boundary_labels,
    gtad_targets,
    gtad_thumos14_iou_shift,
    iou_map_labels,
    localization_labels,
)
from pal_eval.core.tiou import pairwise_tiou


def test_boundary_labels_hand_worked():
    """Anchor i is [(i - .5)/T, (i + 1.5)/T] (mmaction2 BMN ``_temporal_anchors(-0.5, 1.5)``,
    G-TAD ``anet:_get_match_map``), label = overlap with the 3-position region / anchor
    length (0.2 for T = 10). Start 0.52: region [0.37, 0.67]; anchor 3 = [0.25, 0.45]
    covers 0.08 (0.4), 4 = [0.35, 0.55] 0.18 (0.9), 5 = [0.45, 0.65] all, 6 = [0.55, 0.75]
    0.12 (0.6), 7 = [0.65, 0.85] 0.02 (0.1). With JJBOY's centred anchors
    [(i - .5)/T, (i + .5)/T] (length 0.1): 4 = [0.35, 0.45] 0.08 (0.8), 5 and 6 whole,
    7 = [0.65, 0.75] 0.02 (0.2)."""
    labels = boundary_labels(np.array([0.52]), 10)
    np.testing.assert_allclose(labels, [0, 0, 0, .4, .9, 1, .6, .1, 0, 0], atol=1e-6)
    centred = boundary_labels(np.array([0.52]), 10, anchors='centred')
    np.testing.assert_allclose(centred, [0, 0, 0, 0, .8, 1, 1, .2, 0, 0], atol=1e-6)
    # Two ground truths (0 gives region [-0.15, 0.15]): the max of the two coverages;
    # anchor 1 = [0.05, 0.25] holds 0.1 of it (0.5).
    both = boundary_labels(np.array([0.0, 0.52]), 10)
    np.testing.assert_allclose(both[:5], [1.0, 0.5, 0.0, 0.4, 0.9], atol=1e-6)
    assert boundary_labels(np.zeros(0), 5).tolist() == [0.0] * 5
    with pytest.raises(ValueError, match='boundary anchors'):
        boundary_labels(np.array([0.5]), 4, anchors='jjb')


def test_boundary_anchors_official_vs_jjboy_exactly():
    """Issue 15 #12, all dyadic so exact: T = 8, one boundary at 0.5, region
    [0.3125, 0.6875]. Official (mmaction2, G-TAD anet) anchor 2 = [0.1875, 0.4375] holds
    0.125 of its 0.25 -> 0.5, likewise anchor 5; anchors 3 and 4 lie inside (1). Centred
    (JJBOY HEAD): anchors 3, 4, 5 ([0.3125, 0.4375] ... [0.5625, 0.6875]) inside."""
    np.testing.assert_array_equal(boundary_labels(np.array([0.5]), 8),
                                  [0, 0, .5, 1, 1, .5, 0, 0])
    np.testing.assert_array_equal(boundary_labels(np.array([0.5]), 8, anchors='centred'),
                                  [0, 0, 0, 1, 1, 1, 0, 0])


def test_localization_labels_equal_mmaction_generate_labels():
    """Our BMN labels against mmaction2's own ``BMN.generate_labels`` (its loops)."""
    import mmaction.models  # noqa: F401
    import torch
    from mmaction.registry import MODELS

    import pal_eval  # noqa: F401

    mm = MODELS.build(dict(type='BMN', temporal_dim=16, boundary_ratio=0.5, num_samples=4,
                           num_samples_per_bin=3, feat_dim=8, soft_nms_alpha=0.4,
                           soft_nms_low_threshold=0.5, soft_nms_high_threshold=0.9,
                           post_process_top_k=100))
    rng = np.random.default_rng(3)
    gts = [np.sort(rng.uniform(0, 1, size=(n, 2)), axis=1) for n in (1, 3, 2)]
    iou, start, end = mm.generate_labels([torch.from_numpy(g) for g in gts])
    for i, gt in enumerate(gts):
        ours = localization_labels(gt, 16)
        np.testing.assert_allclose(ours['gt_start'], start[i].numpy(), atol=1e-6)
        np.testing.assert_allclose(ours['gt_end'], end[i].numpy(), atol=1e-6)
        np.testing.assert_allclose(ours['gt_iou_map'], iou[i].numpy(), atol=1e-6)


def test_iou_map_hand_worked():
    labels = iou_map_labels(np.array([[0.25, 0.75]]), 4)
    assert labels.shape == (4, 4)
    assert labels[1, 1] == 1.0    # [0.25, 0.75]
    assert labels[0, 1] == 0.5    # [0.25, 0.50]
    assert labels[3, 0] == 0.5    # [0.00, 1.00]
    assert labels[0, 0] == 0.0    # [0.00, 0.25]
    assert np.isclose(labels[2, 0], 0.5 / 0.75)  # [0, 0.75]


def test_targets_on_a_hand_worked_example():
    """T = 4; one action over [0.3, 0.7]; 3-position boundary regions: [-0.075, 0.675]
    around the start, [0.325, 1.075] around the end.

    Centred anchors [(i - .5)/4, (i + .5)/4] (G-TAD THUMOS14's, length 0.25): start
    coverage 0.2/0.25, 1, 1, 0.05/0.25. Official ActivityNet anchors [(i - .5)/4,
    (i + 1.5)/4] (length 0.5): start [-0.125, 0.375] holds 0.45 (0.9), [0.125, 0.625] all,
    [0.375, 0.875] 0.3 (0.6), [0.625, 1.125] 0.05 (0.1); end 0.05, 0.3, 0.5, 0.45 of 0.5.
    """
    start, end, iou = gtad_targets([[0.3, 0.7]], 4, 4, anchors='centred')
    np.testing.assert_allclose(start, [0.8, 1.0, 1.0, 0.2], rtol=1e-6)
    np.testing.assert_allclose(end, [0.0, 0.2, 1.0, 1.0], rtol=1e-6, atol=1e-7)
    start, end, _ = gtad_targets([[0.3, 0.7]], 4, 4)
    np.testing.assert_allclose(start, [0.9, 1.0, 0.6, 0.1], rtol=1e-6)
    np.testing.assert_allclose(end, [0.1, 0.6, 1.0, 0.9], rtol=1e-6)
    # iou[d, s]: proposal [s/4, (s+d+1)/4] against [0.3, 0.7]; past the window -> 0.
    expected = np.array([[0, 4 / 9, 4 / 9, 0],
                         [2 / 7, 0.8, 2 / 7, 0],
                         [8 / 15, 8 / 15, 0, 0],
                         [0.4, 0, 0, 0]])
    np.testing.assert_allclose(iou, expected, rtol=1e-6)
    # With D < T (THUMOS: 64 of 256) the map keeps the shortest durations only.
    _, _, short = gtad_targets([[0.3, 0.7]], 4, 2)
    np.testing.assert_allclose(short, expected[:2], rtol=1e-6)


def test_gtad_boundary_labels_use_the_unclipped_ground_truth():
    """G-TAD THUMOS14 labels boundaries from the unclipped frames and builds the IoU map
    from the clipped segment. [-0.1, 0.3] of T = 10: start region [-0.25, 0.05] holds
    centred anchor 0 = [-0.05, 0.05] (label 1), not anchor 1 = [0.05, 0.15] (0); clipped
    to 0 first, the region [-0.15, 0.15] would hold both. IoU map: [0, 0.3] = cell [2, 0]."""
    start, _, iou = gtad_targets([[-0.1, 0.3]], 10, 10, anchors='centred')
    np.testing.assert_allclose(start[:3], [1.0, 0.0, 0.0], atol=1e-7)
    assert iou[2, 0] == pytest.approx(1.0)
    clipped_start, _, _ = gtad_targets([[0.0, 0.3]], 10, 10, anchors='centred')
    assert clipped_start[1] == pytest.approx(1.0)


def test_thumos14_window_ground_truth_and_labels_hand_worked():
    """Issue 15 #11 (frostinassiky/gtad ``master:gtad_lib/dataset.py``), 25 fps, snippet j
    at frame 5 j (centre times 0.2 j s). Window w = 128: snippets 128..383, frames
    [5 w - 2.5, 5 (w + 255) + 2.5] = [637.5, 1917.5]. Ground truth (frames) g1 [600, 700],
    g2 [1000, 1100], g3 [1800, 2000], g4 [2000, 2100]: IoA (overlap / length) 62.5/100,
    1, 117.5/200, 0 -> g1, g2, g3 kept unclipped; the window trains (max IoA 1 > 0.9).
    Window-relative snippets (centre convention) u = (f - 640) / 5: g1 [-8, 12], g2
    [72, 92], g3 [232, 272]. Boundary labels (centred anchors [j - .5, j + .5], regions
    u -/+ 1.5): ends of g1 at j = 11, 12, 13, starts of g2 at 71..73, ends of g2 at
    91..93, starts of g3 at 231..233; g1's start and g3's end are outside, no label.
    IoU map: the official offset int(5 w - 2.5) = 637 gives ((f - 637) / 5 / 256), e.g. g1
    [0 (clipped from -0.0289), 0.04921875], g3 [0.90859375, 1 (clipped)]; compared cell
    by cell with the official double loop written here. A window whose best ground truth
    is only 85 % inside does not train."""
    from pal_eval.data.datasets.localization import window_ground_truth

    centers = (128 + np.arange(256)) * 0.2
    frames = np.array([[600, 700], [1000, 1100], [1800, 2000], [2000, 2100]], float)
    gt, kept, trains = window_ground_truth(frames / 25.0, centers, 256, rule='official',
                                           boundary_at='center')
    assert kept.tolist() == [True, True, True, False] and trains
    np.testing.assert_allclose(gt * 256, [[-8, 12], [72, 92], [232, 272]], atol=1e-9)
    shift = gtad_thumos14_iou_shift(128)
    start, end, iou = gtad_targets(gt, 256, 64, anchors='centred', iou_shift=shift)
    assert np.flatnonzero(end > 0.5).tolist() == [11, 12, 13, 91, 92, 93]
    assert np.flatnonzero(start > 0.5).tolist() == [71, 72, 73, 231, 232, 233]
    assert start.max() == end.max() == 1.0 and set(np.unique(start)) <= {0.0, 1.0}
    official = [[max(min(1, (f - 637) / 5 / 256), 0) for f in pair] for pair in frames[:3]]
    np.testing.assert_allclose(official, [[0, 0.04921875], [0.28359375, 0.36171875],
                                          [0.90859375, 1.0]])
    for d in range(64):
        for s in range(256):
            if s + d >= 256:
                assert iou[d, s] == 0
                continue
            lo, hi = s / 256, (s + d + 1) / 256
            best = max(max(0.0, min(hi, b) - max(lo, a)) / (hi - lo + b - a
                                                              - max(0.0, min(hi, b) - max(lo, a)))
                       for a, b in official)
            assert iou[d, s] == pytest.approx(best, abs=1e-6)
    # [1700, 1940] overlaps [637.5, 1917.5] by 217.5 / 240 = 0.906 -> trains;
    # [1747.5, 1947.5] by 170 / 200 = 0.85 -> kept, but the window does not train.
    assert window_ground_truth(np.array([[1700, 1940]]) / 25, centers, 256)[2]
    _, kept, trains = window_ground_truth(np.array([[1747.5, 1947.5]]) / 25, centers, 256)
    assert kept.tolist() == [True] and not trains


def test_gtad_thumos14_iou_shift():
    """int(5 w - 2.5) truncates toward zero: w = 0 -> int(-2.5) = -2 (shift 2 frames =
    0.4 snippet); w > 0 -> 5 w - 3 (0.6 snippet)."""
    assert gtad_thumos14_iou_shift(0) == pytest.approx(0.4)
    assert gtad_thumos14_iou_shift(1) == pytest.approx(0.6)
    assert gtad_thumos14_iou_shift(344) == pytest.approx(0.6)


def test_targets_take_the_best_ground_truth_and_agree_with_the_shared_tiou():
    rng = np.random.default_rng(1)
    segments = np.sort(rng.uniform(0, 1, size=(3, 2)), axis=1)
    _, _, iou = gtad_targets(segments, 10, 6)
    for d in range(6):
        for s in range(10):
            if s + d + 1 > 10:
                assert iou[d, s] == 0
                continue
            proposal = np.array([[s / 10, (s + d + 1) / 10]])
            assert iou[d, s] == pytest.approx(pairwise_tiou(proposal, segments).max(), 1e-6)


def test_targets_without_ground_truth_are_zero():
    start, end, iou = gtad_targets(np.zeros((0, 2)), 5, 5)
    assert not start.any() and not end.any() and not iou.any()

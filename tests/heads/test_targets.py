"""Training targets: BMN's labels and G-TAD's targets, by hand and against the shared tIoU."""
from __future__ import annotations

import numpy as np
import pytest

from heads.targets import boundary_labels, gtad_targets, iou_map_labels
from pal_eval.core.tiou import pairwise_tiou


def test_boundary_labels_hand_worked():
    # T = 10, start at 0.52: region [0.37, 0.67]; anchors are [(i - .5)/10, (i + .5)/10].
    labels = boundary_labels(np.array([0.52]), 10)
    expected = np.zeros(10)
    expected[4], expected[5], expected[6], expected[7] = 0.8, 1.0, 1.0, 0.2
    np.testing.assert_allclose(labels, expected, atol=1e-6)
    # Two ground truths (0 gives region [-0.15, 0.15]): the max of the two coverages.
    both = boundary_labels(np.array([0.0, 0.52]), 10)
    assert both[:3].tolist() == [1.0, 1.0, 0.0] and np.isclose(both[4], 0.8)
    assert boundary_labels(np.zeros(0), 5).tolist() == [0.0] * 5


def test_iou_map_hand_worked():
    labels = iou_map_labels(np.array([[0.25, 0.75]]), 4)
    assert labels.shape == (4, 4)
    assert labels[1, 1] == 1.0    # [0.25, 0.75]
    assert labels[0, 1] == 0.5    # [0.25, 0.50]
    assert labels[3, 0] == 0.5    # [0.00, 1.00]
    assert labels[0, 0] == 0.0    # [0.00, 0.25]
    assert np.isclose(labels[2, 0], 0.5 / 0.75)  # [0, 0.75]


def test_targets_on_a_hand_worked_example():
    # T = 4 positions; anchor i is [(i - .5) / 4, (i + .5) / 4] (BMN's and G-TAD's grid).
    # One action over [0.3, 0.7]; 3-anchor boundary regions: [-0.075, 0.675] around the
    # start, [0.325, 1.075] around the end.
    start, end, iou = gtad_targets([[0.3, 0.7]], 4, 4)
    np.testing.assert_allclose(start, [0.8, 1.0, 1.0, 0.2], rtol=1e-6)
    np.testing.assert_allclose(end, [0.0, 0.2, 1.0, 1.0], rtol=1e-6, atol=1e-7)
    # iou[d, s]: proposal [s/4, (s+d+1)/4] against [0.3, 0.7]; past the window -> 0.
    expected = np.array([[0, 4 / 9, 4 / 9, 0],
                         [2 / 7, 0.8, 2 / 7, 0],
                         [8 / 15, 8 / 15, 0, 0],
                         [0.4, 0, 0, 0]])
    np.testing.assert_allclose(iou, expected, rtol=1e-6)
    # With D < T (THUMOS: 64 of 256) the map keeps the shortest durations only.
    _, _, short = gtad_targets([[0.3, 0.7]], 4, 2)
    np.testing.assert_allclose(short, expected[:2], rtol=1e-6)


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

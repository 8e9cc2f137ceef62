"""plot_timeline: one bar per instance and per shown prediction, readable labels."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from pal_eval.visualization.timeline import (
    LABEL_FONT,
    pack_lanes,
    place_label,
    plot_timeline,
    safe_file_name,
)


def test_timeline_draws_top_k_predictions_and_writes_png(tmp_path):
    gt = [(1.0, 3.0, 'jump'), (5.0, 6.0, 'run')]
    predictions = [(1.1, 2.9, 'jump', 0.9), (4.8, 6.1, 'run', 0.3), (0.0, 1.0, 'run', 0.1)]
    fig = plot_timeline(gt, predictions, 8.0, top_k=2, out=tmp_path / 't.png')
    ax = fig.axes[0]
    # ground truth row + 2 prediction rows; the lowest-scoring prediction is left out
    assert len(ax.collections) == len(gt) + 2
    labels = [t.get_text() for t in ax.texts]
    # tIoU by hand: [1.1, 2.9] in [1, 3] = 1.8 / 2.0; [4.8, 6.1] vs [5, 6] = 1.0 / 1.3
    assert 'jump 0.90  tIoU 0.90' in labels and 'run 0.30  tIoU 0.77' in labels
    assert not any(label.startswith('run 0.10') for label in labels)
    assert (tmp_path / 't.png').read_bytes()[:4] == b'\x89PNG'


def test_without_ground_truth_there_is_no_ground_truth_row():
    fig = plot_timeline(None, [(1.0, 2.0, 'proposal', 0.5)], 4.0)
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == ['#1'] and [t.get_text() for t in fig.axes[0].texts] == ['0.50']


def _depth(intervals) -> int:
    """Most intervals covering one point (brute force over all endpoints)."""
    points = [x for interval in intervals for x in interval]
    return max(sum(s <= p < e for s, e in intervals) for p in points)


@pytest.mark.parametrize('seed', range(5))
def test_pack_lanes_never_overlaps_and_uses_the_fewest_lanes(seed):
    rng = np.random.default_rng(seed)
    starts = rng.uniform(0, 50, 40)
    intervals = [(float(s), float(s + w)) for s, w in zip(starts, rng.uniform(0.5, 8, 40))]
    lanes = pack_lanes(intervals)
    for a, b in itertools.combinations(range(len(intervals)), 2):
        if lanes[a] == lanes[b]:
            (s1, e1), (s2, e2) = intervals[a], intervals[b]
            assert e1 <= s2 or e2 <= s1, (intervals[a], intervals[b])
    assert max(lanes) + 1 == _depth(intervals)  # interval graphs: depth lanes suffice


def test_place_label_prefers_right_then_left_then_inside():
    assert place_label((0, 1), 2, (0, 10), 0.5) == (1.5, 'left')
    assert place_label((8, 10), 2, (0, 10), 0.5) == (7.5, 'right')
    assert place_label((0, 10), 2, (0, 10), 0.5) == (5, 'center')


def _extents(fig):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return [t.get_window_extent(renderer) for t in fig.axes[0].texts], renderer


def test_crowded_labels_do_not_overprint_and_stay_inside(tmp_path):
    # Six 1 s instances 1.5 s apart, labels far wider than their bars; predictions that
    # end at the right edge of the video (their labels must go left).
    gt = [(1.5 * k, 1.5 * k + 1.0, f'a rather long class name {k}') for k in range(6)]
    predictions = [(9.0 - k * 0.2, 10.0, f'a rather long class name {k}', 0.9 - 0.1 * k)
                   for k in range(4)] + [(0.0, 10.0, 'whole video', 0.2)]
    fig = plot_timeline(gt, predictions, 10.0, out=tmp_path / 'crowded.png')
    boxes, _ = _extents(fig)
    axes_box = fig.axes[0].get_window_extent()
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)
    for box in boxes:
        assert axes_box.x0 - 1 <= box.x0 and box.x1 <= axes_box.x1 + 1
    assert all(t.get_fontsize() >= 8 for t in fig.axes[0].texts) and LABEL_FONT >= 8
    lanes = {t.get_position()[1] for t in fig.axes[0].texts[:len(gt)]}
    assert len(lanes) > 1  # the labels needed more than one ground-truth lane


def test_safe_file_name():
    assert safe_file_name('../v 1:q0') == '_v_1_q0'

"""Merging sliding-window predictions back per video."""
from __future__ import annotations

import numpy as np

from pal_eval.postprocess.soft_nms import gaussian_soft_nms
from pal_eval.postprocess.windows import merge_window_predictions


def test_merge_windows_per_class():
    seg, scores, labels = merge_window_predictions(
        [np.array([[0, 10.0]]), np.array([[0, 10.0], [0, 10.0]])],
        [np.array([0.9]), np.array([0.8, 0.6])], [['a'], ['a', 'b']], sigma=0.5)
    # The duplicate 'a' decays by exp(-1 / 0.5); 'b' is another class and keeps 0.6.
    assert labels == ['a', 'b', 'a']
    np.testing.assert_allclose(scores, [0.9, 0.6, 0.8 * np.exp(-2.0)])
    assert seg.shape == (3, 2)


OFFICIAL_MERGE = dict(sigma=0.46, top_k=200, keep_last=False, stop_at_zero=True,
                      round_seconds=1, round_scores=6)


def _per_window(frames, scores):
    """G-TAD THUMOS14's per-window step (frames): Soft-NMS 0.46, top 200, >= 300 zeroed."""
    frames, scores = np.asarray(frames, float), np.asarray(scores, float)
    kept, new = gaussian_soft_nms(frames, scores, sigma=0.46, top_k=200, keep_last=False,
                                  stop_at_zero=True, max_length=300)
    return frames[kept], new


def test_thumos14_merge_then_fuse_hand_worked():
    """Issue 15 #5 (frostinassiky/gtad ``master:gtad_postprocess.py``), fps 30, 2000
    frames, classes X .8 and Y .1. Window A: [0,100] .9, [0,400] .95 (long), [10,110] .8,
    [500,600] .5 -> [0,100] .9, [500,600] .5, [10,110] .186671. Window B: [650,750] .7,
    [560,610] .6, [640,1000] .4 (long) -> [650,750] .7, [560,610] .6. Merged (5, class
    agnostic): [0,100] .9 decays [10,110] to .043561; [650,750] .7; [560,610] .6 decays
    [500,600] (tIoU 40/110) to .375083; then [500,600]; [10,110] is the last one left,
    never kept. Fused with the top 2 classes, scores rounded to 6 decimals, seconds
    (frames / 30) to 0.1: X .72 [0, 3.3], .56 [21.7, 25], .48 [18.7, 20.3],
    .300067 [16.7, 20]; Y .09, .07, .06, .037508 on the same segments."""
    a = _per_window([[0, 100], [0, 400], [10, 110], [500, 600]], [.9, .95, .8, .5])
    b = _per_window([[650, 750], [560, 610], [640, 1000]], [.7, .6, .4])
    np.testing.assert_allclose(a[1], [.9, .5, .186671], atol=5e-7)
    assert a[0].tolist() == [[0, 100], [500, 600], [10, 110]] and len(b[1]) == 2
    seg, scores, labels = merge_window_predictions(
        [a[0] / 30, b[0] / 30], [a[1], b[1]], class_scores=np.array([.8, .1]),
        taxonomy=['X', 'Y'], top_k_classes=2, **OFFICIAL_MERGE)
    assert labels == ['X'] * 4 + ['Y'] * 4
    np.testing.assert_allclose(scores, [.72, .56, .48, .300067, .09, .07, .06, .037508],
                               rtol=1e-9)
    expected = [[0.0, 3.3], [21.7, 25.0], [18.7, 20.3], [16.7, 20.0]] * 2
    np.testing.assert_allclose(seg, expected, atol=1e-12)


def test_thumos14_merge_gives_400_detections_without_long_proposals():
    """Two windows of 300 candidates (frames, fps 30), 20 % of them >= 300 frames: each
    window keeps 200 after its Soft-NMS (the long ones, zeroed, never), the merge keeps
    200 (of 400), fused with 2 classes: 400 detections, none as long as 300 frames,
    scores on 6 decimals, seconds on multiples of 0.1."""
    rng = np.random.default_rng(0)
    windows = []
    for offset in (0, 640):
        start = offset + rng.uniform(0, 1280, 300)
        length = np.where(rng.uniform(size=300) < 0.2, rng.uniform(300, 600, 300),
                          rng.uniform(5, 295, 300))
        windows.append(_per_window(np.stack([start, start + length], 1),
                                   rng.uniform(0.01, 1, 300)))
    assert [len(w[1]) for w in windows] == [200, 200]
    assert all(np.all(np.diff(w[0], axis=1) < 300) for w in windows)
    seg, scores, labels = merge_window_predictions(
        [w[0] / 30 for w in windows], [w[1] for w in windows],
        class_scores=rng.uniform(size=20), taxonomy=[f'c{i}' for i in range(20)],
        **OFFICIAL_MERGE)
    assert len(seg) == len(scores) == len(labels) == 400 and len(set(labels)) == 2
    assert np.all(np.diff(seg, axis=1) * 30 < 300 + 3)        # 0.05 s rounding each end
    np.testing.assert_allclose(scores, np.round(scores, 6), atol=0)
    np.testing.assert_allclose(seg * 10, np.round(seg * 10), atol=1e-9)

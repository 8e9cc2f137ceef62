"""Merge predictions of overlapping sliding windows (THUMOS style) back per video.

Long THUMOS14 videos are cut into windows of 256 features with overlap; a segment near
the overlap is predicted by two windows, so after concatenating the windows' segments
(already in seconds) the video's list is suppressed again. Two orders:

* windows fused with the classes one by one, then merged per class (the default);
* G-TAD THUMOS14's (frostinassiky/gtad ``master:gtad_postprocess.py::
  _gen_detection_video``): the windows' class-agnostic proposals merged by one Soft-NMS
  (``keep_last=False, stop_at_zero=True``: its loop), the best ``top_k`` (200) fused with
  the video's top-2 classes (``class_scores``: up to 400 detections), scores rounded to 6
  decimals and seconds to 0.1 (``round(x, n)`` of numpy floats, i.e. ``np.round``).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pal_eval.postprocess.fusion import fuse_proposals_with_classes
from pal_eval.postprocess.soft_nms import gaussian_soft_nms

__all__ = ['merge_window_predictions']


def merge_window_predictions(segments: Sequence[np.ndarray], scores: Sequence[np.ndarray],
                             labels: Sequence[Sequence[str]] | None = None, *,
                             sigma: float = 0.46, top_k: int = 200, keep_last: bool = True,
                             stop_at_zero: bool = False,
                             class_scores: np.ndarray | None = None,
                             taxonomy: Sequence[str] | None = None, top_k_classes: int = 2,
                             round_seconds: int | None = None, round_scores: int | None = None
                             ) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """Concatenate one video's window predictions and suppress them again.

    Args:
        segments: Per window, segments ``[K_i, 2]`` in seconds (video time).
        scores: Per window, scores ``[K_i]``.
        labels: Per window, class names (detections, merged per class) or None
            (proposals, merged together).
        sigma: Gaussian Soft-NMS sigma (G-TAD's 0.46 on THUMOS14).
        top_k: Keep at most this many per video (200 on THUMOS14; with ``class_scores``,
            this many proposals, each fused with ``top_k_classes`` classes).
        keep_last, stop_at_zero: The Soft-NMS loop
            (:func:`pal_eval.postprocess.soft_nms.soft_nms`; G-TAD: False, True).
        class_scores: The video's class scores in ``taxonomy`` order: merge the windows'
            class-agnostic proposals first, then fuse (G-TAD THUMOS14's order).
        taxonomy: Class names of ``class_scores``.
        top_k_classes: Classes per video of that fusion (2).
        round_seconds, round_scores: Decimals of the output (G-TAD THUMOS14: 1 and 6;
            None: unrounded).

    Returns:
        ``(segments, scores, labels)`` of the video, best first (with ``class_scores``:
        class by class, best class first).

    Examples:
        >>> seg, sc, _ = merge_window_predictions(
        ...     [np.array([[0., 10.]]), np.array([[0., 10.], [50., 60.]])],
        ...     [np.array([.9]), np.array([.8, .7])])
        >>> seg.tolist()
        [[0.0, 10.0], [50.0, 60.0], [0.0, 10.0]]
        >>> seg, sc, lab = merge_window_predictions(
        ...     [np.array([[0., 10.]]), np.array([[0., 10.], [50., 60.]])],
        ...     [np.array([.9]), np.array([.8, .7])], keep_last=False, stop_at_zero=True,
        ...     class_scores=np.array([.5, .25]), taxonomy=['a', 'b'], round_scores=6)
        >>> sc.tolist(), lab
        ([0.45, 0.35, 0.225, 0.175], ['a', 'a', 'b', 'b'])
    """
    all_segments = np.concatenate([np.asarray(s, np.float64).reshape(-1, 2) for s in segments])
    all_scores = np.concatenate([np.asarray(s, np.float64).reshape(-1) for s in scores])
    loop = dict(sigma=sigma, top_k=top_k, keep_last=keep_last, stop_at_zero=stop_at_zero)
    if class_scores is not None:
        if labels is not None:
            raise ValueError('class_scores fuses class-agnostic proposals: labels must be None')
        if len(all_scores) > 1:  # G-TAD: ``if len(df) > 1: df = Soft_NMS(df)``
            kept, merged_scores = gaussian_soft_nms(all_segments, all_scores, **loop)
            all_segments, all_scores = all_segments[kept], merged_scores
        order = np.argsort(-all_scores, kind='stable')[:top_k]
        out_segments, out_scores, out_labels = fuse_proposals_with_classes(
            all_segments[order], all_scores[order], class_scores, taxonomy,
            top_k_classes=top_k_classes)
        return _rounded(out_segments, out_scores, out_labels, round_seconds, round_scores)
    if labels is None:
        kept, new_scores = gaussian_soft_nms(all_segments, all_scores, **loop)
        return _rounded(all_segments[kept], new_scores, None, round_seconds, round_scores)
    all_labels = np.array([label for window in labels for label in window], dtype=object)
    parts_seg, parts_score, parts_label = [], [], []
    for name in dict.fromkeys(all_labels.tolist()):  # classes in first-seen order
        idx = np.flatnonzero(all_labels == name)
        kept, new_scores = gaussian_soft_nms(all_segments[idx], all_scores[idx], **loop)
        parts_seg.append(all_segments[idx][kept])
        parts_score.append(new_scores)
        parts_label += [name] * len(kept)
    merged_scores = np.concatenate(parts_score)
    order = np.argsort(-merged_scores, kind='stable')[:top_k]
    return _rounded(np.concatenate(parts_seg)[order], merged_scores[order],
                    [parts_label[i] for i in order], round_seconds, round_scores)


def _rounded(segments: np.ndarray, scores: np.ndarray, labels, round_seconds: int | None,
             round_scores: int | None):
    # np.round (x 10^n, round half to even, / 10^n), not Python's correctly rounded
    # round(): G-TAD calls round() on numpy floats, which numpy serves with np.round
    # (round(np.float64(10.35), 1) = 10.4, round(10.35, 1) = 10.3).
    if round_seconds is not None:
        segments = np.round(segments, int(round_seconds))
    if round_scores is not None:
        scores = np.round(scores, int(round_scores))
    return segments, scores, labels

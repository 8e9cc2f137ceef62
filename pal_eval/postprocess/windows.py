"""Merge predictions of overlapping sliding windows (THUMOS style) back per video.

Long THUMOS14 videos are cut into windows of 256 features with overlap; a segment near
the overlap is predicted by two windows, so after concatenating the windows' segments
(already in seconds) the video's list is suppressed again, per class for detections.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pal_eval.postprocess.soft_nms import gaussian_soft_nms

__all__ = ['merge_window_predictions']


def merge_window_predictions(segments: Sequence[np.ndarray], scores: Sequence[np.ndarray],
                             labels: Sequence[Sequence[str]] | None = None, *,
                             sigma: float = 0.46, top_k: int = 200
                             ) -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """Concatenate one video's window predictions and suppress them again.

    Args:
        segments: Per window, segments ``[K_i, 2]`` in seconds (video time).
        scores: Per window, scores ``[K_i]``.
        labels: Per window, class names (detections) or None (proposals).
        sigma: Gaussian Soft-NMS sigma (G-TAD's 0.46 on THUMOS14).
        top_k: Keep at most this many per video (200 on THUMOS14).

    Returns:
        ``(segments, scores, labels)`` of the video, best first.

    Examples:
        >>> seg, sc, _ = merge_window_predictions(
        ...     [np.array([[0., 10.]]), np.array([[0., 10.], [50., 60.]])],
        ...     [np.array([.9]), np.array([.8, .7])])
        >>> seg.tolist()
        [[0.0, 10.0], [50.0, 60.0], [0.0, 10.0]]
    """
    all_segments = np.concatenate([np.asarray(s, np.float64).reshape(-1, 2) for s in segments])
    all_scores = np.concatenate([np.asarray(s, np.float64).reshape(-1) for s in scores])
    if labels is None:
        kept, new_scores = gaussian_soft_nms(all_segments, all_scores, sigma=sigma, top_k=top_k)
        return all_segments[kept], new_scores, None
    all_labels = np.array([label for window in labels for label in window], dtype=object)
    parts_seg, parts_score, parts_label = [], [], []
    for name in dict.fromkeys(all_labels.tolist()):  # classes in first-seen order
        idx = np.flatnonzero(all_labels == name)
        kept, new_scores = gaussian_soft_nms(all_segments[idx], all_scores[idx], sigma=sigma,
                                             top_k=top_k)
        parts_seg.append(all_segments[idx][kept])
        parts_score.append(new_scores)
        parts_label += [name] * len(kept)
    merged_scores = np.concatenate(parts_score)
    order = np.argsort(-merged_scores, kind='stable')[:top_k]
    return (np.concatenate(parts_seg)[order], merged_scores[order],
            [parts_label[i] for i in order])

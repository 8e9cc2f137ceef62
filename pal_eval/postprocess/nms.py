"""Greedy hard non-maximum suppression of temporal segments (2D-TAN's ``nms``).

Built on :mod:`pal_eval.evaluation.tiou`, the project's one tIoU.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from pal_eval.evaluation.tiou import as_segments, segment_tiou

__all__ = ['nms']


def nms(segments: ArrayLike, scores: ArrayLike, iou_threshold: float,
        top_k: int | None = None) -> np.ndarray:
    """Greedy hard NMS: keep the best segment, drop those overlapping it by ``> iou_threshold``.

    Follows 2D-TAN's ``lib/core/eval.py::nms``: candidates are visited by decreasing
    score (a stable sort: among equal scores, input order wins); a candidate whose tIoU
    with a kept one is strictly greater than ``iou_threshold`` is suppressed; the search
    stops once ``top_k`` segments are kept.

    The loop runs once per *kept* segment (at most ``top_k``), each pass vectorised over
    the remaining candidates.

    Args:
        segments: ``[N, 2]`` array of ``[start, end]``.
        scores: ``[N]`` confidence scores.
        iou_threshold: Suppression threshold; ``>=1`` keeps everything.
        top_k: Keep at most this many (``None`` or ``<= 0``: no limit).

    Returns:
        int64 indices into ``segments`` of the kept segments, best first.

    Examples:
        >>> nms([[0, 10], [1, 10], [20, 30]], [0.9, 0.8, 0.7], 0.5).tolist()
        [0, 2]
    """
    segments = as_segments(segments) if len(segments) else np.zeros((0, 2))
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if scores.shape[0] != segments.shape[0]:
        raise ValueError(f'{segments.shape[0]} segments but {scores.shape[0]} scores')
    order = np.argsort(-scores, kind='stable')
    limit = order.size if top_k is None or top_k <= 0 else int(top_k)
    keep: list[int] = []
    while order.size and len(keep) < limit:
        best = order[0]
        keep.append(int(best))
        rest = order[1:]
        overlaps = segment_tiou(segments[best], segments[rest])
        order = rest[overlaps <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)

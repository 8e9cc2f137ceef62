"""Greedy hard non-maximum suppression of temporal segments (2D-TAN's ``nms``).

Built on :mod:`pal_eval.core.tiou`, the project's one tIoU. One algorithm serves a
single list (:func:`nms`) and many independent lists at once (:func:`batched_nms`, e.g.
every query of a grounding data set), so there is one NMS in the project.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from pal_eval.core.tiou import as_segments, paired_tiou

__all__ = ['nms', 'batched_nms']


def batched_nms(segments: ArrayLike, scores: ArrayLike, groups: ArrayLike,
                iou_threshold: float, top_k: int | None = None) -> np.ndarray:
    """Greedy hard NMS run independently inside each group, all groups at once.

    Inside a group, candidates are visited by decreasing score (stable: among equal
    scores, input order wins); a candidate whose tIoU with a kept one is strictly
    greater than ``iou_threshold`` is suppressed; at most ``top_k`` are kept.

    Rounds: each round keeps the best surviving candidate of every group and suppresses
    what overlaps it, so there are as many rounds as the most segments kept in one group
    (at most ``top_k``), each vectorised over all candidates still alive.

    Args:
        segments: ``[N, 2]`` array of ``[start, end]``.
        scores: ``[N]`` confidence scores.
        groups: ``[N]`` integer group of each candidate (e.g. query index).
        iou_threshold: Suppression threshold; ``>= 1`` keeps everything.
        top_k: Keep at most this many per group (``None`` or ``<= 0``: no limit).

    Returns:
        int64 indices of the kept candidates, sorted by (group, decreasing score).

    Examples:
        >>> batched_nms([[0, 10], [1, 10], [0, 10]], [0.9, 0.8, 0.1], [0, 0, 1], 0.5).tolist()
        [0, 2]
    """
    segments = as_segments(segments)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    groups = np.asarray(groups).reshape(-1)
    if not (scores.shape[0] == groups.shape[0] == segments.shape[0]):
        raise ValueError(f'{segments.shape[0]} segments, {scores.shape[0]} scores and '
                         f'{groups.shape[0]} groups')
    by_score = np.argsort(-scores, kind='stable')
    alive = by_score[np.argsort(groups[by_score], kind='stable')]
    limit = None if top_k is None or top_k <= 0 else int(top_k)
    kept: list[np.ndarray] = []
    rounds = 0
    while alive.size and (limit is None or rounds < limit):
        alive_groups = groups[alive]
        is_first = np.r_[True, alive_groups[1:] != alive_groups[:-1]]
        best = alive[is_first]
        kept.append(best)
        rounds += 1
        # the kept segment of each alive candidate's group, by run of equal groups
        best_of_candidate = best[np.cumsum(is_first) - 1]
        # 2D-TAN's nms divides 0 by 0 for a union of exactly 0 and keeps only
        # ``ovr <= threshold``: NaN is suppressed, as +inf is here.
        overlaps = paired_tiou(segments[alive], segments[best_of_candidate],
                               zero_union=np.inf)
        alive = alive[~is_first & (overlaps <= iou_threshold)]
    if not kept:
        return np.zeros(0, dtype=np.int64)
    result = np.concatenate(kept)
    # back to (group, score rank) order: rounds were appended round by round
    rank = np.empty(scores.shape[0], dtype=np.int64)
    rank[by_score] = np.arange(scores.shape[0])
    return result[np.lexsort((rank[result], groups[result]))].astype(np.int64)


def nms(segments: ArrayLike, scores: ArrayLike, iou_threshold: float,
        top_k: int | None = None) -> np.ndarray:
    """Greedy hard NMS: keep the best segment, drop those overlapping it by ``> iou_threshold``.

    Follows 2D-TAN's ``lib/core/eval.py::nms``: candidates are visited by decreasing
    score (a stable sort: among equal scores, input order wins); a candidate whose tIoU
    with a kept one is strictly greater than ``iou_threshold`` is suppressed; the search
    stops once ``top_k`` segments are kept. A pair whose union is exactly 0 (e.g. two
    zero-length segments) is suppressed, as 2D-TAN's 0/0 = NaN is.

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
    count = np.asarray(scores).reshape(-1).shape[0]
    return batched_nms(segments, scores, np.zeros(count, dtype=np.int64), iou_threshold,
                       top_k)

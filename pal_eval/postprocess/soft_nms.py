"""Gaussian Soft-NMS for 1-D segments (BMN's and G-TAD's variants) and top-k.

Soft-NMS (Bodla et al., ICCV 2017) lowers, instead of removing, the scores of segments
that overlap the current best one. Two published variants are used by the heads:

* **BMN** (Lin et al., ICCV 2019): Gaussian decay ``exp(-iou**2 / alpha)`` with
  ``alpha = 0.4``, applied only when the tIoU exceeds a threshold that grows with the
  width of the selected segment (relative to the video): ``low + (high - low) * width``
  with ``low = 0.5``, ``high = 0.9``. :func:`bmn_soft_nms`.
* **G-TAD** (Xu et al., CVPR 2020): plain Gaussian decay ``exp(-iou**2 / sigma)`` of
  every overlapping segment, ``sigma = 0.8`` on ActivityNet, ``0.46`` on THUMOS14.
  :func:`gaussian_soft_nms`. G-TAD's loop (``gtad_postprocess.py::Soft_NMS`` on both
  branches of frostinassiky/gtad) runs ``while len(remaining) > 1 and len(kept) <
  num_prop and max(remaining) > 0``: the last remaining candidate is never kept and a
  zero score ends the selection (``keep_last=False, stop_at_zero=True``); on THUMOS14 it
  first zeroes every candidate at least 300 frames long (``max_length``).

The selection is sequential by nature (each pick depends on the decays of the previous
ones), so one Python step per *kept* segment remains, but every step is a vector
operation over all candidates: O(top_k) numpy calls instead of mmaction2's
O(top_k x candidates) Python loop. The tIoU is the project's one implementation
(:mod:`pal_eval.core.tiou`, float64).
"""
from __future__ import annotations

import numpy as np

from pal_eval.core.tiou import segment_tiou

__all__ = ['soft_nms', 'bmn_soft_nms', 'gaussian_soft_nms', 'top_k_by_score']


def soft_nms(segments: np.ndarray, scores: np.ndarray, *, alpha: float,
             low_threshold: float = 0.0, high_threshold: float = 0.0,
             top_k: int | None = None, width_scale: float = 1.0, keep_last: bool = True,
             stop_at_zero: bool = False, max_length: float | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian Soft-NMS with an optional width-adaptive overlap threshold.

    At each step the highest (decayed) score among the remaining segments is kept;
    every remaining segment whose tIoU with it exceeds
    ``low_threshold + (high_threshold - low_threshold) * width / width_scale`` has its
    score multiplied by ``exp(-tiou**2 / alpha)``.

    Ties are broken as in mmaction2 (candidates first ordered by
    ``argsort(scores)[::-1]``, then the first maximum wins), so results match it. The
    defaults are mmaction2's loop (``while len(remaining) > 0 and ...``); G-TAD's differs
    in the three options below (module docstring).

    Args:
        segments: Float array ``[N, 2]`` of (start, end).
        scores: Float array ``[N]``.
        alpha: Gaussian decay parameter (BMN's alpha, G-TAD's sigma).
        low_threshold: Overlap threshold for a zero-width selected segment.
        high_threshold: Overlap threshold for a selected segment of width ``width_scale``.
        top_k: Keep at most this many segments (all when None).
        width_scale: The width that counts as 1 in the adaptive threshold (1.0 for
            segments normalised to the video, the duration for segments in seconds).
        keep_last: Keep the last remaining candidate (False: G-TAD's ``len > 1``).
        stop_at_zero: Stop when the best remaining score is 0 (G-TAD's ``max > 0``).
        max_length: Segments at least this long get score 0 first; they still count as
            remaining candidates (G-TAD THUMOS14: 300 frames). None: no such rule.

    Returns:
        ``(kept, kept_scores)``: indices into the input, in selection order (scores
        non-increasing), and their decayed scores (float64).

    Examples:
        >>> seg = np.array([[0., 10.], [1., 10.], [20., 30.]])
        >>> kept, new = soft_nms(seg, np.array([0.9, 0.8, 0.5]), alpha=0.4)
        >>> kept.tolist(), np.round(new, 3).tolist()
        ([0, 2, 1], [0.9, 0.5, 0.106])
        >>> soft_nms(seg, np.array([0.9, 0.8, 0.5]), alpha=0.4, keep_last=False)[0].tolist()
        [0, 2]
    """
    segments = np.asarray(segments, dtype=np.float64).reshape(-1, 2)
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    if len(segments) != len(scores):
        raise ValueError(f'{len(segments)} segments but {len(scores)} scores')
    if max_length is not None:
        scores = np.where(segments[:, 1] - segments[:, 0] >= max_length, 0.0, scores)
    order = scores.argsort()[::-1]
    ordered_segments = segments[order]
    current = scores[order].copy()
    remaining = np.ones(len(order), dtype=bool)
    limit = len(order) if top_k is None else min(int(top_k), len(order))
    if not keep_last:
        limit = min(limit, max(len(order) - 1, 0))
    kept = np.empty(limit, dtype=np.int64)
    kept_scores = np.empty(limit, dtype=np.float64)
    for step in range(limit):
        best = int(np.argmax(np.where(remaining, current, -np.inf)))
        if stop_at_zero and not current[best] > 0:
            kept, kept_scores = kept[:step], kept_scores[:step]
            break
        kept[step], kept_scores[step] = order[best], current[best]
        remaining[best] = False
        start, end = ordered_segments[best]
        threshold = low_threshold + (high_threshold - low_threshold) * (end - start) / width_scale
        overlaps = segment_tiou(ordered_segments[best], ordered_segments)
        decayed = remaining & (overlaps > threshold)
        current[decayed] *= np.exp(-np.square(overlaps[decayed]) / alpha)
    return kept, kept_scores


def bmn_soft_nms(segments: np.ndarray, scores: np.ndarray, *, alpha: float = 0.4,
                 low_threshold: float = 0.5, high_threshold: float = 0.9, top_k: int = 100,
                 width_scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """BMN's Soft-NMS (alpha 0.4, width-adaptive threshold 0.5..0.9, top 100).

    Args and Returns: as :func:`soft_nms`.

    Examples:
        >>> kept, _ = bmn_soft_nms(np.array([[0., .5], [0., .5]]), np.array([.2, .3]))
        >>> kept.tolist()
        [1, 0]
    """
    return soft_nms(segments, scores, alpha=alpha, low_threshold=low_threshold,
                    high_threshold=high_threshold, top_k=top_k, width_scale=width_scale)


def gaussian_soft_nms(segments: np.ndarray, scores: np.ndarray, *, sigma: float = 0.8,
                      top_k: int | None = 100, keep_last: bool = True,
                      stop_at_zero: bool = False, max_length: float | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
    """G-TAD's Gaussian Soft-NMS: every overlapping segment decays by ``exp(-iou^2/sigma)``.

    ``sigma`` is 0.8 on ActivityNet and 0.46 on THUMOS14 in G-TAD's released code, whose
    loop is ``keep_last=False, stop_at_zero=True`` (and ``max_length`` 300 frames on
    THUMOS14; module docstring).

    Args and Returns: as :func:`soft_nms`.

    Examples:
        >>> _, new = gaussian_soft_nms(np.array([[0., 2.], [1., 2.]]), np.array([1., 1.]))
        >>> round(float(new[1]), 4) == round(float(np.exp(-0.25 / 0.8)), 4)
        True
    """
    return soft_nms(segments, scores, alpha=sigma, top_k=top_k, keep_last=keep_last,
                    stop_at_zero=stop_at_zero, max_length=max_length)


def top_k_by_score(scores: np.ndarray, k: int | None) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first (stable for ties).

    Examples:
        >>> top_k_by_score(np.array([.1, .5, .5, .3]), 3).tolist()
        [1, 2, 3]
    """
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind='stable')
    return order if k is None else order[:k]

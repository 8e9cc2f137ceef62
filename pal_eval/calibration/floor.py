"""Feature-free floors: the best fixed predictions learned from training ground truth.

A head that cannot beat these has learned nothing from its features: they know only
where and how long actions (or query moments) tend to be, relative to the video. The
*floor* row of every calibrated leaderboard is one of them, scored by the same metric
as the heads.

Every floor predictor predicts the same *relative* segments for every video (scaled by
its duration), ranked. They are chosen greedily from a fine grid of candidates (all
``[i / G, j / G]``, ``0 <= i < j <= G``) to cover as much training ground truth as
possible:

* **proposals** (:func:`fixed_proposals`): each step adds the candidate with the
  largest gain in ``sum over ground truths of mean over tIoU thresholds of
  [best tIoU so far >= threshold]``, the quantity AR averages; the order of selection
  is the ranking (greedy maximisation of this coverage function, which is monotone
  submodular, is within ``1 - 1/e`` of the best set of that size);
* **detection** (:func:`fixed_detections`): the same, on each class's training
  instances: every video gets every class's fixed list (a per-class ranking is what
  AP measures; extra low-scored detections never lower AP);
* **grounding** (:func:`fixed_moments`): each step adds the candidate hitting most
  training moments (tIoU ``> iou``, the R@n criterion) not yet hit, skipping
  candidates that the evaluator's NMS would suppress.

The core is numpy only; the writers produce the submission formats of
:mod:`pal_eval.data.submission`.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pal_eval.core.tiou import pairwise_tiou

__all__ = ['candidate_grid', 'relative_segments', 'greedy_coverage', 'fixed_proposals',
           'fixed_detections', 'fixed_moments', 'proposal_frame', 'detection_frame',
           'grounding_frame', 'DEFAULT_GRID', 'MAX_TRAINING_SEGMENTS']

#: candidate grid size ``G`` (relative positions ``0, 1/G, ..., 1``)
DEFAULT_GRID = 100
#: training segments kept (a seeded sample) when there are more, to bound the memory
MAX_TRAINING_SEGMENTS = 4000


def candidate_grid(grid: int = DEFAULT_GRID) -> np.ndarray:
    """Every relative segment ``[i / G, j / G]`` with ``0 <= i < j <= G``.

    Examples:
        >>> candidate_grid(2).tolist()
        [[0.0, 0.5], [0.0, 1.0], [0.5, 1.0]]
    """
    start, end = np.triu_indices(grid + 1, k=1)
    return np.stack([start, end], 1).astype(np.float64) / grid


def relative_segments(segments: np.ndarray, durations: np.ndarray) -> np.ndarray:
    """Segments (seconds) divided by their video's duration, clipped to ``[0, 1]``.

    Examples:
        >>> relative_segments(np.array([[1.0, 3.0]]), np.array([4.0])).tolist()
        [[0.25, 0.75]]
    """
    segments = np.asarray(segments, np.float64).reshape(-1, 2)
    return (segments / np.asarray(durations, np.float64).reshape(-1, 1)).clip(0.0, 1.0)


def _sample(segments: np.ndarray, limit: int, seed: int) -> np.ndarray:
    if len(segments) <= limit:
        return segments
    keep = np.sort(np.random.default_rng(seed).choice(len(segments), limit, replace=False))
    return segments[keep]


def greedy_coverage(tiou: np.ndarray, thresholds: Sequence[float], count: int, *,
                    strict: bool = False, exclusive: np.ndarray | None = None
                    ) -> list[int]:
    """Greedy selection of candidates maximising thresholded coverage of the targets.

    The value of a selection is ``sum over targets of mean over thresholds of
    [max tIoU with a selected candidate >= threshold]`` (``>`` when ``strict``).

    Args:
        tiou: ``[K, M]`` tIoU of each candidate with each target.
        thresholds: The thresholds averaged.
        count: How many candidates to select (fewer when no candidate is left).
        strict: Use ``>`` (grounding recall) instead of ``>=`` (ActivityNet).
        exclusive: Optional ``[K, K]`` bool: a selected candidate removes those it marks
            (NMS suppression).

    Returns:
        Candidate indices in the order selected. Ties go to the lowest index; once no
        candidate adds anything, the rest are taken by decreasing total coverage.

    Examples:
        >>> tiou = np.array([[1.0, 0.0], [0.6, 0.6], [0.0, 1.0]])
        >>> greedy_coverage(tiou, [0.5], 2)
        [1, 0]
    """
    thresholds = np.asarray(thresholds, np.float64)
    hit = (tiou[:, :, None] > thresholds) if strict else (tiou[:, :, None] >= thresholds)
    value = hit.mean(axis=2)                                   # [K, M] per-target value
    covered = np.zeros(tiou.shape[1])
    available = np.ones(tiou.shape[0], bool)
    chosen: list[int] = []
    fallback = value.sum(axis=1)
    while len(chosen) < count and available.any():
        gain = np.where(available, np.maximum(value - covered, 0.0).sum(axis=1), -1.0)
        best = int(np.argmax(gain))
        if gain[best] <= 0:  # nothing left to gain: the most useful remaining ones
            best = int(np.argmax(np.where(available, fallback, -1.0)))
        chosen.append(best)
        covered = np.maximum(covered, value[best])
        available[best] = False
        if exclusive is not None:
            available &= ~exclusive[best]
    return chosen


def fixed_proposals(train_segments: np.ndarray, *, count: int = 100,
                    thresholds: Sequence[float] = tuple(np.linspace(0.5, 0.95, 10)),
                    grid: int = DEFAULT_GRID, seed: int = 0) -> np.ndarray:
    """The ``count`` relative proposals that cover training ground truth best, ranked.

    Args:
        train_segments: ``[M, 2]`` relative training segments.
        count: Proposals per video.
        thresholds: tIoU thresholds of the metric (ActivityNet: 0.5:0.05:0.95).
        grid: Candidate grid size.
        seed: Seed of the sample taken when there are more than
            :data:`MAX_TRAINING_SEGMENTS` segments.

    Returns:
        ``[count, 2]`` relative segments, best first.
    """
    targets = _sample(np.asarray(train_segments, np.float64).reshape(-1, 2),
                      MAX_TRAINING_SEGMENTS, seed)
    if len(targets) == 0:
        raise ValueError('no training segments to learn fixed proposals from')
    candidates = candidate_grid(grid)
    chosen = greedy_coverage(pairwise_tiou(candidates, targets), thresholds, count)
    return candidates[chosen]


def fixed_detections(train_segments: np.ndarray, train_labels: Sequence[str], *,
                     count: int = 100,
                     thresholds: Sequence[float] = tuple(np.linspace(0.5, 0.95, 10)),
                     grid: int = DEFAULT_GRID, seed: int = 0
                     ) -> dict[str, np.ndarray]:
    """Per class, the fixed proposals learned from that class's training instances."""
    labels = np.asarray(list(train_labels), dtype=object)
    segments = np.asarray(train_segments, np.float64).reshape(-1, 2)
    return {str(name): fixed_proposals(segments[labels == name], count=count,
                                       thresholds=thresholds, grid=grid, seed=seed)
            for name in dict.fromkeys(labels.tolist())}


def fixed_moments(train_moments: np.ndarray, *, count: int = 5, iou: float = 0.5,
                  nms_thresh: float = 0.5, grid: int = DEFAULT_GRID,
                  seed: int = 0) -> np.ndarray:
    """The ``count`` relative moments hitting most training moments (tIoU > ``iou``).

    The first is the best single moment (R@1 of a fixed guess); each next one hits most
    of the moments still missed, among those the evaluator's NMS (tIoU >
    ``nms_thresh`` with an earlier one) would keep.
    """
    targets = _sample(np.asarray(train_moments, np.float64).reshape(-1, 2),
                      MAX_TRAINING_SEGMENTS, seed)
    if len(targets) == 0:
        raise ValueError('no training moments to learn fixed moments from')
    candidates = candidate_grid(grid)
    tiou = pairwise_tiou(candidates, targets, union='hull')
    exclusive = pairwise_tiou(candidates, candidates) > nms_thresh
    chosen = greedy_coverage(tiou, [iou], count, strict=True, exclusive=exclusive)
    return candidates[chosen]


# ------------------------------------------------------------- predictions (frames)
def _ranked_scores(count: int) -> np.ndarray:
    """Scores ``1, (n-1)/n, ..., 1/n``: the selection order, as a ranking."""
    return (count - np.arange(count)) / float(count)


def proposal_frame(relative: np.ndarray, durations: dict[str, float]):
    """The same relative proposals on every video, in seconds (a submission frame)."""
    import pandas as pd

    scores = _ranked_scores(len(relative))
    rows = [(video, *(segment * duration), score) for video, duration in durations.items()
            for segment, score in zip(relative, scores)]
    return pd.DataFrame(rows, columns=['video_id', 't_start', 't_end', 'score'])


def detection_frame(per_class: dict[str, np.ndarray], durations: dict[str, float]):
    """Every class's fixed proposals on every video (a detection submission frame)."""
    import pandas as pd

    frames = []
    for label, relative in per_class.items():
        frame = proposal_frame(relative, durations)
        frames.append(frame.assign(label=label))
    return pd.concat(frames, ignore_index=True)[['video_id', 't_start', 't_end', 'score',
                                                  'label']]


def grounding_frame(relative: np.ndarray, queries):
    """The same relative moments for every query (a grounding prediction frame)."""
    import pandas as pd

    scores = _ranked_scores(len(relative))
    rows = [(str(query), *(segment * float(duration)), score)
            for query, duration in zip(queries['query_id'], queries['duration'])
            for segment, score in zip(relative, scores)]
    return pd.DataFrame(rows, columns=['query_id', 't_start', 't_end', 'score'])

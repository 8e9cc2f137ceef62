"""Natural-language grounding recall ``R@n,IoU=m`` and mIoU (2D-TAN ``lib/core/eval.py``).

Per query: candidates ranked by score (stable), greedy hard NMS at tIoU
``nms_threshold`` keeping at most ``max(recalls)`` (:func:`pal_eval.postprocess.nms.batched_nms`,
2D-TAN's ``nms``), then

* ``R@n,IoU=m`` = fraction of queries where one of the top ``n`` kept candidates has
  IoU with the ground truth *strictly greater* than ``m``;
* ``mIoU`` = mean over queries of the IoU of the top-1 kept candidate.

IoU uses the hull form of the union (``max(ends) - min(starts)``), as 2D-TAN's ``iou``.

Moment times are used as given, in float64 (``time_precision='float64'``, the default).
2D-TAN itself holds them in float32 (:func:`float32_moment_times`), which moves tIoUs
that equal the NMS threshold (0.5 between grid moments is common) to either side of it
and so changes which candidates reach the top 5: ``time_precision='float32'`` evaluates
our predictions as 2D-TAN's code would (R@5 parity), and needs each query's duration.
A query without any prediction counts as a miss with IoU 0 (2D-TAN would crash).
Predictions for query ids absent from the ground truth are dropped and counted
(``strict=True`` raises).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pal_eval.core.tiou import as_segments, paired_tiou
from pal_eval.errors import PalEvalError
from pal_eval.evaluation.grouping import codes_in
from pal_eval.postprocess.nms import batched_nms

__all__ = ['GroundingResult', 'evaluate_grounding', 'recall_key', 'UnknownQueryError',
           'float32_moment_times', 'TIME_PRECISIONS']

#: Values of ``time_precision``: exact float64 times, or 2D-TAN's float32 ones.
TIME_PRECISIONS = ('float64', 'float32')


class UnknownQueryError(PalEvalError):
    """Predictions name queries that are not in the ground truth (``strict`` mode)."""


def recall_key(n: int, m: float) -> str:
    """The metric name of ``R@n,IoU=m``, e.g. ``'R@1,IoU=0.5'``.

    Examples:
        >>> recall_key(5, 0.7)
        'R@5,IoU=0.7'
    """
    return f'R@{n},IoU={m:g}'


def check_time_precision(name: str) -> str:
    """``name`` if it is one of :data:`TIME_PRECISIONS`, else a one-line error."""
    if name not in TIME_PRECISIONS:
        raise PalEvalError(f'time_precision must be one of {", ".join(TIME_PRECISIONS)}, '
                           f'got {name!r}')
    return name


def float32_moment_times(segments, durations) -> np.ndarray:
    """Moment times as 2D-TAN holds them: ``float32(float32(t / d) * float32(d))``.

    2D-TAN (``get_proposal_results`` of ``moment_localization/{train,test}.py``) turns
    cell ``(a, b)`` of an ``N``-clip map into seconds as the float32 tensor
    ``[a, b + 1] / N * duration``: the fraction (exact in float32, N being a power of
    two) times the duration rounded to float32, the product rounded to float32. Its
    ``eval.py`` then runs NMS and IoU in float64 on those values. For times of a map
    over ``[0, d]`` computed in float64, ``t / d`` rounds back to the exact fraction in
    float32, so this returns 2D-TAN's numbers bit for bit (checked for every cell of
    20,000 random durations, N = 16 and 64). Other times are rounded the same way.

    Args:
        segments: ``[K, 2]`` times in seconds.
        durations: ``[K]`` duration of each segment's video (> 0).

    Returns:
        float64 ``[K, 2]`` holding float32 values.

    Examples:
        >>> float32_moment_times([[0.0, 30.96 * 3 / 16]], [30.96]).tolist()
        [[0.0, 5.804999828338623]]
    """
    segments = as_segments(segments)
    durations = np.asarray(durations, dtype=np.float64).reshape(-1, 1)
    fractions = (segments / durations).astype(np.float32)
    return (fractions * durations.astype(np.float32)).astype(np.float64)


@dataclass
class GroundingResult:
    """Grounding metrics; fractions in [0, 1].

    Attributes:
        recall: ``{(n, m): R@n,IoU=m}``.
        miou: Mean top-1 IoU.
        num_queries: Queries evaluated.
        num_unmatched_predictions: Predictions dropped (unknown query ids).
    """

    recall: dict[tuple[int, float], float]
    miou: float
    num_queries: int
    num_unmatched_predictions: int = 0
    unknown_queries: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Flat ``{'R@1,IoU=0.5': .., ..., 'mIoU': ..}`` (the ``--out`` JSON)."""
        out = {recall_key(n, m): value for (n, m), value in self.recall.items()}
        out['mIoU'] = self.miou
        return out


def evaluate_grounding(queries: pd.DataFrame, predictions: pd.DataFrame,
                       recalls: Sequence[int] = (1, 5),
                       ious: Sequence[float] = (0.3, 0.5, 0.7),
                       nms_threshold: float = 0.5, strict: bool = False,
                       time_precision: str = 'float64') -> GroundingResult:
    """2D-TAN grounding metrics.

    Args:
        queries: Ground truth, columns ``query_id``, ``t_start``, ``t_end``
            (``GroundingAnnotations.queries``).
        predictions: ``query_id``, ``t_start``, ``t_end``, ``score`` in file order.
        recalls: The ``n`` of ``R@n``.
        ious: The ``m`` of ``IoU=m`` (strict ``>``).
        nms_threshold: NMS tIoU threshold (``>= 1`` disables NMS).
        strict: Raise on predictions for unknown query ids instead of dropping them.
        time_precision: ``'float64'``: times as given; ``'float32'``: 2D-TAN's float32
            times (:func:`float32_moment_times`, from ``queries['duration']``) for the NMS
            and the IoU with the ground truth, whose times stay float64 as in 2D-TAN.

    Returns:
        A :class:`GroundingResult`.

    Examples:
        >>> gt = pd.DataFrame({'query_id': ['q'], 't_start': [0.0], 't_end': [10.0]})
        >>> pred = pd.DataFrame({'query_id': ['q', 'q'], 't_start': [0.0, 0.0],
        ...                      't_end': [4.0, 9.0], 'score': [0.9, 0.8]})
        >>> evaluate_grounding(gt, pred, recalls=[1, 2], ious=[0.5]).to_dict()
        {'R@1,IoU=0.5': 0.0, 'R@2,IoU=0.5': 1.0, 'mIoU': 0.4}
    """
    if len(queries) == 0:
        raise PalEvalError('no ground-truth queries to evaluate (empty subset?)')
    recalls = [int(n) for n in recalls]
    if not recalls or min(recalls) < 1:
        raise PalEvalError(f'recalls must be positive integers, got {recalls}')
    ious = [float(m) for m in ious]
    check_time_precision(time_precision)
    query_index = pd.Index(queries['query_id'].astype(str).to_numpy())
    if query_index.has_duplicates:
        raise PalEvalError('duplicate query ids in the ground truth')

    query = codes_in(predictions['query_id'].astype(str).to_numpy(), query_index)
    known = query >= 0
    unknown = []
    if not known.all():
        unknown = pd.unique(predictions.loc[~known, 'query_id'].astype(str)).tolist()
        if strict:
            raise UnknownQueryError(f'{int((~known).sum())} predictions for query ids not in '
                                    f'the ground truth: {", ".join(unknown[:5])}')
    segments = predictions[['t_start', 't_end']].to_numpy(dtype=np.float64)[known]
    scores = predictions['score'].to_numpy(dtype=np.float64)[known]
    query = query[known]
    if time_precision == 'float32':
        durations = queries['duration'].to_numpy(dtype=np.float64)
        missing = ~(durations[query] > 0)
        if missing.any():
            raise PalEvalError(f"time_precision='float32' needs each query's video duration: "
                               f'{len(np.unique(query[missing]))} queries with predictions '
                               'have none (Charades-STA txt: give the durations, e.g. the '
                               'canonical grounding JSON)')
        segments = float32_moment_times(segments, durations[query])

    kept = batched_nms(segments, scores, query, nms_threshold, top_k=max(recalls))
    kept_query = query[kept]
    # position of each kept candidate in its query's ranked list (kept is query-sorted)
    first = np.r_[True, kept_query[1:] != kept_query[:-1]]
    run_start = np.maximum.accumulate(np.where(first, np.arange(kept.size), 0))
    position = np.arange(kept.size) - run_start
    gt_segments = queries[['t_start', 't_end']].to_numpy(dtype=np.float64)[kept_query]
    overlap = paired_tiou(segments[kept], gt_segments, union='hull')

    num_queries = len(queries)
    recall = {}
    for n in recalls:
        for m in ious:
            hit = np.zeros(num_queries, dtype=bool)
            hit[kept_query[(position < n) & (overlap > m)]] = True
            recall[(n, m)] = float(hit.mean())
    top1 = np.zeros(num_queries, dtype=np.float64)
    top1[kept_query[position == 0]] = overlap[position == 0]
    return GroundingResult(recall=recall, miou=float(top1.mean()), num_queries=num_queries,
                           num_unmatched_predictions=int((~known).sum()),
                           unknown_queries=unknown)

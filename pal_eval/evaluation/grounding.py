"""Natural-language grounding recall ``R@n,IoU=m`` and mIoU (2D-TAN ``lib/core/eval.py``).

Per query: candidates ranked by score (stable), greedy hard NMS at tIoU
``nms_threshold`` keeping at most ``max(recalls)`` (:func:`pal_eval.postprocess.nms.batched_nms`,
2D-TAN's ``nms``), then

* ``R@n,IoU=m`` = fraction of queries where one of the top ``n`` kept candidates has
  IoU with the ground truth *strictly greater* than ``m``;
* ``mIoU`` = mean over queries of the IoU of the top-1 kept candidate.

IoU uses the hull form of the union (``max(ends) - min(starts)``), as 2D-TAN's ``iou``.
A query without any prediction counts as a miss with IoU 0 (2D-TAN would crash).
Predictions for query ids absent from the ground truth are dropped and counted
(``strict=True`` raises).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pal_eval.core.tiou import paired_tiou
from pal_eval.errors import PalEvalError
from pal_eval.evaluation.grouping import codes_in
from pal_eval.postprocess.nms import batched_nms

__all__ = ['GroundingResult', 'evaluate_grounding', 'recall_key', 'UnknownQueryError']


class UnknownQueryError(PalEvalError):
    """Predictions name queries that are not in the ground truth (``strict`` mode)."""


def recall_key(n: int, m: float) -> str:
    """The metric name of ``R@n,IoU=m``, e.g. ``'R@1,IoU=0.5'``.

    Examples:
        >>> recall_key(5, 0.7)
        'R@5,IoU=0.7'
    """
    return f'R@{n},IoU={m:g}'


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
                       nms_threshold: float = 0.5, strict: bool = False) -> GroundingResult:
    """2D-TAN grounding metrics.

    Args:
        queries: Ground truth, columns ``query_id``, ``t_start``, ``t_end``
            (``GroundingAnnotations.queries``).
        predictions: ``query_id``, ``t_start``, ``t_end``, ``score`` in file order.
        recalls: The ``n`` of ``R@n``.
        ious: The ``m`` of ``IoU=m`` (strict ``>``).
        nms_threshold: NMS tIoU threshold (``>= 1`` disables NMS).
        strict: Raise on predictions for unknown query ids instead of dropping them.

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

"""Proposal average recall vs average number of proposals (AR@AN) and its AUC.

Reproduces ActivityNet ``Evaluation/eval_proposal.py::average_recall_vs_avg_nr_proposals``
step by step, in float64 and without the per-video / per-percentage Python loops:

* ``ratio = max_avg_proposals * V / P`` with ``V`` the ground-truth videos (videos with
  at least one instance) and ``P`` all submitted proposals, unknown videos included;
* each ground-truth video keeps its top ``min(int(n * ratio), n)`` proposals by score
  (stable sort: ties keep file order); a video without proposals counts as width 1;
* for each percentage ``p = 1..100`` of the kept proposals,
  ``k = min(int(width * pcn[p]), width)`` with
  ``pcn = arange(1, 101) / 100.0 * (max_avg_proposals * V / total_kept)``, a ground
  truth is recalled when one of the first ``k`` proposals has tIoU >= threshold;
* recall per threshold = recalled / total ground truths; the AR curve averages the
  thresholds; ``avg_proposals = pcn * total_kept / V``; AUC = trapezoid area / last x.

The per-percentage counting becomes one comparison: a ground truth is recalled at
percentage ``p`` iff the rank of its first hit is below ``k``. Only the first-hit rank
per (ground truth, threshold) is computed, from the flat list of (ground truth,
kept proposal) pairs of the same video.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pal_eval.core.tiou import paired_tiou
from pal_eval.errors import PalEvalError
from pal_eval.evaluation.detection import (
    ANET_TIOU_THRESHOLDS,
)
from pal_eval.evaluation.grouping import check_thresholds, codes_in, pairs_within_groups

__all__ = ['ProposalResult', 'evaluate_proposals', 'DEFAULT_AR_AT']

#: The AR@AN points reported by default (ActivityNet / BMN papers).
DEFAULT_AR_AT: tuple[int, ...] = (1, 5, 10, 50, 100)


@dataclass
class ProposalResult:
    """AR@AN results; recalls are fractions in [0, 1].

    Attributes:
        tiou_thresholds: The thresholds (rows of ``recall``).
        recall: ``[T, 100]`` recall per threshold and percentage of kept proposals.
        average_recall: ``[100]`` recall averaged over thresholds (the AR curve).
        avg_proposals: ``[100]`` average number of proposals per video (its x axis).
        auc: Area under the curve divided by its last x value.
        ar_at: ``{n: AR@n}`` for the requested ``n``.
    """

    tiou_thresholds: list[float]
    recall: np.ndarray
    average_recall: np.ndarray
    avg_proposals: np.ndarray
    auc: float
    ar_at: dict[int, float]

    def to_dict(self) -> dict:
        """The JSON form written by ``pal-eval evaluate proposal --out``."""
        out: dict = {'tiou_thresholds': self.tiou_thresholds}
        out.update({f'AR@{n}': value for n, value in self.ar_at.items()})
        out['AUC'] = self.auc
        out['curve'] = {'avg_proposals': self.avg_proposals.tolist(),
                        'average_recall': self.average_recall.tolist()}
        return out


def evaluate_proposals(ground_truth: pd.DataFrame, proposals: pd.DataFrame,
                       max_avg_proposals: float = 100,
                       tiou_thresholds: Sequence[float] = ANET_TIOU_THRESHOLDS,
                       ar_at: Sequence[int] = DEFAULT_AR_AT) -> ProposalResult:
    """ActivityNet AR@AN curve, AR@n and AUC.

    Args:
        ground_truth: Instances of the evaluated subset: ``video_id``, ``t_start``,
            ``t_end`` (a ``label`` column is ignored).
        proposals: ``video_id``, ``t_start``, ``t_end``, ``score`` in file order.
        max_avg_proposals: Largest average number of proposals per video (x range).
        tiou_thresholds: Thresholds in (0, 1].
        ar_at: Report AR at these average numbers of proposals; each must be a point of
            the curve (``n * 100 / max_avg_proposals`` an integer in 1..100).

    Returns:
        A :class:`ProposalResult`.

    Raises:
        PalEvalError: no ground truth, no proposals, none kept for ground-truth videos,
            or an ``ar_at`` value that is not on the curve.

    Examples:
        >>> gt = pd.DataFrame({'video_id': ['a'], 't_start': [0.0], 't_end': [10.0]})
        >>> props = pd.DataFrame({'video_id': ['a', 'a'], 't_start': [20.0, 0.0],
        ...                       't_end': [30.0, 9.0], 'score': [0.9, 0.8]})
        >>> result = evaluate_proposals(gt, props, max_avg_proposals=2, tiou_thresholds=[0.5],
        ...                             ar_at=[1, 2])
        >>> result.ar_at   # the 2nd proposal finds it
        {1: 0.0, 2: 1.0}
    """
    thresholds = check_thresholds(tiou_thresholds)
    if len(ground_truth) == 0:
        raise PalEvalError('no ground-truth instances to evaluate (empty subset?)')
    if len(proposals) == 0:
        raise PalEvalError('no proposals to evaluate')
    if not max_avg_proposals > 0:
        raise PalEvalError(f'max_avg_proposals must be positive, got {max_avg_proposals}')
    ar_index = _ar_indices(ar_at, max_avg_proposals)

    videos = pd.Index(pd.unique(ground_truth['video_id'].to_numpy()))
    num_videos = len(videos)
    ratio = max_avg_proposals * float(num_videos) / len(proposals)

    # Rank each ground-truth video's proposals by score (stable), keep the top int(n*ratio).
    video = codes_in(proposals['video_id'].to_numpy(), videos)
    scores = proposals['score'].to_numpy(dtype=np.float64)
    by_score = np.argsort(-scores, kind='stable')
    by_score = by_score[video[by_score] >= 0]
    order = by_score[np.argsort(video[by_score], kind='stable')]
    sorted_video = video[order]
    per_video = np.bincount(sorted_video, minlength=num_videos)
    video_start = np.cumsum(per_video) - per_video
    rank = np.arange(order.size) - video_start[sorted_video]
    kept_per_video = np.minimum((per_video * ratio).astype(np.int64), per_video)
    total_kept = int(kept_per_video.sum())
    if total_kept == 0:
        raise PalEvalError('no proposal is kept for the ground-truth videos (are the video '
                           'ids those of the ground truth?)')
    keep = rank < kept_per_video[sorted_video]
    kept_segments = proposals[['t_start', 't_end']].to_numpy(dtype=np.float64)[order[keep]]
    kept_video, kept_rank = sorted_video[keep], rank[keep]

    # Ground truths sorted by video; pairs (kept proposal, ground truth of its video).
    gt_video = videos.get_indexer(ground_truth['video_id'].to_numpy())
    gt_order = np.argsort(gt_video, kind='stable')
    gt_per_video = np.bincount(gt_video, minlength=num_videos)
    gt_start = np.cumsum(gt_per_video) - gt_per_video
    gt_segments = ground_truth[['t_start', 't_end']].to_numpy(dtype=np.float64)[gt_order]
    pair_prop, pair_gt = pairs_within_groups(kept_video, gt_start, gt_per_video)
    pair_tiou = paired_tiou(gt_segments[pair_gt], kept_segments[pair_prop])

    # First-hit rank of every ground truth per threshold (no hit: larger than any k).
    num_gt = len(ground_truth)
    no_hit = np.iinfo(np.int64).max
    first_hit = np.full((thresholds.size, num_gt), no_hit, dtype=np.int64)
    by_gt = np.argsort(pair_gt, kind='stable')
    pair_gt, pair_tiou = pair_gt[by_gt], pair_tiou[by_gt]
    pair_rank = kept_rank[pair_prop[by_gt]]
    if pair_gt.size:
        starts = np.flatnonzero(np.r_[True, pair_gt[1:] != pair_gt[:-1]])
        for t, threshold in enumerate(thresholds):
            ranks = np.where(pair_tiou >= threshold, pair_rank, no_hit)
            first_hit[t, pair_gt[starts]] = np.minimum.reduceat(ranks, starts)

    # Official per-percentage proposal counts, integer truncations included.
    pcn = np.arange(1, 101) / 100.0 * (max_avg_proposals * float(num_videos) / total_kept)
    width = np.where(per_video > 0, kept_per_video, 1)  # a video without proposals: (n, 1)
    counts = np.minimum((width[:, None] * pcn[None, :]).astype(np.int64), width[:, None])
    gt_counts = counts[gt_video[gt_order]]  # [G, 100], ground truths in sorted order
    recalled = (first_hit[:, :, None] < gt_counts[None, :, :]).sum(axis=1)
    recall = recalled / float(num_gt)
    average_recall = recall.mean(axis=0)
    avg_proposals = pcn * (float(total_kept) / num_videos)
    auc = float(np.trapezoid(average_recall, avg_proposals)) / avg_proposals[-1]
    return ProposalResult(
        tiou_thresholds=thresholds.tolist(), recall=recall, average_recall=average_recall,
        avg_proposals=avg_proposals, auc=float(auc),
        ar_at={int(n): float(average_recall[i]) for n, i in ar_index.items()})


def _ar_indices(ar_at: Sequence[int], max_avg_proposals: float) -> dict[int, int]:
    """Curve index of each requested AR@n (percentage ``n / max_avg_proposals``)."""
    indices = {}
    for n in ar_at:
        position = float(n) * 100.0 / max_avg_proposals
        index = int(round(position))
        if not (1 <= index <= 100 and abs(position - index) < 1e-9):
            raise PalEvalError(f'AR@{n} is not a point of the AR@AN curve with '
                               f'max_avg_proposals={max_avg_proposals} (need n = k * '
                               f'{max_avg_proposals} / 100, k in 1..100)')
        indices[int(n)] = index - 1
    return indices

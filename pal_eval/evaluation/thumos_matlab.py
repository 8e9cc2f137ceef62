"""THUMOS14 detection mAP as the official MATLAB kit computes it (``TH14evalDet.m``).

``pal-eval evaluate detection --protocol thumos14-matlab``. It differs from the
ActivityNet-style protocol (:mod:`pal_eval.evaluation.detection`) that the TAL
literature reports for THUMOS14 in four ways:

1. **Matching is ground-truth driven.** Per video and class, detections are sorted by
   confidence; then each ground truth, in file order, takes among the still free
   detections the one of highest overlap (ties: the most confident), if that overlap
   is *strictly greater* than the threshold. (ANet: each detection, by score, takes the
   best free ground truth if tIoU >= threshold.)
2. **Ambiguous segments.** A detection that is not a true positive and overlaps
   (positive intersection) any 'Ambiguous' segment of its video is dropped, neither
   true nor false positive. (ANet-style files omit Ambiguous; such a detection is a
   false positive there.)
3. **AP is not interpolated:** ``AP = sum(precision at each true positive) / npos``.
   (ANet: VOC all-point interpolated precision, never lower.)
4. Overlap uses the hull union ``max(ends) - min(starts)`` (MATLAB
   ``intervalsingleoverlapvalseconds``, which also flips a reversed detection);
   detections are globally ordered by confidence with ties in (video name, rank in
   video) order, as MATLAB's stable ``sort`` over its per-video concatenation.

So MATLAB numbers are usually a little *lower* than ANet-style ones (no interpolation,
strict ``>``), partly offset by the dropped Ambiguous detections; see docs/metrics.md
for measured examples.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from pal_eval.core.tiou import paired_tiou
from pal_eval.errors import PalEvalError
from pal_eval.evaluation.detection import (
    THUMOS14_TIOU_THRESHOLDS,
    DetectionResult,
    UnknownLabelError,
)
from pal_eval.evaluation.grouping import check_thresholds, codes_in, pairs_within_groups

__all__ = ['evaluate_thumos14_matlab']


def evaluate_thumos14_matlab(ground_truth: pd.DataFrame, predictions: pd.DataFrame,
                             ambiguous: pd.DataFrame | None = None,
                             tiou_thresholds: Sequence[float] = THUMOS14_TIOU_THRESHOLDS,
                             strict: bool = False) -> DetectionResult:
    """THUMOS14 official-MATLAB detection AP per class and threshold.

    Args:
        ground_truth: Instances of the subset (``video_id``, ``t_start``, ``t_end``,
            ``label``), file order (it decides the matching order).
        predictions: ``video_id``, ``t_start``, ``t_end``, ``label``, ``score``.
        ambiguous: 'Ambiguous' segments of the subset (``ActionAnnotations.ambiguous``).
        tiou_thresholds: Thresholds (strict ``>``).
        strict: Raise on labels that are not ground-truth classes instead of dropping.

    Returns:
        A :class:`~pal_eval.evaluation.detection.DetectionResult`.

    Examples:
        >>> gt = pd.DataFrame({'video_id': ['a'], 't_start': [0.0], 't_end': [2.0],
        ...                    'label': ['x']})
        >>> pred = pd.DataFrame({'video_id': ['a', 'a'], 't_start': [1.0, 0.0],
        ...                      't_end': [2.0, 1.9], 'label': ['x', 'x'], 'score': [.9, .8]})
        >>> evaluate_thumos14_matlab(gt, pred, tiou_thresholds=[0.5]).mAP  # FP, TP
        [0.5]
    """
    thresholds = check_thresholds(tiou_thresholds)
    if len(ground_truth) == 0:
        raise PalEvalError('no ground-truth instances to evaluate (empty subset?)')
    if ambiguous is None:
        ambiguous = ground_truth.iloc[:0]
    num_thresholds = thresholds.size

    gt_class, classes = pd.factorize(ground_truth['label'].to_numpy(), sort=False)
    classes = list(classes)
    pred_class = codes_in(predictions['label'].to_numpy(), pd.Index(classes))
    known = pred_class >= 0
    ignored: dict[str, int] = {}
    if not known.all():
        ignored = predictions.loc[~known, 'label'].astype(str).value_counts().to_dict()
        if strict:
            raise UnknownLabelError(f'{int((~known).sum())} predictions have labels that are '
                                    f'not ground-truth classes: {list(ignored)[:5]}')
    pred_class = pred_class[known]
    scores = predictions['score'].to_numpy(dtype=np.float64)[known]
    # MATLAB's intervalsingleoverlapvalseconds first sorts each interval ([min max]):
    # a reversed detection is scored as its flipped segment.
    pred_segments = np.sort(
        predictions[['t_start', 't_end']].to_numpy(dtype=np.float64)[known], axis=1)

    # One video index over everything; MATLAB walks videos in sorted-name order.
    all_videos = pd.Index(pd.unique(np.concatenate([
        ground_truth['video_id'].to_numpy(dtype=object),
        predictions['video_id'].to_numpy(dtype=object),
        ambiguous['video_id'].to_numpy(dtype=object)])))
    name_rank = np.empty(len(all_videos), dtype=np.int64)
    name_rank[np.argsort(all_videos.to_numpy().astype(str), kind='stable')] = np.arange(
        len(all_videos))
    pred_video = codes_in(predictions['video_id'].to_numpy(), all_videos)[known]
    gt_video = all_videos.get_indexer(ground_truth['video_id'].to_numpy())
    num_videos = len(all_videos)

    # Rank detections inside (class, video) by confidence (MATLAB sort is stable).
    by_score = np.argsort(-scores, kind='stable')
    pred_key = pred_class.astype(np.int64) * num_videos + pred_video
    order = by_score[np.argsort(pred_key[by_score], kind='stable')]
    pred_class, pred_video, pred_key = pred_class[order], pred_video[order], pred_key[order]
    scores, pred_segments = scores[order], pred_segments[order]
    group_first = np.r_[True, pred_key[1:] != pred_key[:-1]]
    rank_in_group = np.arange(order.size) - np.maximum.accumulate(
        np.where(group_first, np.arange(order.size), 0))

    dropped_if_fp = _overlaps_ambiguous(pred_segments, pred_video, ambiguous, all_videos)
    used = _match_ground_truth_driven(
        ground_truth, gt_class, gt_video, num_videos, pred_key, pred_segments, rank_in_group,
        thresholds)

    # Global order per class: -conf, then (video name, rank in video), stable.
    final = np.lexsort((rank_in_group, name_rank[pred_video], -scores, pred_class))
    npos = np.bincount(gt_class, minlength=len(classes)).astype(np.float64)
    class_bounds = np.searchsorted(pred_class[final], np.arange(len(classes) + 1))
    ap = np.zeros((num_thresholds, len(classes)), dtype=np.float64)
    for t in range(num_thresholds):
        is_tp = used[t][final]
        retained = is_tp | ~dropped_if_fp[final]
        for c in range(len(classes)):
            lo, hi = class_bounds[c], class_bounds[c + 1]
            tp_flags = is_tp[lo:hi][retained[lo:hi]]
            if not tp_flags.any():
                continue
            tp_cumsum = np.cumsum(tp_flags)
            fp_cumsum = np.cumsum(~tp_flags)
            precision = tp_cumsum / (fp_cumsum + tp_cumsum)
            ap[t, c] = precision[tp_flags].sum() / npos[c]

    return DetectionResult.from_ap(thresholds, ap, classes, known, ignored)


def _overlaps_ambiguous(pred_segments: np.ndarray, pred_video: np.ndarray,
                        ambiguous: pd.DataFrame, all_videos: pd.Index) -> np.ndarray:
    """Whether each detection has a positive intersection with an Ambiguous segment."""
    flags = np.zeros(pred_segments.shape[0], dtype=bool)
    if len(ambiguous) == 0:
        return flags
    amb_video = all_videos.get_indexer(ambiguous['video_id'].to_numpy())
    amb_order = np.argsort(amb_video, kind='stable')
    amb_segments = ambiguous[['t_start', 't_end']].to_numpy(dtype=np.float64)[amb_order]
    per_video = np.bincount(amb_video, minlength=len(all_videos))
    start = np.cumsum(per_video) - per_video
    pair_pred, pair_amb = pairs_within_groups(pred_video, start, per_video)
    a, b = pred_segments[pair_pred], amb_segments[pair_amb]
    positive = (np.minimum(a[:, 1], b[:, 1]) - np.maximum(a[:, 0], b[:, 0])) > 0
    flags[pair_pred[positive]] = True
    return flags


def _match_ground_truth_driven(ground_truth: pd.DataFrame, gt_class: np.ndarray,
                               gt_video: np.ndarray, num_videos: int, pred_key: np.ndarray,
                               pred_segments: np.ndarray, rank_in_group: np.ndarray,
                               thresholds: np.ndarray) -> np.ndarray:
    """``used[t, i]``: detection ``i`` (ranked order) is a true positive at threshold ``t``.

    Ground truths of a (class, video) group are processed in file order; round ``r``
    handles the ``r``-th ground truth of every group at once, all thresholds together.
    """
    num_preds = pred_key.size
    used = np.zeros((thresholds.size, num_preds), dtype=bool)
    gt_key = gt_class.astype(np.int64) * num_videos + gt_video
    gt_order = np.argsort(gt_key, kind='stable')
    keys, gt_start, gt_count = np.unique(gt_key[gt_order], return_index=True,
                                         return_counts=True)
    slot = np.searchsorted(keys, pred_key)
    has_group = slot < keys.size
    has_group[has_group] = keys[slot[has_group]] == pred_key[has_group]
    pred_group = np.where(has_group, slot, -1)
    pair_pred, pair_gt_sorted = pairs_within_groups(pred_group, gt_start, gt_count)
    if pair_pred.size == 0:
        return used
    gt_segments = ground_truth[['t_start', 't_end']].to_numpy(dtype=np.float64)[gt_order]
    overlap = paired_tiou(gt_segments[pair_gt_sorted], pred_segments[pair_pred], union='hull')
    gt_position = pair_gt_sorted - gt_start[pred_group[pair_pred]]  # r: order inside group
    group = pred_group[pair_pred]

    t_index, pair = np.nonzero(overlap[None, :] > thresholds[:, None])
    c_group = t_index * keys.size + group[pair]
    c_pred = t_index * num_preds + pair_pred[pair]
    position = gt_position[pair]
    sort = np.lexsort((rank_in_group[pair_pred[pair]], -overlap[pair], c_group, position))
    c_group, c_pred, position = c_group[sort], c_pred[sort], position[sort]
    flat_used = used.reshape(-1)
    bounds = np.searchsorted(position, np.arange(int(gt_count.max()) + 1))
    for r in range(int(gt_count.max())):
        lo, hi = bounds[r], bounds[r + 1]
        block_group, block_pred = c_group[lo:hi], c_pred[lo:hi]
        free = ~flat_used[block_pred]
        block_group, block_pred = block_group[free], block_pred[free]
        if block_group.size == 0:
            continue
        first = np.r_[True, block_group[1:] != block_group[:-1]]
        flat_used[block_pred[first]] = True
    return used

"""Temporal action detection mAP, ActivityNet protocol (``Evaluation/eval_detection.py``).

Semantics reproduced exactly (float64 throughout):

* only ground-truth videos of the evaluated subset count; ``mAP`` is the mean over the
  ground-truth classes (a class without predictions has AP 0), ``average_mAP`` the mean
  over tIoU thresholds;
* per class, predictions are visited by decreasing score, ties in input order (stable
  sort); each takes, among the still unmatched ground truths of its video and class, the
  one with the highest tIoU if that tIoU >= threshold (true positive), otherwise it is a
  false positive; among ground truths with *equal* tIoU the later one in file order is
  taken, which is what the official ``argsort()[::-1]`` does;
* predictions on videos without ground truth of their class (including videos outside
  the subset) are false positives;
* degenerate pairs as officially: a reversed prediction (end < start) overlaps
  nothing, except that a pair whose union is exactly 0 (official tIoU 0/0 = NaN)
  matches at every threshold, before any other ground truth of that prediction;
* AP is VOC-2011 all-point interpolated AP (``interpolated_prec_rec``), computed from
  the true positives only (:func:`interpolated_average_precision`).

Labels that are not ground-truth classes of the subset make the official code crash
(``KeyError``); here they are dropped and counted (``strict=True`` raises instead).

Why a hand-written matcher: no library implements this greedy, order-dependent matching.
The official code loops over every prediction in Python (minutes at ActivityNet scale).
:func:`greedy_match` gives the same answer with vectorised rounds: in each round, every
(threshold, video, class) group takes its next true positive at once (see its docstring),
so the number of rounds is the largest number of ground truths in one group.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pal_eval.core.tiou import paired_tiou
from pal_eval.errors import PalEvalError
from pal_eval.evaluation.grouping import check_thresholds, codes_in, pairs_within_groups

__all__ = ['ANET_TIOU_THRESHOLDS', 'THUMOS14_TIOU_THRESHOLDS', 'DetectionResult',
           'interpolated_average_precision', 'greedy_match', 'evaluate_detection',
           'UnknownLabelError']

#: ActivityNet default: 0.50, 0.55, ..., 0.95 (``np.linspace(0.5, 0.95, 10)`` as upstream).
ANET_TIOU_THRESHOLDS: tuple[float, ...] = tuple(np.linspace(0.5, 0.95, 10).tolist())
#: THUMOS14 convention of the TAL literature.
THUMOS14_TIOU_THRESHOLDS: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6, 0.7)


class UnknownLabelError(PalEvalError):
    """Predictions name classes that have no ground truth in the subset (``strict`` mode)."""


@dataclass
class DetectionResult:
    """Detection metrics; all values are fractions in [0, 1].

    Attributes:
        tiou_thresholds: The thresholds, in the order of ``mAP``.
        mAP: Mean AP over classes, one value per threshold.
        average_mAP: Mean of ``mAP``.
        ap_per_class: Class name -> AP per threshold (ground-truth class order).
        num_ignored: Predictions dropped because their label is not a subset class.
        ignored_labels: Those labels, with counts.
    """

    tiou_thresholds: list[float]
    mAP: list[float]
    average_mAP: float
    ap_per_class: dict[str, list[float]]
    num_ignored: int = 0
    ignored_labels: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_ap(cls, thresholds: np.ndarray, ap: np.ndarray, classes, known: np.ndarray,
                ignored: dict[str, int]) -> DetectionResult:
        """Reduce AP ``[thresholds, classes]`` to the result (mAP = mean over classes)."""
        mean_ap = ap.mean(axis=1)
        return cls(tiou_thresholds=thresholds.tolist(), mAP=mean_ap.tolist(),
                   average_mAP=float(mean_ap.mean()),
                   ap_per_class={str(name): ap[:, c].tolist() for c, name in enumerate(classes)},
                   num_ignored=int((~known).sum()), ignored_labels=ignored)

    def to_dict(self) -> dict:
        """The JSON form written by ``pal-eval evaluate detection --out``."""
        return {'tiou_thresholds': self.tiou_thresholds, 'mAP': self.mAP,
                'average_mAP': self.average_mAP, 'ap_per_class': self.ap_per_class}


def greedy_match(group_of_pair: np.ndarray, pred_of_pair: np.ndarray, gt_of_pair: np.ndarray,
                 rank_of_pair: np.ndarray, tiou_of_pair: np.ndarray,
                 num_preds: int, num_gts: int, presorted: bool = False) -> np.ndarray:
    """Exact greedy matching of ranked predictions to ground truths, vectorised over groups.

    Every candidate pair (prediction, ground truth) belongs to one independent group
    (e.g. one threshold x video x class) and already satisfies the tIoU threshold.
    Within a group, predictions are processed by increasing ``rank``; each takes the
    unmatched ground truth of highest tIoU (ties: highest ground-truth index).

    Algorithm (rounds): keep the pairs whose prediction and ground truth are both still
    free, sorted by (group, rank, -tIoU, -gt). The first pair of each group is that
    group's next true positive: every prediction ranked before it has no free ground
    truth left, so it is a false positive and its outcome cannot change (ground truths
    only get used up). Take all these first pairs at once, drop the pairs of the used
    predictions and ground truths, repeat. Rounds = max true positives in one group.

    Args:
        group_of_pair, pred_of_pair, gt_of_pair, rank_of_pair: int arrays ``[P]``;
            ``pred``/``gt`` index ranges ``[0, num_preds)`` / ``[0, num_gts)`` must be
            unique per group (use compound ids when groups share predictions).
        tiou_of_pair: float64 ``[P]``.
        num_preds: Size of the prediction id space.
        num_gts: Size of the ground-truth id space.
        presorted: The pairs are already sorted by (group, rank, -tIoU, -gt).

    Returns:
        bool ``[num_preds]``: whether each prediction id is a true positive.
    """
    if presorted:
        group, pred, gt = group_of_pair, pred_of_pair, gt_of_pair
    else:
        order = np.lexsort((-gt_of_pair, -tiou_of_pair, rank_of_pair, group_of_pair))
        group, pred, gt = group_of_pair[order], pred_of_pair[order], gt_of_pair[order]
    is_tp = np.zeros(num_preds, dtype=bool)
    gt_used = np.zeros(num_gts, dtype=bool)
    while group.size:
        first = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
        is_tp[pred[first]] = True
        gt_used[gt[first]] = True
        alive = ~(is_tp[pred] | gt_used[gt])
        group, pred, gt = group[alive], pred[alive], gt[alive]
    return is_tp


def evaluate_detection(ground_truth: pd.DataFrame, predictions: pd.DataFrame,
                       tiou_thresholds: Sequence[float] = ANET_TIOU_THRESHOLDS,
                       strict: bool = False) -> DetectionResult:
    """ActivityNet detection AP per class and tIoU threshold, mAP and average mAP.

    Args:
        ground_truth: Instances of the evaluated subset only, columns ``video_id``,
            ``t_start``, ``t_end``, ``label`` (the canonical ``ActionAnnotations.instances``
            filtered to a subset). Row order matters only for tIoU ties (see module doc).
        predictions: Columns ``video_id``, ``t_start``, ``t_end``, ``label``, ``score``,
            in submission order (it breaks score ties).
        tiou_thresholds: Thresholds in (0, 1].
        strict: Raise :class:`UnknownLabelError` instead of dropping predictions whose
            label is not a ground-truth class.

    Returns:
        A :class:`DetectionResult`.

    Raises:
        PalEvalError: no ground truth (the metric is undefined).

    Examples:
        >>> gt = pd.DataFrame({'video_id': ['a'], 't_start': [0.0], 't_end': [10.0],
        ...                    'label': ['jump']})
        >>> pred = pd.DataFrame({'video_id': ['a', 'a'], 't_start': [20.0, 0.0],
        ...                      't_end': [30.0, 9.0], 'label': ['jump', 'jump'],
        ...                      'score': [0.9, 0.8]})
        >>> evaluate_detection(gt, pred, [0.5]).mAP   # FP then TP: precision 1/2 at recall 1
        [0.5]
    """
    thresholds = check_thresholds(tiou_thresholds)
    if len(ground_truth) == 0:
        raise PalEvalError('no ground-truth instances to evaluate (empty subset?)')
    num_thresholds = thresholds.size

    # Classes in order of first appearance, as the official activity_index.
    gt_labels = ground_truth['label'].to_numpy()
    classes, gt_class = _first_appearance_codes(gt_labels)
    class_index = pd.Index(classes)

    pred_class = codes_in(predictions['label'].to_numpy(), class_index)
    known = pred_class >= 0
    ignored: dict[str, int] = {}
    if not known.all():
        ignored = predictions.loc[~known, 'label'].astype(str).value_counts().to_dict()
        if strict:
            shown = ', '.join(f'{k!r} ({v})' for k, v in list(ignored.items())[:5])
            raise UnknownLabelError(
                f'{int((~known).sum())} predictions have labels that are not ground-truth '
                f'classes of the subset: {shown}')
    pred_class = pred_class[known]
    scores = predictions['score'].to_numpy(dtype=np.float64)[known]
    pred_segments = predictions[['t_start', 't_end']].to_numpy(dtype=np.float64)[known]
    gt_segments = ground_truth[['t_start', 't_end']].to_numpy(dtype=np.float64)

    # Rank predictions: by class, then decreasing score, ties in input order.
    by_score = np.argsort(-scores, kind='stable')
    order = by_score[np.argsort(pred_class[by_score], kind='stable')]
    pred_class = pred_class[order]
    pred_segments = pred_segments[order]
    num_preds = order.size

    # Groups = (class, video) pairs that have ground truth; ground truths sorted by group,
    # file order kept inside a group (stable sort) for the tIoU tie rule.
    videos = pd.Index(pd.unique(ground_truth['video_id'].to_numpy()))
    gt_video = videos.get_indexer(ground_truth['video_id'].to_numpy())
    gt_key = gt_class.astype(np.int64) * len(videos) + gt_video
    gt_order = np.argsort(gt_key, kind='stable')
    gt_key_sorted = gt_key[gt_order]
    group_keys, gt_start, gt_count = np.unique(gt_key_sorted, return_index=True,
                                               return_counts=True)
    pred_video = codes_in(predictions['video_id'].to_numpy(), videos)[known][order]
    pred_key = pred_class.astype(np.int64) * len(videos) + pred_video
    slot = np.searchsorted(group_keys, pred_key)
    slot_ok = (pred_video >= 0) & (slot < group_keys.size)
    slot_ok[slot_ok] = group_keys[slot[slot_ok]] == pred_key[slot_ok]
    pred_group = np.where(slot_ok, slot, -1)

    pair_pred, pair_gt_sorted = pairs_within_groups(pred_group, gt_start, gt_count)
    pair_gt = gt_order[pair_gt_sorted]  # back to file order index (tie rule: higher wins)
    # A union of exactly 0 (two zero-length segments, or a reversed prediction whose
    # negative length cancels its ground truth's) is 0/0 = NaN in eval_detection.py,
    # and ``NaN < threshold`` is False there: the pair matches at every threshold, and
    # ahead of every other ground truth (NaN sorts last, so first after [::-1]). +inf
    # behaves the same way here.
    pair_tiou = paired_tiou(pred_segments[pair_pred], gt_segments[pair_gt],
                            zero_union=np.inf)
    # A pair below the lowest threshold can never match: drop it before sorting.
    useful = pair_tiou >= thresholds.min()
    pair_pred, pair_gt, pair_tiou = pair_pred[useful], pair_gt[useful], pair_tiou[useful]
    pair_group = pred_group[pair_pred]

    # Sort the pairs once by (group, rank, -tIoU, -gt); filtering them per threshold
    # (threshold-major) keeps that order, so the compound arrays below need no new sort.
    pair_order = np.lexsort((-pair_gt, -pair_tiou, pair_pred, pair_group))
    pair_pred, pair_gt = pair_pred[pair_order], pair_gt[pair_order]
    pair_tiou, pair_group = pair_tiou[pair_order], pair_group[pair_order]
    t_index, kept = np.nonzero(pair_tiou[None, :] >= thresholds[:, None])
    is_tp = greedy_match(pair_group[kept] + t_index * group_keys.size,
                         pair_pred[kept] + t_index * num_preds,
                         pair_gt[kept] + t_index * len(ground_truth),
                         pair_pred[kept], pair_tiou[kept],
                         num_preds * num_thresholds, len(ground_truth) * num_thresholds,
                         presorted=True)
    tp = is_tp.reshape(num_thresholds, num_preds)

    class_bounds = np.searchsorted(pred_class, np.arange(len(classes) + 1))
    npos = np.bincount(gt_class, minlength=len(classes)).astype(np.float64)
    ap = interpolated_average_precision(tp, pred_class, class_bounds, npos)

    return DetectionResult.from_ap(thresholds, ap, classes, known, ignored)


def _first_appearance_codes(values: np.ndarray) -> tuple[list, np.ndarray]:
    """Codes of ``values`` numbered in order of first appearance (like the official index)."""
    codes, uniques = pd.factorize(values, sort=False)
    return list(uniques), codes.astype(np.int64)



def interpolated_average_precision(tp: np.ndarray, pred_class: np.ndarray,
                                    class_bounds: np.ndarray, npos: np.ndarray) -> np.ndarray:
    """Interpolated AP ``[T, C]`` of every class and threshold at once, from ranked flags.

    Only true positives matter: recall changes exactly there, and the interpolated
    precision (max precision at or after a position) is always reached at a true
    positive, since a false positive has the same count over a larger rank than the
    last true positive before it. Precision and recall are the official expressions
    (``tp_cumsum / (tp_cumsum + fp_cumsum)``, ``tp_cumsum / npos``) on the same floats.
    The segmented right-to-left maximum is done exactly on integer ranks of the values.

    Args:
        tp: bool ``[T, N]``, predictions ranked by (class, decreasing score).
        pred_class: ``[N]`` class of each ranked prediction (non-decreasing).
        class_bounds: ``[C + 1]`` start of each class in the ranked order.
        npos: ``[C]`` number of ground truths per class.

    Returns:
        float64 ``[T, C]``.
    """
    num_thresholds, num_classes = tp.shape[0], npos.size
    t_index, position = np.nonzero(tp)
    cls = pred_class[position]
    segment = t_index * num_classes + cls
    # k = true positives so far (1-based) inside the segment; rank inside the class
    seg_start = np.searchsorted(segment, segment, side='left')
    tp_cumsum = (np.arange(segment.size) - seg_start + 1).astype(np.float64)
    rank = (position - class_bounds[cls] + 1).astype(np.float64)
    precision = tp_cumsum / rank  # = tp_cumsum / (tp_cumsum + fp_cumsum)
    recall = tp_cumsum / npos[cls]
    previous_recall = np.where(tp_cumsum > 1, (tp_cumsum - 1) / npos[cls], 0.0)
    # Exact segmented suffix maximum: integer ranks of the values, offset per segment.
    values, value_rank = np.unique(precision, return_inverse=True)
    # Earlier segments get larger offsets, so a right-to-left running maximum never
    # carries a value from a later segment into an earlier one.
    offset = (num_thresholds * num_classes - segment).astype(np.int64) * (values.size + 1)
    suffix_max = np.maximum.accumulate((offset + value_rank)[::-1])[::-1]
    same_segment_max = values[suffix_max - offset]
    contribution = (recall - previous_recall) * same_segment_max
    ap = np.bincount(segment, weights=contribution, minlength=num_thresholds * num_classes)
    return ap.reshape(num_thresholds, num_classes)

"""Bootstrap confidence intervals: resample videos (detection, proposals) or queries.

A metric computed on a few hundred instances moves by points when the evaluation set
changes; an interval says how much. The *unit* resampled is the one the data were drawn
by: a video (all its ground truth and all its predictions go together) for detection
and proposals, a query for grounding. Each resample draws ``N`` units with replacement
(a unit drawn twice appears twice, under two different ids) and recomputes the metric
with the official evaluator; the interval is the percentile interval of those values
(Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993, ch. 13).

Comparisons use **paired** resamples (:func:`difference_interval`): both systems are
scored on the same draws (the same seed), so what is common to them (an easy or a hard
video) cancels, and "A beats B" is said only when the interval of ``A - B`` excludes 0.

The core (:func:`resample_indices`, :func:`percentile_interval`, :func:`bootstrap`,
:func:`difference_interval`, :func:`resampled_rows`) is numpy only. The task adapters
(:func:`detection_metric`, :func:`proposal_metric`, :func:`grounding_metric`) turn a
ground-truth frame and a prediction frame into a ``metric(draw) -> {name: value}``
function with the evaluators of this package (imported when called). Metric names are
those of the ``pal-eval evaluate`` JSON (:mod:`pal_eval.leaderboard.metrics_io`):
``average_mAP`` and ``mAP@0.5``, ``AR@100`` and ``AUC``, ``R@1,IoU=0.5`` and ``mIoU``.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

__all__ = ['DEFAULT_RESAMPLES', 'DEFAULT_LEVEL', 'resample_indices', 'percentile_interval',
           'bootstrap', 'difference_interval', 'resampled_rows', 'detection_metric',
           'proposal_metric', 'grounding_metric', 'metric_for_task', 'interval_report']

#: resamples per interval (the percentile interval's 2.5 % tails rest on 25 draws each)
DEFAULT_RESAMPLES = 1000
#: coverage of the intervals
DEFAULT_LEVEL = 0.95

Metric = Callable[[np.ndarray], Mapping[str, float]]


def resample_indices(num_units: int, resamples: int, seed: int = 0) -> np.ndarray:
    """``[resamples, num_units]`` unit indices drawn with replacement (seeded).

    Examples:
        >>> draws = resample_indices(5, 3, seed=0)
        >>> draws.shape, int(draws.min()) >= 0, int(draws.max()) < 5
        ((3, 5), True, True)
    """
    if num_units < 1:
        raise ValueError('nothing to resample (no unit)')
    return np.random.default_rng(seed).integers(0, num_units, size=(resamples, num_units))


def percentile_interval(values: np.ndarray, level: float = DEFAULT_LEVEL
                        ) -> tuple[float, float]:
    """The central ``level`` percentile interval of bootstrap values.

    Examples:
        >>> [round(v, 9) for v in percentile_interval(np.arange(101.0), 0.9)]
        [5.0, 95.0]
    """
    tail = 100.0 * (1.0 - level) / 2.0
    low, high = np.percentile(np.asarray(values, np.float64), [tail, 100.0 - tail])
    return float(low), float(high)


def bootstrap(metric: Metric, num_units: int, *, resamples: int = DEFAULT_RESAMPLES,
              level: float = DEFAULT_LEVEL, seed: int = 0
              ) -> dict[str, tuple[float, float]]:
    """Percentile intervals of every value ``metric`` returns.

    Args:
        metric: ``metric(draw)`` -> ``{name: value}`` for a draw of unit indices (with
            repetitions; the identity draw ``arange(num_units)`` is the full data).
        num_units: Units (videos or queries) of the evaluation set.
        resamples: Draws.
        level: Coverage (0.95: the 2.5 % and 97.5 % percentiles).
        seed: Seed of the draws (the same seed draws the same units for every system).

    Returns:
        Name -> ``(low, high)``.

    Examples:
        >>> values = np.array([0., 1., 1., 1.])
        >>> low, high = bootstrap(lambda d: {'mean': values[d].mean()}, 4)['mean']
        >>> 0.0 <= low < 0.75 < high <= 1.0
        True
    """
    samples: dict[str, list[float]] = {}
    for draw in resample_indices(num_units, resamples, seed):
        for name, value in metric(draw).items():
            samples.setdefault(name, []).append(float(value))
    return {name: percentile_interval(values, level) for name, values in samples.items()}


def difference_interval(samples_a: np.ndarray, samples_b: np.ndarray,
                        level: float = DEFAULT_LEVEL) -> tuple[float, float]:
    """Percentile interval of ``A - B`` from bootstrap values drawn with the *same* draws.

    Paired: what both systems share (an easy or a hard video) cancels in each draw's
    difference, so the interval is much narrower than the two intervals side by side.

    Examples:
        >>> common = np.random.default_rng(0).normal(0.5, 0.1, 1000)
        >>> low, high = difference_interval(common + 0.03, common)
        >>> round(low, 6), round(high, 6)
        (0.03, 0.03)
    """
    return percentile_interval(np.asarray(samples_a, np.float64)
                               - np.asarray(samples_b, np.float64), level)


def resampled_rows(unit_of_row: np.ndarray, draw: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a table that belong to a draw of units, and the draw slot of each.

    Args:
        unit_of_row: ``[R]`` unit index of each row (``-1``: in no unit).
        draw: ``[N]`` drawn unit indices (with repetitions).

    Returns:
        ``(rows, slot)``: row indices into the table (a unit drawn twice contributes
        its rows twice) and, for each, the position in ``draw`` it was drawn at (a
        unique id for the copy).

    Examples:
        >>> rows, slot = resampled_rows(np.array([0, 0, 1, -1]), np.array([1, 0, 1]))
        >>> rows.tolist(), slot.tolist()
        ([2, 0, 1, 2], [0, 1, 1, 2])
    """
    unit_of_row = np.asarray(unit_of_row, np.int64)
    inside = np.flatnonzero(unit_of_row >= 0)
    order = inside[np.argsort(unit_of_row[inside], kind='stable')]
    num_units = int(unit_of_row.max()) + 1 if len(inside) else 0
    count = np.bincount(unit_of_row[inside], minlength=max(num_units, 1))
    start = np.cumsum(count) - count
    draw = np.asarray(draw, np.int64)
    draw_count = count[draw] if num_units else np.zeros(len(draw), np.int64)
    slot = np.repeat(np.arange(len(draw)), draw_count)
    offset = np.arange(int(draw_count.sum())) - np.repeat(np.cumsum(draw_count) - draw_count,
                                                         draw_count)
    rows = order[np.repeat(start[draw], draw_count) + offset] if num_units else \
        np.zeros(0, np.int64)
    return rows, slot


def _unit_codes(values: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Index of each value in ``units`` (``-1`` when absent)."""
    order = np.argsort(units, kind='stable')
    position = np.searchsorted(units[order], values).clip(0, max(len(units) - 1, 0))
    found = len(units) > 0
    codes = np.where(found & (units[order][position] == values), order[position], -1)
    return codes.astype(np.int64)


def _resampler(ground_truth, predictions, column: str, units: Sequence[str] | None = None):
    """Units, and a function giving both frames (ground truth, predictions) for a draw.

    Args:
        ground_truth, predictions: Frames with an id ``column``.
        column: ``video_id`` or ``query_id``.
        units: The ids to resample (default: those of the ground truth). Passing every
            video of the evaluated subset lets videos without ground truth be drawn too
            (their predictions are false positives).

    Predictions outside every unit are kept in every resample once: officially they are
    false positives (detection) or count in the proposal total, whatever is drawn.
    """
    if units is None:
        units = list(dict.fromkeys(ground_truth[column].astype(str).tolist()))
    units = np.asarray([str(u) for u in units], dtype=object)
    gt_unit = _unit_codes(ground_truth[column].astype(str).to_numpy(dtype=object), units)
    pred_unit = _unit_codes(predictions[column].astype(str).to_numpy(dtype=object), units)
    outside = np.flatnonzero(pred_unit < 0)

    import pandas as pd  # the evaluators' input type

    extra = predictions.iloc[outside].assign(**{column: -1 - np.arange(len(outside))})

    def frames(draw: np.ndarray):
        gt_rows, gt_slot = resampled_rows(gt_unit, draw)
        pred_rows, pred_slot = resampled_rows(pred_unit, draw)
        gt = ground_truth.iloc[gt_rows].assign(**{column: gt_slot})
        pred = predictions.iloc[pred_rows].assign(**{column: pred_slot})
        return gt, (pd.concat([pred, extra], ignore_index=True) if len(extra) else pred)
    return units, frames


def detection_metric(ground_truth, predictions,
                     tiou_thresholds: Sequence[float] | None = None,
                     videos: Sequence[str] | None = None) -> tuple[Metric, int]:
    """``(metric, number of videos)`` for ActivityNet detection mAP, resampling videos.

    ``videos``: every video of the evaluated subset (default: those with ground truth).
    """
    from pal_eval.evaluation.detection import ANET_TIOU_THRESHOLDS, evaluate_detection

    thresholds = list(ANET_TIOU_THRESHOLDS if tiou_thresholds is None else tiou_thresholds)
    units, frames = _resampler(ground_truth, predictions, 'video_id', videos)

    def metric(draw: np.ndarray) -> dict[str, float]:
        result = evaluate_detection(*frames(draw), thresholds)
        return {'average_mAP': result.average_mAP,
                **{f'mAP@{t:g}': m for t, m in zip(thresholds, result.mAP)}}
    return metric, len(units)


def proposal_metric(ground_truth, proposals, *, max_avg_proposals: float = 100,
                    tiou_thresholds: Sequence[float] | None = None,
                    ar_at: Sequence[int] | None = None,
                    videos: Sequence[str] | None = None) -> tuple[Metric, int]:
    """``(metric, number of videos)`` for AR@AN and AUC, resampling videos (as above)."""
    from pal_eval.evaluation.detection import ANET_TIOU_THRESHOLDS
    from pal_eval.evaluation.proposal import DEFAULT_AR_AT, evaluate_proposals

    thresholds = list(ANET_TIOU_THRESHOLDS if tiou_thresholds is None else tiou_thresholds)
    ar_at = list(DEFAULT_AR_AT if ar_at is None else ar_at)
    units, frames = _resampler(ground_truth, proposals, 'video_id', videos)

    def metric(draw: np.ndarray) -> dict[str, float]:
        result = evaluate_proposals(*frames(draw), max_avg_proposals, thresholds, ar_at)
        return {**{f'AR@{n}': v for n, v in result.ar_at.items()}, 'AUC': result.auc}
    return metric, len(units)


def grounding_metric(queries, predictions, *, recalls: Sequence[int] = (1, 5),
                     ious: Sequence[float] = (0.3, 0.5, 0.7), nms_threshold: float = 0.5
                     ) -> tuple[Metric, int]:
    """``(metric, number of queries)`` for R@n,IoU=m and mIoU, resampling queries.

    These metrics are means over queries, so each query's outcome is computed once
    (one evaluator call per query would give the same numbers) and a draw only
    averages the drawn queries' outcomes.
    """
    from pal_eval.evaluation.grounding import evaluate_grounding, recall_key

    queries = queries.reset_index(drop=True)
    ids = queries['query_id'].astype(str).to_numpy(dtype=object)
    outcomes: dict[str, np.ndarray] = {}
    # One evaluation per query, vectorised: each query is its own one-query "data set".
    predicted = predictions[predictions['query_id'].astype(str).isin(set(ids))]
    by_query = {q: g for q, g in predicted.groupby(predicted['query_id'].astype(str),
                                                     sort=False)}
    per_query = []
    for index, query_id in enumerate(ids):
        group = by_query.get(query_id, predicted.iloc[:0])
        result = evaluate_grounding(queries.iloc[[index]], group, recalls, ious,
                                    nms_threshold)
        per_query.append({**{recall_key(n, m): v for (n, m), v in result.recall.items()},
                          'mIoU': result.miou})
    for name in per_query[0] if per_query else ():
        outcomes[name] = np.array([row[name] for row in per_query])

    def metric(draw: np.ndarray) -> dict[str, float]:
        return {name: float(values[draw].mean()) for name, values in outcomes.items()}
    return metric, len(ids)


def metric_for_task(task: str, ground_truth, predictions, **options) -> tuple[Metric, int]:
    """The adapter of ``task`` (``detection``, ``proposal`` or ``grounding``)."""
    adapters = {'detection': detection_metric, 'proposal': proposal_metric,
                'grounding': grounding_metric}
    if task not in adapters:
        raise ValueError(f'unknown task {task!r}')
    return adapters[task](ground_truth, predictions, **options)


def interval_report(task: str, truth, predictions, *, resamples: int = DEFAULT_RESAMPLES,
                    level: float = DEFAULT_LEVEL, seed: int = 0, **options) -> dict:
    """Intervals of every metric of one evaluation, as JSON and as text.

    Args:
        task: ``detection``, ``proposal`` or ``grounding``.
        truth: :class:`~pal_eval.data.annotations.ActionAnnotations` of the evaluated
            subset (every one of its videos is a unit), or the grounding queries frame.
        predictions: The prediction frame.
        resamples, level, seed: As :func:`bootstrap`.
        **options: The evaluator's options (thresholds, ``ar_at``, recalls...).

    Returns:
        ``{'json': {'level', 'resamples', 'unit', 'units', 'seed', 'intervals':
        {name: [low, high]}}, 'text': str}`` (the text in percent).
    """
    if task == 'grounding':
        metric, count = grounding_metric(truth, predictions, **options)
        unit = 'query'
    else:
        metric, count = metric_for_task(task, truth.instances, predictions,
                                        videos=list(truth.videos), **options)
        unit = 'video'
    if resamples < 2:
        raise ValueError('--ci needs at least 2 resamples')
    intervals = bootstrap(metric, count, resamples=resamples, level=level, seed=seed)
    full = metric(np.arange(count))
    width = max(len(name) for name in intervals)
    plural = {'query': 'queries', 'video': 'videos'}[unit]
    lines = [f'{100 * level:g}% bootstrap intervals ({resamples} resamples of the {count} '
             f'{plural}):']
    lines += [f'  {name:<{width}}  {100 * full[name]:6.2f}  [{100 * low:6.2f}, '
              f'{100 * high:6.2f}]' for name, (low, high) in intervals.items()]
    return {'json': {'level': level, 'resamples': int(resamples), 'unit': unit,
                     'units': int(count), 'seed': int(seed),
                     'intervals': {name: [low, high] for name, (low, high) in intervals.items()}},
            'text': '\n'.join(lines)}

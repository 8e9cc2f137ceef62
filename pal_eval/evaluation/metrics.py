"""MMEngine metrics (registered in ``mmaction.registry.METRICS``) on the functional core.

Thin adapters: ``process()`` keeps each sample's predictions as numpy arrays,
``compute_metrics()`` builds the submission DataFrame and calls the exact evaluators of
:mod:`pal_eval.evaluation`; optionally it dumps the predictions in the official
submission format (``dump_path``; the metric owns that file and rewrites it at every
evaluation, atomically).

Contract with the heads: each data sample given to ``process()`` is a dict (MMEngine's
evaluator passes ``ActionDataSample.to_dict()``) or an ``ActionDataSample``, whose keys
or metainfo include

* ``video_id`` (grounding: ``query_id``),
* ``pred_segments``: float ``[K, 2]`` in seconds, ``pred_scores``: ``[K]``,
* detection only: ``pred_labels``: ``K`` class-name strings.

Ground truth comes from ``ann_file`` (any format :mod:`pal_eval.evaluation.inputs`
reads) and ``subset``. Metric names are flat (``default_prefix = ''``): ``'mAP@0.5'``,
``'average_mAP'``, ``'AR@100'``, ``'AUC'``, ``'R@1,IoU=0.5'``, ``'mIoU'``.

Example config::

    val_evaluator = dict(type='TemporalDetectionMetric',
                         ann_file='data/activity_net.v1-3.min.json', subset='validation',
                         dump_path='work_dirs/bmn/detections.json')
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from mmaction.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from pal_eval.errors import PalEvalError
from pal_eval.evaluation.detection import (
    ANET_TIOU_THRESHOLDS,
    evaluate_detection,
)
from pal_eval.evaluation.grounding import check_time_precision, evaluate_grounding
from pal_eval.evaluation.inputs import load_action_ground_truth, load_grounding_ground_truth
from pal_eval.evaluation.proposal import DEFAULT_AR_AT, evaluate_proposals
from pal_eval.evaluation.thumos_matlab import evaluate_thumos14_matlab

__all__ = ['TemporalDetectionMetric', 'ProposalRecallMetric', 'GroundingRecallMetric']


#: Soft-NMS merging the windows of one video (G-TAD's THUMOS14 sigma and count).
DEFAULT_WINDOW_MERGE = {'sigma': 0.46, 'top_k': 200}
#: Every key ``window_merge`` may set (:func:`pal_eval.postprocess.windows.
#: merge_window_predictions`; G-TAD THUMOS14: ``keep_last=False, stop_at_zero=True,
#: round_seconds=1, round_scores=6``).
WINDOW_MERGE_KEYS = ('sigma', 'top_k', 'keep_last', 'stop_at_zero', 'round_seconds',
                     'round_scores')


def window_merge_settings(window_merge: dict | None) -> dict:
    """``window_merge`` over :data:`DEFAULT_WINDOW_MERGE`; an unknown key is an error.

    Examples:
        >>> window_merge_settings({'top_k': 100})
        {'sigma': 0.46, 'top_k': 100}
    """
    unknown = sorted(set(window_merge or {}) - set(WINDOW_MERGE_KEYS))
    if unknown:
        raise PalEvalError(f'window_merge: unknown key(s) {", ".join(unknown)} '
                           f'(known: {", ".join(WINDOW_MERGE_KEYS)})')
    return {**DEFAULT_WINDOW_MERGE, **(window_merge or {})}


def sample_field(sample: Any, key: str, default: Any = None) -> Any:
    """``key`` of a data sample: a flat dict, a dict with ``metainfo``, or a data element.

    Examples:
        >>> sample_field({'metainfo': {'video_id': 'v1'}}, 'video_id')
        'v1'
    """
    if isinstance(sample, dict):
        if key in sample:
            return sample[key]
        return (sample.get('metainfo') or {}).get(key, default)
    value = getattr(sample, key, None)
    if value is None and hasattr(sample, 'metainfo'):
        value = sample.metainfo.get(key)
    return default if value is None else value


def _as_numpy(value: Any, dtype=np.float64) -> np.ndarray:
    """Tensors (detached, on CPU) or array-likes to a numpy array, without importing torch."""
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=dtype)


def _collect(sample: Any, id_key: str, with_labels: bool) -> dict:
    """One sample's predictions as plain numpy (cheap to gather across ranks)."""
    record_id = sample_field(sample, id_key)
    if record_id is None:
        raise PalEvalError(f'data sample has no {id_key!r} (keys: {sorted(sample)})'
                           if isinstance(sample, dict) else f'data sample has no {id_key!r}')
    segments = _as_numpy(sample_field(sample, 'pred_segments', np.zeros((0, 2))))
    segments = segments.reshape(-1, 2)
    scores = _as_numpy(sample_field(sample, 'pred_scores', np.zeros(0))).reshape(-1)
    if scores.shape[0] != segments.shape[0]:
        raise PalEvalError(f'{id_key} {record_id!r}: {segments.shape[0]} pred_segments but '
                           f'{scores.shape[0]} pred_scores')
    out = {id_key: str(record_id), 'segments': segments, 'scores': scores,
           'window': sample_field(sample, 'window_start') is not None}
    class_scores = sample_field(sample, 'pred_class_scores')
    if with_labels and class_scores is not None and out['window']:
        # Class-agnostic window proposals, fused once the video's windows are merged.
        out['class_scores'] = _as_numpy(class_scores).reshape(-1)
        out['taxonomy'] = [str(name) for name in sample_field(sample, 'pred_taxonomy', [])]
        out['top_k_classes'] = int(sample_field(sample, 'top_k_classes', 2))
        if len(out['taxonomy']) != len(out['class_scores']):
            raise PalEvalError(f'{id_key} {record_id!r}: {len(out["class_scores"])} '
                               f'pred_class_scores but {len(out["taxonomy"])} pred_taxonomy')
    elif with_labels:
        labels = [str(label) for label in sample_field(sample, 'pred_labels', [])]
        if len(labels) != segments.shape[0]:
            raise PalEvalError(f'{id_key} {record_id!r}: {segments.shape[0]} pred_segments '
                               f'but {len(labels)} pred_labels')
        out['labels'] = labels
    return out


def _frame(results: Sequence[dict], id_key: str, with_labels: bool) -> pd.DataFrame:
    """Submission DataFrame (``video_id``/``query_id``, ``t_start``, ``t_end``, ``score``...)."""
    counts = [r['segments'].shape[0] for r in results]
    segments = np.concatenate([r['segments'] for r in results]) if results else \
        np.zeros((0, 2))
    frame = {id_key: np.repeat(np.asarray([r[id_key] for r in results], dtype=object), counts),
             't_start': segments[:, 0], 't_end': segments[:, 1],
             'score': np.concatenate([r['scores'] for r in results]) if results else
             np.zeros(0)}
    if with_labels:
        frame['label'] = np.asarray([label for r in results for label in r['labels']],
                                    dtype=object)
    return pd.DataFrame(frame)


def merge_windows(results: Sequence[dict], with_labels: bool, **window_merge) -> list[dict]:
    """Merge the per-window results of a video (THUMOS-style sliding windows) into one.

    Only samples that are windows (their metainfo has ``window_start``, as the
    THUMOS-style feature dataset sets it) are merged; a video cut into several windows
    gets its windows' segments concatenated and suppressed again
    (:func:`pal_eval.postprocess.windows.merge_window_predictions`, with
    ``window_merge``'s settings), so a segment seen by two overlapping windows is not
    counted twice. Windows that carry class scores instead of labels (``class_scores``,
    ``taxonomy``, ``top_k_classes``: a head's ``class_fusion.after_window_merge``) are
    merged class-agnostically, then fused: G-TAD THUMOS14's order.
    """
    from pal_eval.postprocess.windows import merge_window_predictions

    by_video: dict[str, list[dict]] = {}
    merged = []
    for result in results:
        if result.get('window'):
            by_video.setdefault(result['video_id'], []).append(result)
        else:
            merged.append(result)
    settings = window_merge_settings(window_merge)
    for video_id, parts in by_video.items():
        deferred = with_labels and 'class_scores' in parts[0]
        fusion = dict(class_scores=parts[0]['class_scores'], taxonomy=parts[0]['taxonomy'],
                      top_k_classes=parts[0]['top_k_classes']) if deferred else {}
        segments, scores, labels = merge_window_predictions(
            [p['segments'] for p in parts], [p['scores'] for p in parts],
            [p['labels'] for p in parts] if with_labels and not deferred else None,
            **settings, **fusion)
        record = {'video_id': video_id, 'segments': segments, 'scores': scores}
        if with_labels:
            record['labels'] = labels
        merged.append(record)
    return merged


def _warn(message: str) -> None:
    print_log(message, logger='current', level=30)


class _GroundTruthCache:
    """Loads the ground truth once per metric instance (validation runs many times)."""

    def __init__(self, loader, *args):
        self._loader, self._args, self._value = loader, args, None

    def get(self):
        if self._value is None:
            self._value = self._loader(*self._args)
        return self._value


class _ActionMetric(BaseMetric):
    """What the detection and proposal metrics share: ground truth, windows, the dump.

    ``compute_metrics`` of a subclass starts from :meth:`_predictions_and_ground_truth`:
    the windows of each video merged, the predictions as a submission DataFrame (written
    to ``dump_path`` when set), and the ground-truth instances and ambiguous segments
    (restricted to the processed videos with ``only_processed_videos``).
    """

    default_prefix = ''
    with_labels = False

    def __init__(self, ann_file: str, subset: str | None, only_processed_videos: bool,
                 dump_path: str | None, window_merge: dict | None, collect_device: str,
                 prefix: str | None, blocked_videos: str | None = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.window_merge = window_merge_settings(window_merge)
        self.ground_truth = _GroundTruthCache(load_action_ground_truth, ann_file, subset,
                                              blocked_videos)
        self.blocked_videos = blocked_videos
        self.only_processed_videos = only_processed_videos
        self.dump_path = dump_path

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Keep each sample's predictions (numpy)."""
        for sample in data_samples:
            self.results.append(_collect(sample, 'video_id', with_labels=self.with_labels))

    def _predictions_and_ground_truth(self, results: list
                                      ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """``(predictions, instances, ambiguous)`` DataFrames (see the class docstring)."""
        results = merge_windows(results, self.with_labels, **self.window_merge)
        predictions = _frame(results, 'video_id', with_labels=self.with_labels)
        if self.dump_path:
            from pal_eval.data.submission import write_action_submission

            write_action_submission(self.dump_path, predictions, overwrite=True)
        annotations = self.ground_truth.get()
        instances, ambiguous = annotations.instances, annotations.ambiguous
        if self.blocked_videos:  # the official evaluator drops their predictions too
            from pal_eval.evaluation.inputs import blocked_video_ids

            predictions = predictions[~predictions['video_id'].isin(
                blocked_video_ids(self.blocked_videos))].reset_index(drop=True)
        if self.only_processed_videos:
            seen = set(predictions['video_id'])
            instances = instances[instances['video_id'].isin(seen)]
            ambiguous = ambiguous[ambiguous['video_id'].isin(seen)]
        return predictions, instances, ambiguous


@METRICS.register_module()
class TemporalDetectionMetric(_ActionMetric):
    """Detection mAP per tIoU and average mAP (ActivityNet protocol, or THUMOS14 MATLAB).

    Args:
        ann_file: Ground-truth file (ActivityNet-style JSON, THUMOS14 CSV/folder).
        subset: Ground-truth subset to evaluate.
        tiou_thresholds: tIoU thresholds (default ActivityNet 0.5:0.05:0.95).
        protocol: ``'anet'`` or ``'thumos14-matlab'``.
        strict: Raise on labels that are not ground-truth classes (else warn, drop).
        only_processed_videos: Evaluate against the videos seen by ``process()`` only
            (quick validation on part of a split; not the official number).
        dump_path: Write the predictions here as an ActivityNet submission JSON.
        window_merge: Settings of the Soft-NMS that merges the windows of a video
            predicted window by window (THUMOS style; :data:`WINDOW_MERGE_KEYS`: ``sigma``,
            ``top_k`` (G-TAD's 0.46 / 200), the loop's ``keep_last`` / ``stop_at_zero``,
            ``round_seconds`` / ``round_scores``).
        collect_device: Passed to :class:`~mmengine.evaluator.BaseMetric`.
        prefix: Metric name prefix (default none: flat names).
        blocked_videos: A video list file whose videos are left out of the ground truth
            and the predictions (ActivityNet's blocked videos: OpenTAD's ``blocked.json``).
    """

    with_labels = True

    def __init__(self, ann_file: str, subset: str | None = 'validation',
                 tiou_thresholds: Sequence[float] = ANET_TIOU_THRESHOLDS,
                 protocol: str = 'anet', strict: bool = False,
                 only_processed_videos: bool = False, dump_path: str | None = None,
                 window_merge: dict | None = None, collect_device: str = 'cpu',
                 prefix: str | None = None, blocked_videos: str | None = None) -> None:
        super().__init__(ann_file, subset, only_processed_videos, dump_path, window_merge,
                         collect_device, prefix, blocked_videos)
        if protocol not in ('anet', 'thumos14-matlab'):
            raise PalEvalError(f"protocol must be 'anet' or 'thumos14-matlab', got {protocol!r}")
        self.tiou_thresholds = [float(t) for t in tiou_thresholds]
        self.protocol = protocol
        self.strict = strict

    def compute_metrics(self, results: list) -> dict[str, float]:
        """``{'mAP@0.5': .., ..., 'average_mAP': ..}`` as fractions."""
        predictions, instances, ambiguous = self._predictions_and_ground_truth(results)
        if self.protocol == 'thumos14-matlab':
            result = evaluate_thumos14_matlab(instances, predictions, ambiguous,
                                              self.tiou_thresholds, self.strict)
        else:
            result = evaluate_detection(instances, predictions, self.tiou_thresholds,
                                        self.strict)
        if result.num_ignored:
            _warn(f'TemporalDetectionMetric: ignored {result.num_ignored} predictions with '
                  f'labels outside the ground-truth classes: {result.ignored_labels}')
        metrics = {f'mAP@{t:g}': value for t, value in zip(result.tiou_thresholds, result.mAP)}
        metrics['average_mAP'] = result.average_mAP
        return metrics


@METRICS.register_module()
class ProposalRecallMetric(_ActionMetric):
    """Proposal AR@AN (AR@1, 5, 10, 50, 100) and AUC, ActivityNet protocol.

    Args:
        ann_file: Ground-truth file (ActivityNet-style JSON, THUMOS14 CSV/folder).
        subset: Ground-truth subset to evaluate.
        max_avg_proposals: x range of the AR@AN curve.
        tiou_thresholds: tIoU thresholds (default 0.5:0.05:0.95).
        ar_at: AR@n points to report.
        only_processed_videos: Restrict the ground truth to the processed videos.
        dump_path: Write the proposals here as an ActivityNet submission JSON.
        window_merge: Settings of the Soft-NMS merging a video's windows (as
            :class:`TemporalDetectionMetric`'s).
        collect_device: Passed to :class:`~mmengine.evaluator.BaseMetric`.
        prefix: Metric name prefix (default none).
        blocked_videos: A video list file left out of ground truth and proposals.
    """

    def __init__(self, ann_file: str, subset: str | None = 'validation',
                 max_avg_proposals: float = 100,
                 tiou_thresholds: Sequence[float] = ANET_TIOU_THRESHOLDS,
                 ar_at: Sequence[int] = DEFAULT_AR_AT, only_processed_videos: bool = False,
                 dump_path: str | None = None, window_merge: dict | None = None,
                 collect_device: str = 'cpu', prefix: str | None = None,
                 blocked_videos: str | None = None) -> None:
        super().__init__(ann_file, subset, only_processed_videos, dump_path, window_merge,
                         collect_device, prefix, blocked_videos)
        self.max_avg_proposals = max_avg_proposals
        self.tiou_thresholds = [float(t) for t in tiou_thresholds]
        self.ar_at = list(ar_at)

    def compute_metrics(self, results: list) -> dict[str, float]:
        """``{'AR@1': .., ..., 'AR@100': .., 'AUC': ..}`` as fractions."""
        proposals, instances, _ = self._predictions_and_ground_truth(results)
        result = evaluate_proposals(instances, proposals, self.max_avg_proposals,
                                    self.tiou_thresholds, self.ar_at)
        metrics = {f'AR@{n}': value for n, value in result.ar_at.items()}
        metrics['AUC'] = result.auc
        return metrics


@METRICS.register_module()
class GroundingRecallMetric(BaseMetric):
    """Grounding ``R@n,IoU=m`` and mIoU (2D-TAN protocol).

    Args:
        ann_file: Canonical grounding JSON, Charades-STA txt or ActivityNet Captions JSON.
        subset: Query subset (``None``: all).
        recalls: ``n`` values.
        ious: ``m`` values (strict ``>``).
        nms_thresh: NMS tIoU threshold before taking the top ``n``.
        time_precision: ``'float64'`` (exact, default) or ``'float32'``: 2D-TAN's float32
            moment times (R@5 parity, :func:`~pal_eval.evaluation.grounding.evaluate_grounding`);
            durations the ground truth lacks come from the samples' ``duration``.
        only_processed_queries: Restrict the ground truth to the processed queries.
        dump_path: Write the predictions here as grounding predictions JSON.
        collect_device: Passed to :class:`~mmengine.evaluator.BaseMetric`.
        prefix: Metric name prefix (default none).
    """

    default_prefix = ''

    def __init__(self, ann_file: str, subset: str | None = None,
                 recalls: Sequence[int] = (1, 5), ious: Sequence[float] = (0.3, 0.5, 0.7),
                 nms_thresh: float = 0.5, time_precision: str = 'float64',
                 only_processed_queries: bool = False,
                 dump_path: str | None = None, collect_device: str = 'cpu',
                 prefix: str | None = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.ground_truth = _GroundTruthCache(load_grounding_ground_truth, ann_file, subset)
        self.time_precision = check_time_precision(time_precision)
        self.recalls = [int(n) for n in recalls]
        self.ious = [float(m) for m in ious]
        self.nms_thresh = float(nms_thresh)
        self.only_processed_queries = only_processed_queries
        self.dump_path = dump_path

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Keep each query's candidates (numpy)."""
        for sample in data_samples:
            record = _collect(sample, 'query_id', with_labels=False)
            record['duration'] = sample_field(sample, 'duration')
            self.results.append(record)

    def compute_metrics(self, results: list) -> dict[str, float]:
        """``{'R@1,IoU=0.3': .., ..., 'mIoU': ..}`` as fractions."""
        predictions = _frame(results, 'query_id', with_labels=False)
        if self.dump_path:
            from pal_eval.data.submission import write_grounding_predictions

            write_grounding_predictions(self.dump_path, predictions, overwrite=True)
        queries = self.ground_truth.get()
        if self.only_processed_queries:
            queries = queries[queries['query_id'].astype(str).isin(
                set(predictions['query_id']))]
        if self.time_precision == 'float32' and queries['duration'].isna().any():
            # Charades-STA txt has no durations: the dataset's (feature sidecars) serve.
            known = {r['query_id']: r['duration'] for r in results if r['duration']}
            queries = queries.assign(duration=queries['duration'].fillna(
                queries['query_id'].astype(str).map(known)))
        result = evaluate_grounding(queries, predictions, self.recalls, self.ious,
                                    self.nms_thresh, time_precision=self.time_precision)
        if result.num_unmatched_predictions:
            _warn(f'GroundingRecallMetric: ignored {result.num_unmatched_predictions} '
                  'predictions of unknown query ids')
        return result.to_dict()

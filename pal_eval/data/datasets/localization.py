"""Feature datasets for the temporal localization heads (BMN, G-TAD).

Two ways of turning a video's features ``[T_video, C]`` into fixed-size samples:

* **ActivityNet style** (:class:`ActivityNetFeatureDataset`): every video is resampled
  to ``temporal_scale`` (100) positions by linear interpolation of its features at the
  centres of ``temporal_scale`` equal bins over the annotated duration. Ground truth is
  normalised to ``[0, 1]`` by the duration.
* **THUMOS style** (:class:`ThumosFeatureDataset`): long videos keep their native
  feature rate and are cut into windows of ``temporal_scale`` (256) features every
  ``window_stride`` features, placed, kept for training and labelled as G-TAD's THUMOS14
  code does (frostinassiky/gtad ``master:gtad_lib/dataset.py::_get_data``;
  :func:`window_starts`, :func:`window_ground_truth`). Predictions of the windows are
  merged back per video and suppressed again
  (:func:`pal_eval.postprocess.windows.merge_window_predictions`).

The functional core (windowing, window ground truth) is plain numpy. Samples carry what
MMAction2's and OpenTAD's localization datasets carry, so any of their models can read
them, and each model builds its own training labels from the ground truth
(``heads/targets.py``).

Each sample is ``dict(inputs=Tensor[C, T], data_samples=ActionDataSample)``; the data
sample carries ``gt_instances.gt_bbox`` (``[M, 2]`` float64, fractions of the sample's
``T`` positions: what mmaction2's BMN reads) and the metainfo ``video_id``, ``duration``,
``grid_centers`` (seconds: the time of each of the T positions, used to convert
predictions to seconds) and, for windows, ``window_start`` and ``boundary_at`` (where
boundary position ``b`` lies: ``'edge'``, between snippets ``b - 1`` and ``b``, the
convention of :mod:`pal_eval.core.time_grid`; ``'center'``, at snippet ``b``'s centre, G-TAD
THUMOS14's frame ``5 (w + b)``; ``gt_bbox`` is expressed in the same convention).
"""
from __future__ import annotations

import math
import os
import warnings
from collections.abc import Sequence

import numpy as np
import torch
from mmaction.registry import DATASETS
from mmaction.structures import ActionDataSample
from mmengine.dataset import BaseDataset
from mmengine.structures import InstanceData

from pal_eval.core.resample import resample_features
from pal_eval.core.time_grid import seconds_to_boundary
from pal_eval.data.annotations import load_actions
from pal_eval.errors import InputError, PalEvalError

__all__ = [
    'window_starts', 'window_ground_truth', 'check_missing_features', 'under_data_root',
    'ActivityNetFeatureDataset',
    'ThumosFeatureDataset',
]


# --------------------------------------------------------------------------- core
def under_data_root(path: str | None, data_root: str | None) -> str | None:
    """``path`` as a feature dataset opens it: relative paths are taken from ``data_root``.

    The rule of MMEngine's ``BaseDataset`` for ``ann_file``, applied to every other path a
    feature dataset reads (``feature_dir``, ``blocked_videos``, ``durations_file``), so one
    ``data_root`` moves all of them together. Absolute paths and an empty root leave
    ``path`` as it is.

    Examples:
        >>> under_data_root('features/pal', 'data/anet')
        'data/anet/features/pal'
        >>> under_data_root('/abs/features', 'data/anet'), under_data_root('f', '')
        ('/abs/features', 'f')
    """
    if not path or not data_root or os.path.isabs(path):
        return path
    return os.path.join(data_root, path)


def window_starts(num_features: int, window_size: int, window_stride: int,
                  last: str = 'cover', min_tail: int | None = None) -> list[int]:
    """First feature index of each sliding window.

    ``last='cover'``: windows every ``window_stride`` features, one more (zero-padded) while
    features remain uncovered, so every feature is scored. ``last='official'``: G-TAD
    THUMOS14's (``master:gtad_lib/dataset.py::_get_data``): ``int((n + stride - size) /
    stride)`` windows every ``stride``; a video shorter than a window gets one
    (zero-padded); otherwise a last window at ``n - size`` is added only when more than
    ``min_tail`` features follow the last one (default ``int(size / 5)``: G-TAD's
    ``int(num_videoframes / skip_videoframes)``, 51), so up to 51 final features of a
    video are never scored.

    Examples:
        >>> window_starts(600, 256, 128)
        [0, 128, 256, 384]
        >>> window_starts(600, 256, 128, last='official')
        [0, 128, 256, 344]
        >>> window_starts(300, 256, 128, last='official'), window_starts(100, 256, 128)
        ([0], [0])
    """
    if last == 'official':
        if num_features < window_size:
            return [0]
        count = int((num_features + window_stride - window_size) / window_stride)
        starts = [window_stride * i for i in range(count)]
        tail = int(window_size / 5) if min_tail is None else int(min_tail)
        if num_features - starts[-1] - window_size > tail:
            starts.append(num_features - window_size)
        return starts
    if last != 'cover':
        raise ValueError(f"last must be 'cover' or 'official', got {last!r}")
    starts = list(range(0, max(num_features - window_size, 0) + 1, window_stride))
    if starts[-1] + window_size < num_features:
        starts.append(starts[-1] + window_stride)
    return starts


def window_ground_truth(segments: np.ndarray, window_centers: np.ndarray, size: int, *,
                        rule: str = 'official', min_coverage: float = 0.75,
                        boundary_at: str = 'edge') -> tuple[np.ndarray, np.ndarray, bool]:
    """Ground truth of one window: which segments it keeps, where, whether it trains.

    Positions are edge boundaries of the window's grid (:mod:`pal_eval.core.time_grid`):
    the window spans ``[0, size]``, the frames ``[5 w - 2.5, 5 (w + 255) + 2.5]`` of G-TAD
    THUMOS14's snippets.

    * ``rule='official'`` (``master:gtad_lib/dataset.py::_get_data``): a segment is kept
      when its IoA (overlap / its length) with the window is > 0, *unclipped*; the window
      trains when some segment is kept and the largest IoA is > 0.9.
    * ``rule='coverage'``: a segment is kept when at least ``min_coverage`` of it lies in
      the window, clipped to it; the window trains when any is kept.

    Args:
        segments: ``[M, 2]`` seconds.
        window_centers: The window's ``size`` centre times (extrapolated past the end).
        size: ``T``.
        rule: ``'official'`` or ``'coverage'``.
        min_coverage: The ``'coverage'`` rule's fraction.
        boundary_at: ``'edge'`` or ``'center'``: the convention of the returned fractions
            (``'center'``: half a position earlier, G-TAD THUMOS14's).

    Returns:
        ``(gt [K, 2] window fractions, kept [M] bool, trains)``.

    Examples:
        >>> centers = np.arange(8) + 0.5                  # one position per second
        >>> gt, kept, trains = window_ground_truth(np.array([[-2.0, 2.0], [6.0, 9.0]]),
        ...                                        centers, 8)
        >>> (gt * 8).tolist(), kept.tolist(), trains     # IoA 0.5 and 2/3
        ([[-2.0, 2.0], [6.0, 9.0]], [True, True], False)
    """
    segments = np.asarray(segments, np.float64).reshape(-1, 2)
    if boundary_at not in ('edge', 'center'):
        raise ValueError(f"boundary_at must be 'edge' or 'center', got {boundary_at!r}")
    if len(segments) == 0:
        return np.zeros((0, 2)), np.zeros(0, dtype=bool), False
    positions = seconds_to_boundary(segments, window_centers)
    length = positions[:, 1] - positions[:, 0]
    inside = positions.clip(0.0, float(size))
    overlap = inside[:, 1] - inside[:, 0]
    ioa = np.divide(overlap, length, out=np.zeros(len(length)), where=length > 0)
    if rule == 'official':
        kept = ioa > 0
        trains = bool(kept.any() and ioa.max() > 0.9)
        chosen = positions[kept]
    elif rule == 'coverage':
        kept = ioa >= min_coverage
        trains = bool(kept.any())
        chosen = inside[kept]
    else:
        raise ValueError(f"rule must be 'official' or 'coverage', got {rule!r}")
    if boundary_at == 'center':
        chosen = chosen - 0.5
    return chosen / size, kept, trains


# ----------------------------------------------------------------------- datasets
def _pack(features: np.ndarray, gt_normalised: np.ndarray, labels: Sequence[str],
          metainfo: dict) -> dict:
    """Build ``dict(inputs=[C, T] tensor, data_samples=ActionDataSample)``."""
    sample = ActionDataSample()
    sample.set_metainfo(metainfo)
    # float64: the labels the models build from it equal those of the exact segments.
    sample.gt_instances = InstanceData(
        gt_bbox=torch.as_tensor(gt_normalised, dtype=torch.float64).reshape(-1, 2))
    sample.set_field(list(labels), 'gt_labels_names', field_type='metainfo')
    return dict(inputs=torch.from_numpy(np.ascontiguousarray(features.T)), data_samples=sample)


class _FeatureDatasetBase(BaseDataset):
    """Shared: annotations + feature folder -> one data info per video (or window).

    Args (besides those of the subclasses):
        feature_source: How ``feature_dir`` is laid out (a published release read in
            place, :mod:`pal_eval.data.feature_sources`); None: our folder format.
        blocked_videos: A video list file (:func:`pal_eval.data.annotations.
            read_video_list`, e.g. ActivityNet's ``blocked.json``): those videos are left
            out, as the official evaluator leaves them out when asked.
        missing_features: ``'error'`` (default): an annotated video without features is
            an error naming the folder and the videos; ``'skip'``: such videos are left
            out with one warning (a split left empty is still an error).
        data_root (keyword, MMEngine's): root of the relative ``ann_file``,
            ``feature_dir`` and ``blocked_videos`` (:func:`under_data_root`).
    """

    def __init__(self, ann_file: str, feature_dir: str, *, subset: str | None = None,
                 temporal_scale: int = 100, pipeline: Sequence = (),
                 test_mode: bool = False, feature_source: dict | None = None,
                 blocked_videos: str | None = None, missing_features: str = 'error',
                 **kwargs):
        from pal_eval.data.feature_sources import FeatureSource

        if missing_features not in ('error', 'skip'):
            raise PalEvalError(f"missing_features must be 'error' or 'skip', got "
                               f'{missing_features!r}')
        data_root = kwargs.get('data_root') or ''
        self.feature_dir = under_data_root(feature_dir, data_root)
        self.subset = subset
        self.temporal_scale = int(temporal_scale)
        self.feature_source = FeatureSource.from_config(feature_source)
        self.blocked_videos = under_data_root(blocked_videos, data_root)
        self.missing_features = missing_features
        self._store = None
        super().__init__(ann_file=ann_file, pipeline=list(pipeline), test_mode=test_mode,
                         serialize_data=False, **kwargs)

    @property
    def store(self):
        """The feature store (our folder, or the declared release read in place)."""
        if self._store is None:
            from pal_eval.data.feature_sources import open_feature_store

            self._store = open_feature_store(self.feature_dir, self.feature_source)
        return self._store

    def _load(self, record: dict):
        """A record's features on their time grid (the annotation's timing passed on)."""
        return self.store.load(record['video_id'], duration=record['duration'],
                               fps=record.get('fps'), feature_span=record.get('feature_span'))

    def _annotations(self):
        """The subset's annotations, less the blocked videos."""
        annotations = load_actions(self.ann_file, self.subset)
        if self.blocked_videos:
            from pal_eval.data.annotations import read_video_list, with_either_prefix

            annotations = annotations.without_videos(
                with_either_prefix(read_video_list(self.blocked_videos)))
        return annotations

    def _video_records(self) -> list[dict]:
        """One record per annotated video of the subset (all must have features)."""
        annotations = self._annotations()
        self.taxonomy = list(annotations.taxonomy)
        grouped = {video: group for video, group in
                   annotations.instances.groupby('video_id', sort=False)}
        missing = [v for v in annotations.videos if v not in self.store]
        check_missing_features(self.feature_dir, self.ann_file, self.subset, missing,
                               len(annotations.videos), self.missing_features)
        records = []
        for video_id, info in annotations.videos.items():
            if video_id in missing:
                continue
            group = grouped.get(video_id)
            segments = (np.zeros((0, 2)) if group is None else
                        group[['t_start', 't_end']].to_numpy(np.float64))
            labels = [] if group is None else group['label'].tolist()
            record = dict(video_id=video_id, duration=float(info.duration), fps=info.fps,
                          feature_span=info.feature_span, gt_segments=segments,
                          gt_labels=labels)
            if math.isnan(record['duration']):
                # THUMOS14 CSVs and G-TAD's JSON store none: the features' metadata (our
                # sidecar, or the release's grid) give it.
                record['duration'] = self._load(record).duration
            records.append(record)
        return records


def check_missing_features(feature_dir: str, ann_file: str, subset: str | None,
                           missing: Sequence[str], total: int, policy: str) -> None:
    """Raise (``policy='error'``, or all missing) or warn once about annotated videos
    without features, naming the folder, the annotation file and the first videos."""
    if not missing:
        return
    shown = ', '.join(map(repr, missing[:5])) + (', ...' if len(missing) > 5 else '')
    where = f'{ann_file}' + (f' (subset {subset!r})' if subset else '')
    message = (f'no features for {len(missing)} of {total} annotated videos of {where}: '
               f'{shown}')
    if policy == 'error' or len(missing) == total:
        raise InputError(feature_dir, message + " (extract them, leave them out with "
                         "blocked_videos=FILE, or set missing_features='skip')")
    warnings.warn(f'{feature_dir}: {message}; they are skipped (missing_features=skip)',
                  stacklevel=3)

@DATASETS.register_module()
class ActivityNetFeatureDataset(_FeatureDatasetBase):
    """ActivityNet-style dataset: each video resampled to ``temporal_scale`` positions.

    Args:
        ann_file: Action annotations in any format ``load_actions`` reads.
        feature_dir: A feature folder (:class:`pal_eval.data.features.FeatureStore`).
        subset: ``training`` / ``validation`` / ``testing`` (None: all).
        temporal_scale: ``T`` (100 for BMN and G-TAD).
        pipeline: Extra MMEngine transforms applied after packing (usually none).
        test_mode: Keep videos without ground truth.

    Examples:
        >>> ds = ActivityNetFeatureDataset(  # doctest: +SKIP
        ...     'synth/annotations/activitynet.json', 'feats/', subset='training')
        >>> ds[0]['inputs'].shape  # doctest: +SKIP
        torch.Size([400, 100])
    """

    def load_data_list(self) -> list[dict]:
        records = self._video_records()
        if not self.test_mode:
            records = [r for r in records if len(r['gt_segments'])]
        return records

    def prepare_data(self, idx: int) -> dict:
        record = self.get_data_info(idx)
        video = self._load(record)
        duration = record['duration']
        features, grid = resample_features(video.features, video.centers, duration,
                                           self.temporal_scale)
        gt = (np.asarray(record['gt_segments'], np.float64) / duration).clip(0.0, 1.0)
        meta = dict(video_id=record['video_id'], duration=duration, grid_centers=grid,
                    temporal_scale=self.temporal_scale)
        return self.pipeline(_pack(features, gt, record['gt_labels'], meta))

@DATASETS.register_module()
class ThumosFeatureDataset(_FeatureDatasetBase):
    """THUMOS-style dataset: sliding windows of ``temporal_scale`` native features.

    The defaults are G-TAD THUMOS14's (frostinassiky/gtad ``master:gtad_lib/dataset.py``);
    docs/heads.md lists each with the option that gives our former behaviour.

    Args:
        ann_file: THUMOS14 annotations in any format ``load_actions`` reads (the
            evaluator's CSV, G-TAD's JSON, the per-class txt folder).
        feature_dir: A feature folder.
        subset: ``validation`` (THUMOS14's training split) or ``test``.
        temporal_scale: Window size in features (256).
        window_stride: Features between window starts (128: half overlap).
        windows: Window placement (:func:`window_starts` ``last``): ``'official'`` or
            ``'cover'`` (every feature scored; the last window zero-padded).
        gt_rule: Training ground truth and windows (:func:`window_ground_truth` ``rule``):
            ``'official'`` (IoA > 0 kept unclipped, windows with an IoA > 0.9) or
            ``'coverage'`` (>= ``min_coverage`` inside, clipped; windows with any).
        min_coverage: The ``'coverage'`` rule's fraction (0.75).
        boundary_at: ``'center'`` (G-TAD THUMOS14: boundary ``b`` at snippet ``b``'s centre
            time) or ``'edge'`` (:mod:`pal_eval.core.time_grid`); stored in each sample's
            metainfo, read by the heads when they convert positions to seconds.
        pipeline, test_mode: as :class:`ActivityNetFeatureDataset` (test mode keeps every
            window).
    """

    def __init__(self, ann_file: str, feature_dir: str, *, temporal_scale: int = 256,
                 window_stride: int = 128, windows: str = 'official',
                 gt_rule: str = 'official', min_coverage: float = 0.75,
                 boundary_at: str = 'center', **kwargs):
        self.window_stride = int(window_stride)
        self.windows = windows
        self.gt_rule = gt_rule
        self.min_coverage = float(min_coverage)
        self.boundary_at = boundary_at
        window_starts(1, 1, 1, last=windows)  # wrong option names fail here
        window_ground_truth(np.zeros((0, 2)), np.zeros(1), 1, rule=gt_rule,
                            boundary_at=boundary_at)
        super().__init__(ann_file, feature_dir, temporal_scale=temporal_scale, **kwargs)

    def load_data_list(self) -> list[dict]:
        windows = []
        for record in self._video_records():
            side = self._load(record)
            centers = side.centers
            for start in window_starts(len(centers), self.temporal_scale,
                                       self.window_stride, last=self.windows):
                window_centers = _window_centers(centers, start, self.temporal_scale)
                gt, kept, trains = window_ground_truth(
                    record['gt_segments'], window_centers, self.temporal_scale,
                    rule=self.gt_rule, min_coverage=self.min_coverage,
                    boundary_at=self.boundary_at)
                if not self.test_mode and not trains:
                    continue
                labels = [label for label, k in zip(record['gt_labels'], kept) if k]
                windows.append(dict(record, window_start=start, gt_window=gt,
                                    gt_window_labels=labels))
        return windows

    def prepare_data(self, idx: int) -> dict:
        record = self.get_data_info(idx)
        video = self._load(record)
        start, size = record['window_start'], self.temporal_scale
        features = np.zeros((size, video.features.shape[1]), dtype=np.float32)
        chunk = video.features[start:start + size]
        features[:len(chunk)] = chunk
        meta = dict(video_id=record['video_id'], duration=record['duration'],
                    grid_centers=_window_centers(video.centers, start, size),
                    window_start=start, temporal_scale=size, boundary_at=self.boundary_at)
        return self.pipeline(_pack(features, record['gt_window'],
                                   record['gt_window_labels'], meta))


def _window_centers(centers: np.ndarray, start: int, size: int) -> np.ndarray:
    """Centre times of a window's ``size`` positions, extrapolated past the video end."""
    centers = np.asarray(centers, dtype=np.float64)
    step = centers[1] - centers[0] if len(centers) > 1 else 1.0
    positions = np.arange(start, start + size)
    inside = np.minimum(positions, len(centers) - 1)
    return np.where(positions < len(centers), centers[inside],
                    centers[-1] + (positions - len(centers) + 1) * step)

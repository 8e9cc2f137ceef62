"""Grounding queries over extracted clip features, for the 2D-TAN head.

One sample = one (video, sentence, segment) query. Queries come from Charades-STA txt,
ActivityNet Captions JSON or the canonical grounding JSON, always through
:func:`pal_eval.data.annotations.load_queries`; features come from a feature folder
(:class:`pal_eval.data.features.FeatureStore`).

Each video's ``[T, C]`` features are pooled to a fixed number of clips on a uniform
time grid spanning the extracted features (:func:`pool_features_to_clips`): the grid's
span, not a hand-set stride, turns a candidate moment back into seconds, so any
extraction stride, fps or tail handling is accounted for.

Functional core first (numpy/pandas), the MMEngine dataset and transforms below.
"""
from __future__ import annotations

import os
from collections import OrderedDict

import numpy as np
import pandas as pd

from pal_eval.data.annotations import load_queries
from pal_eval.errors import InputError

__all__ = ['read_grounding_queries', 'feature_time_span', 'pool_features_to_clips',
           'GroundingFeatureDataset', 'LoadGroundingClips', 'PackGroundingInputs']


# ------------------------------------------------------------------- functional core
def read_grounding_queries(ann_file: str | os.PathLike, *, subset: str | None = None,
                           durations_file: str | os.PathLike | None = None) -> pd.DataFrame:
    """Queries of a grounding annotation file in canonical form (one row per query).

    Read by :func:`pal_eval.data.annotations.load_queries` (any grounding format; for
    Charades-STA the durations come from ``durations_file``, a ``Charades_v1_*.csv``;
    without it they are NaN and the dataset takes them from the feature folder). Here a
    file without queries is an error: there is nothing to train or evaluate on.

    Args:
        ann_file: Annotation file.
        subset: Canonical JSON: keep only queries of this subset. Charades-STA and
            ActivityNet Captions hold one split per file: the value labels the rows.
        durations_file: Video durations, for Charades-STA txt only.

    Returns:
        DataFrame with the columns of
        :data:`pal_eval.data.annotations.canonical.QUERY_COLUMNS`.
    """
    queries = load_queries(ann_file, subset, durations=durations_file).queries
    if queries.empty:
        raise InputError(ann_file, 'no query' + (f' in subset {subset!r}' if subset else ''),
                         field='queries')
    return queries.reset_index(drop=True)


def feature_time_span(centers: np.ndarray, duration: float) -> tuple[float, float]:
    """Time span covered by the features: from the first one's start to the last one's end.

    Feature edges lie half a stride before the first centre and after the last one
    (the shared snippet-grid convention of :mod:`pal_eval.core.time_grid`),
    clipped to ``[0, duration]``.

    Examples:
        >>> feature_time_span(np.array([0.5, 1.5, 2.5, 3.5]), 4.2)
        (0.0, 4.0)
    """
    from pal_eval.core.time_grid import boundary_to_seconds

    start, end = boundary_to_seconds(np.array([0.0, len(centers)]), centers)
    start, end = max(0.0, float(start)), min(float(duration), float(end))
    if end <= start:  # features stamped outside the video: fall back to the whole video
        return 0.0, float(duration)
    return start, end


def pool_features_to_clips(features: np.ndarray, centers: np.ndarray, duration: float,
                           num_clips: int) -> tuple[np.ndarray, tuple[float, float]]:
    """Average features into ``num_clips`` equal time bins over the features' time span.

    A bin takes the mean of the features whose centre falls in it; a bin with no
    feature (fewer features than clips) takes the features linearly interpolated at
    its centre time.

    Args:
        features: ``[T, C]`` features.
        centers: ``[T]`` increasing centre times (seconds).
        duration: Video duration (seconds).
        num_clips: N.

    Returns:
        ``[N, C]`` float32 clip features and the ``(start, end)`` span in seconds.

    Examples:
        >>> clips, span = pool_features_to_clips(np.arange(4.0)[:, None],
        ...                                      np.array([0.5, 1.5, 2.5, 3.5]), 4.0, 2)
        >>> clips[:, 0].tolist(), span
        ([0.5, 2.5], (0.0, 4.0))
    """
    features = np.asarray(features, dtype=np.float64)
    centers = np.asarray(centers, dtype=np.float64)
    start, end = feature_time_span(centers, duration)
    edges = np.linspace(start, end, num_clips + 1)
    bins = (np.searchsorted(edges, centers, side='right') - 1).clip(0, num_clips - 1)
    sums = np.zeros((num_clips, features.shape[1]))
    np.add.at(sums, bins, features)
    counts = np.bincount(bins, minlength=num_clips)
    clips = sums / np.maximum(counts, 1)[:, None]
    empty = counts == 0
    if empty.any():
        bin_centers = (edges[:-1] + edges[1:])[empty] / 2
        clips[empty] = _interpolate_rows(bin_centers, centers, features)
    return clips.astype(np.float32), (start, end)


def _interpolate_rows(x: np.ndarray, xp: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``np.interp`` of every column of ``rows`` at ``x`` (clamped at the ends)."""
    if len(xp) == 1:
        return np.repeat(rows, len(x), axis=0)
    right = np.searchsorted(xp, x).clip(1, len(xp) - 1)
    left = right - 1
    gap = np.where(xp[right] > xp[left], xp[right] - xp[left], 1.0)
    weight = ((x - xp[left]) / gap).clip(0.0, 1.0)[:, None]
    return rows[left] * (1 - weight) + rows[right] * weight


# ------------------------------------------------------------------ MMEngine adapter
from mmaction.registry import DATASETS, TRANSFORMS  # noqa: E402
from mmcv.transforms import BaseTransform  # noqa: E402
from mmengine.dataset import BaseDataset  # noqa: E402

from pal_eval.data.datasets.localization import (  # noqa: E402
    check_missing_features,
    under_data_root,
)


@DATASETS.register_module()
class GroundingFeatureDataset(BaseDataset):
    """Sentence queries over a feature folder (one sample per query).

    Args:
        ann_file: Charades-STA txt, ActivityNet Captions JSON or canonical grounding JSON.
        feature_dir: Feature folder written by ``pal-eval extract`` (relative paths
            are taken from ``data_root``).
        pipeline: Transforms, typically ``LoadGroundingClips`` then ``PackGroundingInputs``.
        subset: Keep only this subset of the annotation file.
        durations_file: Video durations for Charades-STA txt.
        feature_source: How ``feature_dir`` is laid out (a published release read in
            place, :mod:`pal_eval.data.feature_sources`: 2D-TAN's Charades-STA VGG and
            ActivityNet Captions C3D HDF5 files); None: our folder format.
        data_root: Root of relative paths.
        test_mode: MMEngine's test flag.

    Each data info holds ``query_id``, ``video_id``, ``duration``, ``gt_segment``,
    ``sentence`` and ``feature_dir``.
    """

    def __init__(self, ann_file: str, feature_dir: str, pipeline: list, *,
                 subset: str | None = None, durations_file: str | None = None,
                 feature_source: dict | None = None, data_root: str = '',
                 test_mode: bool = False, **kwargs):
        from pal_eval.data.feature_sources import FeatureSource

        self.feature_dir = under_data_root(feature_dir, data_root)
        self.feature_source = FeatureSource.from_config(feature_source)
        self.subset = subset
        self.durations_file = under_data_root(durations_file, data_root)
        super().__init__(ann_file=ann_file, data_root=data_root, pipeline=pipeline,
                         test_mode=test_mode, **kwargs)

    def load_data_list(self) -> list[dict]:
        from pal_eval.data.feature_sources import open_feature_store

        queries = read_grounding_queries(self.ann_file, subset=self.subset,
                                         durations_file=self.durations_file)
        store = open_feature_store(self.feature_dir, self.feature_source)
        videos = list(dict.fromkeys(queries['video_id']))
        missing = [v for v in videos if v not in store]
        check_missing_features(self.feature_dir, self.ann_file, self.subset, missing,
                               len(videos), 'error')
        unknown = queries['duration'].isna()
        if unknown.any():
            # Charades-STA txt without a durations file: the features' metadata (our
            # sidecar) give them, or the store says which file is needed.
            durations = {v: store.load(v).duration
                         for v in queries.loc[unknown, 'video_id'].unique()}
            queries.loc[unknown, 'duration'] = queries.loc[unknown, 'video_id'].map(durations)
        source = self.feature_source
        return [dict(query_id=str(row.query_id), video_id=str(row.video_id),
                     duration=float(row.duration), gt_segment=[float(row.t_start),
                                                               float(row.t_end)],
                     sentence=str(row.sentence), feature_dir=self.feature_dir,
                     feature_source=source)
                for row in queries.itertuples(index=False)]


@TRANSFORMS.register_module()
class LoadGroundingClips(BaseTransform):
    """Load a video's features and pool them to ``num_clips`` clips.

    Adds ``clips`` (``[N, C]`` float32) and ``time_span`` (seconds covered by the map).
    The last ``cache_size`` videos are kept in memory: a video carries many queries.

    Args:
        num_clips: Clips delivered: the head's N, or N x its ``clip_pool`` (2D-TAN: 256).
        cache_size: Videos kept in memory per worker.
        l2_normalize: Scale each feature vector to unit L2 norm before pooling, as
            2D-TAN's datasets do (``DATASET.NORMALIZE: True``, ``F.normalize(features,
            dim=1)``).
    """

    def __init__(self, num_clips: int, cache_size: int = 256, l2_normalize: bool = False):
        self.num_clips = num_clips
        self.cache_size = cache_size
        self.l2_normalize = l2_normalize
        self._cache: OrderedDict = OrderedDict()
        self._stores: dict = {}  # one FeatureStore per folder: its meta.json is read once

    def transform(self, results: dict) -> dict:
        key = (results['feature_dir'], results['video_id'])
        if key not in self._cache:
            from pal_eval.data.feature_sources import open_feature_store

            if key[0] not in self._stores:
                self._stores[key[0]] = open_feature_store(key[0],
                                                          results.get('feature_source'))
            video = self._stores[key[0]].load(key[1], duration=results['duration'])
            features = np.asarray(video.features, dtype=np.float64)
            if self.l2_normalize:  # torch's F.normalize: x / max(||x||, 1e-12)
                norms = np.linalg.norm(features, axis=1, keepdims=True)
                features = features / np.maximum(norms, 1e-12)
            self._cache[key] = pool_features_to_clips(
                features, video.centers, results['duration'], self.num_clips)
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        results['clips'], results['time_span'] = self._cache[key]
        return results


@TRANSFORMS.register_module()
class PackGroundingInputs(BaseTransform):
    """Pack ``inputs`` (``[C, N]`` tensor) and an ``ActionDataSample`` with the query meta."""

    META_KEYS = ('query_id', 'video_id', 'duration', 'gt_segment', 'sentence', 'time_span')

    def transform(self, results: dict) -> dict:
        import torch
        from mmaction.structures import ActionDataSample

        sample = ActionDataSample(metainfo={k: results[k] for k in self.META_KEYS})
        inputs = torch.from_numpy(np.ascontiguousarray(results['clips'].T))
        return dict(inputs=inputs, data_samples=sample)

"""Features re-sampled onto another time grid: the one implementation every stage uses.

Also :func:`pool_segments`, the mean of a video's features inside given segments (the
per-proposal classification of the synthetic detection protocol pools with it).

The extraction writes ActivityNet-style folders with it (``num_snippets=T``) and the
feature datasets resample raw folders with it, so a video resampled at extraction time
and one resampled at training time are the same numbers.

* ``'linear'``: each channel interpolated linearly in time between the two nearest
  feature centres, constant beyond the first / last centre;
* ``'mean'``: the mean of the features whose centres fall into each of ``T`` equal bins
  (a bin that catches none, when there are fewer features than ``T``, is interpolated).
"""
from __future__ import annotations

import numpy as np

from pal_eval.core.time_grid import uniform_centers

__all__ = ['RESAMPLE_METHODS', 'interpolate_features', 'resample_features', 'pool_segments']

RESAMPLE_METHODS = ('linear', 'mean')


def interpolate_features(features: np.ndarray, centers: np.ndarray,
                         times: np.ndarray) -> np.ndarray:
    """Features ``[N, C]`` interpolated linearly at ``times`` (clamped at both ends).

    ``np.interp`` works on one channel at a time; this locates each time between two
    centres once and blends the two rows, for all channels together.

    Args:
        features: ``[N, C]`` features.
        centers: ``[N]`` increasing centre times (seconds).
        times: ``[T']`` times to sample at.

    Returns:
        ``[T', C]`` float32.

    Examples:
        >>> interpolate_features(np.array([[0.], [2.]]), np.array([1., 3.]),
        ...                      np.array([0., 2., 5.])).ravel().tolist()
        [0.0, 1.0, 2.0]
    """
    features = np.asarray(features, dtype=np.float64)
    centers = np.asarray(centers, dtype=np.float64)
    times = np.asarray(times, dtype=np.float64)
    if len(centers) == 1:
        return np.repeat(features, len(times), axis=0).astype(np.float32)
    right = np.clip(np.searchsorted(centers, times, side='right'), 1, len(centers) - 1)
    left = right - 1
    span = centers[right] - centers[left]
    weight = np.clip((times - centers[left]) / np.where(span > 0, span, 1.0), 0, 1)
    blended = features[left] * (1 - weight[:, None]) + features[right] * weight[:, None]
    return blended.astype(np.float32)


def resample_features(features: np.ndarray, centers: np.ndarray, duration: float,
                      num_snippets: int, method: str = 'linear'
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Resample a feature sequence to exactly ``num_snippets`` features (ActivityNet).

    The new features sit at the centres of ``num_snippets`` equal bins over
    ``[0, duration]`` (:func:`pal_eval.core.time_grid.uniform_centers`).

    Args:
        features: ``[N, C]`` clip features.
        centers: ``[N]`` increasing centre times (seconds).
        duration: Video duration (seconds).
        num_snippets: Output length ``T``.
        method: ``'linear'`` or ``'mean'`` (see the module docstring).

    Returns:
        ``(features [T, C] float32, centers [T] seconds)``.

    Examples:
        >>> feats = np.array([[0.0], [2.0]])
        >>> out, new_centers = resample_features(feats, np.array([1.0, 3.0]), 4.0, 4)
        >>> out[:, 0].tolist(), new_centers.tolist()
        ([0.0, 0.5, 1.5, 2.0], [0.5, 1.5, 2.5, 3.5])
    """
    if method not in RESAMPLE_METHODS:
        raise ValueError(f'method must be one of {RESAMPLE_METHODS}, got {method!r}')
    new_centers = uniform_centers(duration, num_snippets)
    linear = interpolate_features(features, centers, new_centers)
    if method == 'linear':
        return linear, new_centers
    features = np.asarray(features, dtype=np.float64)
    centers = np.asarray(centers, dtype=np.float64)
    bins = np.minimum((centers / duration * num_snippets).astype(np.int64), num_snippets - 1)
    sums = np.zeros((num_snippets, features.shape[1]))
    np.add.at(sums, bins, features)
    counts = np.bincount(bins, minlength=num_snippets)
    pooled = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], linear)
    return pooled.astype(np.float32), new_centers


def pool_segments(features: np.ndarray, centers: np.ndarray,
                  segments: np.ndarray) -> np.ndarray:
    """Mean of the features whose centre lies inside each segment.

    A segment containing no centre (shorter than the feature stride) takes the features
    linearly interpolated at its middle.

    Args:
        features: ``[T, C]`` one video's features.
        centers: ``[T]`` their centre times (seconds, increasing).
        segments: ``[K, 2]`` segments (seconds).

    Returns:
        ``[K, C]`` float64.

    Examples:
        >>> feats = np.array([[0.], [1.], [2.], [3.]])
        >>> pool_segments(feats, np.array([.5, 1.5, 2.5, 3.5]),
        ...               np.array([[1., 3.], [1.9, 2.1]])).ravel().tolist()
        [1.5, 1.5]
    """
    features = np.asarray(features, np.float64)
    centers = np.asarray(centers, np.float64)
    segments = np.asarray(segments, np.float64).reshape(-1, 2)
    # Prefix sums: the mean over any run of consecutive centres in O(1) per segment.
    prefix = np.concatenate([np.zeros((1, features.shape[1])), np.cumsum(features, axis=0)])
    first = np.searchsorted(centers, segments[:, 0], side='left')
    last = np.searchsorted(centers, segments[:, 1], side='right')
    count = last - first
    pooled = (prefix[last] - prefix[first]) / np.maximum(count, 1)[:, None]
    empty = count <= 0
    if empty.any():
        pooled[empty] = interpolate_features(features, centers, segments[empty].mean(axis=1))
    return pooled

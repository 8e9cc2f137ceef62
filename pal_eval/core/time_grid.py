"""Snippet positions <-> seconds, from the feature centre times of the extraction.

A feature folder stores, for every feature, the centre time of its receptive field
(:mod:`pal_eval.data.features`). Heads work in *boundary* positions on that grid:
boundary ``b`` is the edge between snippet ``b - 1`` and snippet ``b``, so boundary 0
is the start of the first snippet and boundary ``T`` the end of the last one. Its time
is the centre-time curve evaluated half a snippet earlier, with linear extrapolation
beyond the first and last centres. For a uniform grid of ``T`` bins over a video of
duration ``D`` (centres ``(i + 0.5) D / T``) this gives ``b D / T``, the convention of
BMN and G-TAD; for raw features it uses the real stride and offset of the extraction
instead of hand-set constants (mmaction2's ``feature_extraction_interval = 16``).
"""
from __future__ import annotations

import numpy as np

__all__ = ['boundary_to_seconds', 'seconds_to_boundary', 'strided_centers', 'uniform_centers']


def _extended(centers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centre times with one extrapolated point on each side, and their positions."""
    centers = np.asarray(centers, dtype=np.float64).reshape(-1)
    if len(centers) == 0:
        raise ValueError('no centre times')
    if len(centers) == 1:
        # One snippet: assume it spans [0, 2 * centre] (its centre is its middle).
        step = 2.0 * centers[0] if centers[0] > 0 else 1.0
    else:
        step = None
    first_step = step if step is not None else centers[1] - centers[0]
    last_step = step if step is not None else centers[-1] - centers[-2]
    times = np.concatenate([[centers[0] - first_step], centers, [centers[-1] + last_step]])
    positions = np.arange(-1, len(centers) + 1, dtype=np.float64)
    return positions, times


def boundary_to_seconds(boundaries: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Convert boundary positions (floats allowed) to seconds.

    Args:
        boundaries: Boundary positions on the snippet grid (any shape).
        centers: Centre time (seconds) of each of the ``T`` snippets.

    Returns:
        Seconds, same shape as ``boundaries`` (float64).

    Examples:
        >>> boundary_to_seconds(np.array([0, 2, 4]), uniform_centers(10.0, 4)).tolist()
        [0.0, 5.0, 10.0]
    """
    positions, times = _extended(centers)
    query = np.asarray(boundaries, dtype=np.float64) - 0.5
    return _interp_linear_extrapolate(query, positions, times)


def seconds_to_boundary(seconds: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Inverse of :func:`boundary_to_seconds` (centre times must increase).

    Examples:
        >>> seconds_to_boundary(np.array([0.0, 2.5, 10.0]), uniform_centers(10.0, 4)).tolist()
        [0.0, 1.0, 4.0]
    """
    positions, times = _extended(centers)
    return _interp_linear_extrapolate(np.asarray(seconds, dtype=np.float64), times,
                                      positions) + 0.5


def uniform_centers(duration: float, num_bins: int) -> np.ndarray:
    """Centre times of ``num_bins`` equal bins over ``[0, duration]``.

    Examples:
        >>> uniform_centers(4.0, 4).tolist()
        [0.5, 1.5, 2.5, 3.5]
    """
    return (np.arange(num_bins, dtype=np.float64) + 0.5) * (float(duration) / num_bins)


def strided_centers(num_features: int, fps: float, stride: float, offset: float = 0.0
                    ) -> np.ndarray:
    """Centre times of features taken every ``stride`` frames, the first centred at ``offset``.

    The grid of clip features extracted at a fixed rate (OpenTAD's ``feature_stride`` and
    ``offset_frames``, ActionFormer's ``feat_stride`` and ``0.5 * num_frames``): feature
    ``i`` is centred on frame ``offset + i * stride``, i.e. at that frame divided by ``fps``.

    Args:
        num_features: Number of features ``T``.
        fps: Frames per second of the frame numbering.
        stride: Frames between consecutive features.
        offset: Frame of the first feature's centre (half a clip for clips starting at 0).

    Examples:
        >>> strided_centers(3, fps=15.0, stride=16, offset=8).tolist()  # TSP: 16-frame clips
        [0.5333333333333333, 1.6, 2.6666666666666665]
    """
    frames = float(offset) + np.arange(num_features, dtype=np.float64) * float(stride)
    return frames / float(fps)


def _interp_linear_extrapolate(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """``np.interp`` that extrapolates linearly with the end slopes (np.interp clamps)."""
    shape = np.shape(x)
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    out = np.interp(x, xp, fp)
    low, high = x < xp[0], x > xp[-1]
    if np.any(low):
        out[low] = fp[0] + (x[low] - xp[0]) * (fp[1] - fp[0]) / (xp[1] - xp[0])
    if np.any(high):
        out[high] = fp[-1] + (x[high] - xp[-1]) * (fp[-1] - fp[-2]) / (xp[-1] - xp[-2])
    return out.reshape(shape)

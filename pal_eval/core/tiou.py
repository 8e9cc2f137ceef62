"""Temporal intersection over union (tIoU): the one implementation every stage uses.

The default formula is the ActivityNet one (``Evaluation/utils.py::segment_iou``), kept
operation for operation so that a tIoU exactly equal to a threshold lands on the same
side as in the official evaluators::

    intersection = max(0, min(end_a, end_b) - max(start_a, start_b))
    union        = (end_b - start_b) + (end_a - start_a) - intersection   # union='sum'
    tIoU         = intersection / union

``union='hull'`` computes the union as ``max(ends) - min(starts)`` instead, as 2D-TAN's
``iou`` and the THUMOS14 MATLAB kit's ``intervalsingleoverlapvalseconds`` do. Both are
the same number mathematically for overlapping segments (and 0 otherwise), but not
always bit for bit; the evaluators pick the form of the code they reproduce.

The same module holds :func:`coverage`, the intersection over a window's own length.

Everything is float64: mmaction2's ports hold tIoU in float32, which moves values that
equal a threshold (0.5, 0.75, ...) to the wrong side of it.

Degenerate pairs get tIoU 0 by default: a union of exactly 0 (two zero-length segments,
or a reversed segment whose negative length cancels the other's) and a negative union
(only possible with a reversed segment, whose intersection is then 0). The official
evaluators divide there and get NaN (or -0.0), which they then compare: callers that
reproduce them pass ``zero_union``, the value that behaves like their NaN in their
comparison (see :mod:`pal_eval.evaluation.detection` and :mod:`pal_eval.postprocess.nms`).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

__all__ = ['segment_tiou', 'pairwise_tiou', 'paired_tiou', 'as_segments', 'coverage']

Union = Literal['sum', 'hull']


def as_segments(segments: ArrayLike) -> np.ndarray:
    """Return ``segments`` as a float64 array of shape ``[N, 2]`` (``[start, end]`` rows).

    Args:
        segments: Anything numpy turns into ``[N, 2]`` (or a single ``[2]`` segment).

    Returns:
        A contiguous float64 array ``[N, 2]``.

    Examples:
        >>> as_segments([1, 2]).shape
        (1, 2)
    """
    array = np.asarray(segments, dtype=np.float64)
    if array.ndim == 1 and array.shape[0] == 2:
        array = array[None, :]
    if array.size == 0:
        return np.zeros((0, 2), dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f'segments must have shape [N, 2], got {array.shape}')
    return np.ascontiguousarray(array)


def _tiou(start_a, end_a, start_b, end_b, union: Union,
          zero_union: float = 0.0) -> np.ndarray:
    """Broadcasting core shared by the three public functions (one formula, one place)."""
    intersection = (np.minimum(end_a, end_b) - np.maximum(start_a, start_b)).clip(0)
    if union == 'sum':
        union_length = (end_b - start_b) + (end_a - start_a) - intersection
    elif union == 'hull':
        union_length = np.maximum(end_a, end_b) - np.minimum(start_a, start_b)
    else:
        raise ValueError(f"union must be 'sum' or 'hull', got {union!r}")
    out = np.zeros(np.broadcast_shapes(np.shape(intersection), np.shape(union_length)),
                   dtype=np.float64)
    # union <= 0: degenerate pairs, 0 or ``zero_union`` (see module doc).
    np.divide(intersection, union_length, out=out, where=union_length > 0)
    if zero_union != 0.0:
        out[np.broadcast_to(union_length == 0, out.shape)] = zero_union
    return out


def segment_tiou(target_segment: ArrayLike, candidate_segments: ArrayLike,
                 union: Union = 'sum', *, zero_union: float = 0.0) -> np.ndarray:
    """tIoU between one segment and each of ``N`` candidates.

    Args:
        target_segment: ``[start, end]``.
        candidate_segments: ``[N, 2]`` array of ``[start, end]``.
        union: ``'sum'`` (ActivityNet) or ``'hull'`` (2D-TAN, THUMOS14 MATLAB).
        zero_union: Value of pairs whose union is exactly 0 (see the module doc).

    Returns:
        float64 array ``[N]`` with values in ``[0, 1]``.

    Examples:
        >>> segment_tiou([0, 10], [[0, 10], [5, 15], [20, 30]]).tolist()
        [1.0, 0.3333333333333333, 0.0]
    """
    target = np.asarray(target_segment, dtype=np.float64).reshape(2)
    candidates = as_segments(candidate_segments)
    return _tiou(target[0], target[1], candidates[:, 0], candidates[:, 1], union,
                 zero_union)


def pairwise_tiou(segments_a: ArrayLike, segments_b: ArrayLike,
                  union: Union = 'sum', *, zero_union: float = 0.0) -> np.ndarray:
    """tIoU between every segment of ``segments_a`` and every segment of ``segments_b``.

    ``pairwise_tiou(a, b)[i, j] == segment_tiou(a[i], b[j:j+1])[0]`` bit for bit
    (float addition is commutative, so the argument order does not matter either).

    Args:
        segments_a: ``[N, 2]``.
        segments_b: ``[M, 2]``.
        union: ``'sum'`` (ActivityNet) or ``'hull'`` (2D-TAN, THUMOS14 MATLAB).
        zero_union: Value of pairs whose union is exactly 0 (see the module doc).

    Returns:
        float64 array ``[N, M]``.

    Examples:
        >>> pairwise_tiou([[0, 2], [1, 3]], [[1, 2]]).tolist()
        [[0.5], [0.5]]
    """
    a = as_segments(segments_a)
    b = as_segments(segments_b)
    return _tiou(a[:, None, 0], a[:, None, 1], b[None, :, 0], b[None, :, 1], union,
                 zero_union)


def paired_tiou(segments_a: ArrayLike, segments_b: ArrayLike,
                union: Union = 'sum', *, zero_union: float = 0.0) -> np.ndarray:
    """tIoU of row ``i`` of ``segments_a`` with row ``i`` of ``segments_b`` (same length).

    Used for flat lists of (prediction, ground truth) pairs.

    Args:
        segments_a: ``[N, 2]``.
        segments_b: ``[N, 2]``.
        union: ``'sum'`` (ActivityNet) or ``'hull'`` (2D-TAN, THUMOS14 MATLAB).
        zero_union: Value of pairs whose union is exactly 0 (see the module doc).

    Returns:
        float64 array ``[N]``.

    Examples:
        >>> paired_tiou([[0, 2], [0, 1]], [[1, 2], [2, 3]]).tolist()
        [0.5, 0.0]
    """
    a = as_segments(segments_a)
    b = as_segments(segments_b)
    return _tiou(a[:, 0], a[:, 1], b[:, 0], b[:, 1], union, zero_union)


def coverage(starts: np.ndarray, ends: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """Fraction of each window ``[starts[t], ends[t]]`` covered by each segment.

    Intersection over the window's own length (not tIoU): BMN's boundary labels (anchor
    covered by a boundary region) and the oracle features (feature window covered by an
    instance) both use it.

    Args:
        starts, ends: ``[T]`` window edges.
        segments: ``[M, 2]`` segments, in the windows' unit.

    Returns:
        ``[T, M]`` in ``[0, 1]`` (a zero-length window counts as covered when inside).

    Examples:
        >>> coverage(np.array([0., 1.]), np.array([1., 2.]), np.array([[0.5, 2.0]])).tolist()
        [[0.5], [1.0]]
    """
    starts = np.asarray(starts, np.float64)[:, None]
    ends = np.asarray(ends, np.float64)[:, None]
    segments = np.asarray(segments, np.float64).reshape(-1, 2)
    inter = (np.minimum(ends, segments[None, :, 1])
             - np.maximum(starts, segments[None, :, 0])).clip(0.0)
    width = ends - starts
    inside = (starts >= segments[None, :, 0]) & (ends <= segments[None, :, 1])
    return np.where(width > 0, inter / np.where(width > 0, width, 1.0), inside * 1.0)

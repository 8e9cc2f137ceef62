"""Training targets of the localization heads: the one owner of boundary labels and IoU maps.

The feature datasets deliver only what MMAction2 and OpenTAD datasets deliver, the ground
truth ``gt_instances.gt_bbox`` (segments as fractions of the sample's window) and the
time grid (``grid_centers``); each model builds its labels from ``gt_bbox`` with the
functions below. Times are fractions of the window, on BMN's grid of ``T`` positions:

* start (end) label of position ``i`` (anchor ``[(i - .5) / T, (i + .5) / T]``): the
  largest fraction of the anchor covered by a region of ``region`` positions centred on
  a ground-truth start (end) (intersection over the anchor length, not tIoU);
* IoU map ``[d, s]`` (row = duration - 1, column = start: BMN's layout): the largest tIoU
  between proposal ``[s / T, (s + d + 1) / T]`` and a ground-truth segment.

BMN trains on :func:`localization_labels` (the ``[T, T]`` map, anchors past the window
included; the loss masks them), G-TAD on :func:`gtad_targets` (its first ``D`` rows,
anchors past the window zeroed). Both reproduce what the heads trained on before the
labels moved here.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from pal_eval.core.tiou import pairwise_tiou

__all__ = ['boundary_labels', 'iou_map_labels', 'localization_labels', 'valid_anchors',
           'proposal_map_mask', 'gtad_targets']


def boundary_labels(gt_positions: np.ndarray, temporal_scale: int,
                    region: float = 3.0) -> np.ndarray:
    """Start (or end) labels: coverage of each anchor by the ground-truth boundary regions.

    Args:
        gt_positions: ``[M]`` ground-truth starts (or ends), normalised to ``[0, 1]``.
        temporal_scale: ``T``.
        region: Width of the region around each boundary, in anchors (BMN: 3).

    Returns:
        ``[T]`` float32 in ``[0, 1]``: max over ground truths of
        intersection(anchor, region) / anchor length.

    Examples:
        >>> boundary_labels(np.array([0.5]), 10).round(3).tolist()
        [0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]
    """
    gap = 1.0 / temporal_scale
    anchors = np.arange(temporal_scale, dtype=np.float64) * gap
    anchor_start, anchor_end = anchors - 0.5 * gap, anchors + 0.5 * gap
    gt = np.asarray(gt_positions, dtype=np.float64).reshape(1, -1)
    if gt.size == 0:
        return np.zeros(temporal_scale, dtype=np.float32)
    half = region * gap / 2.0
    inter = (np.minimum(anchor_end[:, None], gt + half)
             - np.maximum(anchor_start[:, None], gt - half)).clip(0)
    # Intersection over anchor length (IoP), not tIoU: a hand-written 2-liner on purpose.
    return (inter / (anchor_end - anchor_start)[:, None]).max(axis=1).astype(np.float32)


def iou_map_labels(gt_segments: np.ndarray, temporal_scale: int) -> np.ndarray:
    """BMN's confidence-map labels: max tIoU of each (duration, start) proposal with the gt.

    Args:
        gt_segments: ``[M, 2]`` normalised ground-truth segments.
        temporal_scale: ``T``.

    Returns:
        ``[T, T]`` float32: ``[d, s]`` is proposal ``[s/T, (s + d + 1)/T]`` (positions with
        ``s + d + 1 > T`` are outside the video; the losses mask them).

    Examples:
        >>> labels = iou_map_labels(np.array([[0.0, 0.5]]), 4)
        >>> float(labels[1, 0]), float(labels[0, 0])
        (1.0, 0.5)
    """
    gap = 1.0 / temporal_scale
    duration, start = np.meshgrid(np.arange(temporal_scale), np.arange(temporal_scale),
                                  indexing='ij')
    proposals = np.stack([start * gap, (start + duration + 1) * gap], -1).reshape(-1, 2)
    gt = np.asarray(gt_segments, dtype=np.float64).reshape(-1, 2)
    if len(gt) == 0:
        return np.zeros((temporal_scale, temporal_scale), dtype=np.float32)
    return pairwise_tiou(proposals, gt).max(axis=1).reshape(
        temporal_scale, temporal_scale).astype(np.float32)


def localization_labels(gt_segments: np.ndarray, temporal_scale: int) -> dict[str, np.ndarray]:
    """BMN's labels of one sample (those of mmaction2's ``BMN``) from its ``gt_bbox`` ``[M, 2]``.

    Returns:
        ``{'gt_start': [T], 'gt_end': [T], 'gt_iou_map': [T, T]}``, float32.

    Examples:
        >>> labels = localization_labels(np.array([[0.25, 0.5]]), 4)
        >>> labels['gt_start'].tolist(), float(labels['gt_iou_map'][0, 1])
        ([1.0, 1.0, 1.0, 0.0], 1.0)
    """
    gt = np.asarray(gt_segments, dtype=np.float64).reshape(-1, 2)
    return dict(gt_start=boundary_labels(gt[:, 0], temporal_scale),
                gt_end=boundary_labels(gt[:, 1], temporal_scale),
                gt_iou_map=iou_map_labels(gt, temporal_scale))


def valid_anchors(temporal_scale: int, max_duration: int) -> np.ndarray:
    """``[D, T]`` bool: anchor ``[d, s]`` (snippets ``s .. s + d``) ends inside the window.

    Examples:
        >>> valid_anchors(3, 2).astype(int).tolist()
        [[1, 1, 1], [1, 1, 0]]
    """
    duration, start = np.meshgrid(np.arange(max_duration), np.arange(temporal_scale),
                                  indexing='ij')
    return start + duration < temporal_scale


def proposal_map_mask(temporal_scale: int, max_duration: int) -> torch.Tensor:
    """:func:`valid_anchors` as the float ``[D, T]`` mask the BMN loss takes (``bm_mask``)."""
    return torch.from_numpy(valid_anchors(temporal_scale, max_duration).astype(np.float32))


def gtad_targets(segments: np.ndarray | Sequence[Sequence[float]], temporal_scale: int,
                 max_duration: int, boundary_width: float = 3.0
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """G-TAD's training targets of one window from its ground-truth segments.

    G-TAD trains on BMN's labels (the reference code shares BMN's label generation), so
    these are :func:`boundary_labels` and the first ``D`` rows of :func:`iou_map_labels`,
    with segments clipped to the window and anchors past it zeroed. Times are fractions
    of the window.

    Args:
        segments: ``[M, 2]`` ground-truth ``(start, end)`` in window fractions; parts
            outside ``[0, 1]`` are clipped.
        temporal_scale: ``T``.
        max_duration: ``D`` (``<= T``).
        boundary_width: Width of the boundary regions, in positions.

    Returns:
        ``(start [T], end [T], iou_map [D, T])``, float32 in ``[0, 1]``.

    Examples:
        >>> start, end, iou = gtad_targets([[0.25, 0.5]], 4, 4, boundary_width=1)
        >>> start.tolist(), end.tolist(), float(iou[0, 1])
        ([0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], 1.0)
    """
    segments = np.clip(np.asarray(segments, dtype=np.float64).reshape(-1, 2), 0.0, 1.0)
    start = boundary_labels(segments[:, 0], temporal_scale, region=boundary_width)
    end = boundary_labels(segments[:, 1], temporal_scale, region=boundary_width)
    iou = iou_map_labels(segments, temporal_scale)[:max_duration]
    iou = iou * valid_anchors(temporal_scale, max_duration).astype(np.float32)
    return start, end, iou.astype(np.float32)

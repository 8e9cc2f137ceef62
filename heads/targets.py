"""Training targets of the localization heads: the one owner of boundary labels and IoU maps.

The feature datasets deliver only what MMAction2 and OpenTAD datasets deliver, the ground
truth ``gt_instances.gt_bbox`` (segments as fractions of the sample's window) and the
time grid (``grid_centers``); each model builds its labels from ``gt_bbox`` with the
functions below. Times are fractions of the window, on a grid of ``T`` positions:

* start (end) label of position ``i``: the largest fraction of anchor ``i`` covered by a
  region of ``region`` positions centred on a ground-truth start (end) (intersection
  over the anchor length, not tIoU). The anchors (:data:`BOUNDARY_ANCHORS`) are those of
  the official code: ``[(i - .5) / T, (i + 1.5) / T]`` for mmaction2's BMN and G-TAD's
  ActivityNet branch (``'bmn'``), ``[(i - .5) / T, (i + .5) / T]`` for JJBOY's BMN (since
  its commit da9e149) and G-TAD's THUMOS14 frame anchors (``'centred'``);
* IoU map ``[d, s]`` (row = duration - 1, column = start: BMN's layout): the largest tIoU
  between proposal ``[s / T, (s + d + 1) / T]`` and a ground-truth segment clipped to
  the window.

BMN trains on :func:`localization_labels` (the ``[T, T]`` map, anchors past the window
included; the loss masks them), G-TAD on :func:`gtad_targets` (its first ``D`` rows,
anchors past the window zeroed; boundary labels from the *unclipped* ground truth, as
G-TAD's THUMOS14 code does, which the ActivityNet dataset's already clipped segments do
not notice).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from pal_eval.core.tiou import coverage, pairwise_tiou

__all__ = ['BOUNDARY_ANCHORS', 'boundary_anchor_offsets', 'boundary_labels', 'iou_map_labels',
           'localization_labels', 'valid_anchors', 'proposal_map_mask', 'gtad_targets',
           'gtad_thumos14_iou_shift']

#: Boundary-label anchors: offsets (in positions) of anchor ``i``'s ends from ``i``.
#: ``'bmn'``: mmaction2 ``BMN.__init__`` (``self._temporal_anchors(-0.5, 1.5)``) and
#: frostinassiky/gtad ``anet:gtad_lib/dataset.py::_get_match_map`` (``anchor_xmax =
#: [gap * (i + 0.5) for i in range(1, T + 1)]``). ``'centred'``: JJBOY/BMN-Boundary-
#: Matching-Network ``dataset.py`` since da9e149 (``range(T)``), and G-TAD THUMOS14
#: (``master:gtad_lib/dataset.py``: frames ``5 (w + j) -/+ 2.5`` around snippet ``j``).
BOUNDARY_ANCHORS = {'bmn': (-0.5, 1.5), 'centred': (-0.5, 0.5)}


def boundary_anchor_offsets(anchors: str | Sequence[float]) -> tuple[float, float]:
    """``(low, high)`` offsets of a :data:`BOUNDARY_ANCHORS` name or pair (checked).

    Examples:
        >>> boundary_anchor_offsets('bmn')
        (-0.5, 1.5)
    """
    if isinstance(anchors, str):
        if anchors not in BOUNDARY_ANCHORS:
            raise ValueError(f'boundary anchors must be one of {sorted(BOUNDARY_ANCHORS)} '
                             f'or (low, high) offsets, got {anchors!r}')
        return BOUNDARY_ANCHORS[anchors]
    low, high = (float(v) for v in anchors)
    if not high > low:
        raise ValueError(f'boundary anchor offsets must increase, got {anchors!r}')
    return low, high


def boundary_labels(gt_positions: np.ndarray, temporal_scale: int, region: float = 3.0,
                    anchors: str | Sequence[float] = 'bmn') -> np.ndarray:
    """Start (or end) labels: coverage of each anchor by the ground-truth boundary regions.

    Args:
        gt_positions: ``[M]`` ground-truth starts (or ends), as fractions of the window
            (outside ``[0, 1]`` allowed: a boundary just outside still labels the edge).
        temporal_scale: ``T``.
        region: Width of the region around each boundary, in positions (BMN: 3).
        anchors: :data:`BOUNDARY_ANCHORS` key or ``(low, high)`` offsets: anchor ``i`` is
            ``[(i + low) / T, (i + high) / T]``.

    Returns:
        ``[T]`` float32 in ``[0, 1]``: max over ground truths of
        intersection(anchor, region) / anchor length.

    Examples:
        >>> boundary_labels(np.array([0.5]), 8).tolist()  # region [0.3125, 0.6875]
        [0.0, 0.0, 0.5, 1.0, 1.0, 0.5, 0.0, 0.0]
        >>> boundary_labels(np.array([0.5]), 8, anchors='centred').tolist()
        [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    """
    low, high = boundary_anchor_offsets(anchors)
    gap = 1.0 / temporal_scale
    anchors_at = np.arange(temporal_scale, dtype=np.float64)
    anchor_start, anchor_end = (anchors_at + low) * gap, (anchors_at + high) * gap
    gt = np.asarray(gt_positions, dtype=np.float64).ravel()
    if gt.size == 0:
        return np.zeros(temporal_scale, dtype=np.float32)
    half = region * gap / 2.0
    regions = np.stack([gt - half, gt + half], axis=1)
    # Intersection over anchor length (mmaction2's ioa_with_anchors), not tIoU.
    return coverage(anchor_start, anchor_end, regions).max(axis=1).astype(np.float32)


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


def localization_labels(gt_segments: np.ndarray, temporal_scale: int,
                        anchors: str | Sequence[float] = 'bmn') -> dict[str, np.ndarray]:
    """BMN's labels of one sample (those of mmaction2's ``BMN``) from its ``gt_bbox`` ``[M, 2]``.

    As mmaction2's ``GenerateLocalizationLabels``, the segments are clipped to ``[0, 1]``
    first (the ActivityNet dataset's already are); then ``BMN.generate_labels``: regions
    of 3 positions, the ``anchors`` of :func:`boundary_labels` (mmaction2's ``'bmn'``;
    ``'centred'`` for JJBOY's), the ``[T, T]`` IoU map.

    Returns:
        ``{'gt_start': [T], 'gt_end': [T], 'gt_iou_map': [T, T]}``, float32.

    Examples:
        >>> labels = localization_labels(np.array([[0.25, 0.5]]), 4)
        >>> labels['gt_start'].tolist(), float(labels['gt_iou_map'][0, 1])
        ([1.0, 1.0, 0.5, 0.0], 1.0)
    """
    gt = np.clip(np.asarray(gt_segments, dtype=np.float64).reshape(-1, 2), 0.0, 1.0)
    return dict(gt_start=boundary_labels(gt[:, 0], temporal_scale, anchors=anchors),
                gt_end=boundary_labels(gt[:, 1], temporal_scale, anchors=anchors),
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
                 max_duration: int, boundary_width: float = 3.0,
                 anchors: str | Sequence[float] = 'bmn', iou_shift: float = 0.0
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """G-TAD's training targets of one window from its ground-truth segments.

    frostinassiky/gtad ``_get_train_label`` (both branches): boundary labels of the
    ground truth *as given* (:func:`boundary_labels`; THUMOS14 keeps segments that run
    past the window unclipped, so a start just before it still labels the first
    positions), the IoU map of the segments clipped to the window (the first ``D`` rows
    of :func:`iou_map_labels`, anchors past the window zeroed, as ``gt_iou_map *
    bm_mask``). Times are fractions of the window.

    Args:
        segments: ``[M, 2]`` ground-truth ``(start, end)`` in window fractions.
        temporal_scale: ``T``.
        max_duration: ``D`` (``<= T``).
        boundary_width: Width of the boundary regions, in positions (3).
        anchors: Boundary-label anchors (:data:`BOUNDARY_ANCHORS`): ``'bmn'`` on
            ActivityNet, ``'centred'`` on THUMOS14.
        iou_shift: Positions added to the segments of the IoU map only, before clipping
            (G-TAD THUMOS14's offset, :func:`gtad_thumos14_iou_shift`; 0: none).

    Returns:
        ``(start [T], end [T], iou_map [D, T])``, float32 in ``[0, 1]``.

    Examples:
        >>> start, end, iou = gtad_targets([[0.25, 0.5]], 4, 4, boundary_width=1,
        ...                                anchors='centred')
        >>> start.tolist(), end.tolist(), float(iou[0, 1])
        ([0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], 1.0)
    """
    segments = np.asarray(segments, dtype=np.float64).reshape(-1, 2)
    start = boundary_labels(segments[:, 0], temporal_scale, boundary_width, anchors)
    end = boundary_labels(segments[:, 1], temporal_scale, boundary_width, anchors)
    clipped = np.clip(segments + iou_shift / temporal_scale, 0.0, 1.0)
    iou = iou_map_labels(clipped, temporal_scale)[:max_duration]
    iou = iou * valid_anchors(temporal_scale, max_duration).astype(np.float32)
    return start, end, iou.astype(np.float32)


def gtad_thumos14_iou_shift(window_start: int, frames_per_snippet: int = 5) -> float:
    """The shift, in snippets, of G-TAD THUMOS14's IoU targets relative to its snippets.

    frostinassiky/gtad ``master:gtad_lib/dataset.py::_get_train_label`` normalises a
    ground-truth frame ``f`` by ``offset = int(min(anchor_xmin))`` with ``anchor_xmin =
    5 (w + j) - 2.5``: ``(f - offset) / 5 / T``. Snippet ``j`` of window ``w`` is frame
    ``5 (w + j)`` (its boundary labels and its inference boundary), so the IoU targets sit
    ``(5 w - int(5 w - 2.5)) / 5`` snippets later: 0.4 for ``w = 0`` (``int(-2.5) = -2``),
    0.6 after (truncation toward zero).

    Examples:
        >>> gtad_thumos14_iou_shift(0), gtad_thumos14_iou_shift(128)
        (0.4, 0.6)
    """
    first_frame = frames_per_snippet * int(window_start)
    offset = int(first_frame - frames_per_snippet / 2.0)  # Python's int(): toward zero
    return round((first_frame - offset) / frames_per_snippet, 12)

"""G-TAD: sub-graph localization for temporal action detection, in pure PyTorch.

Xu, Zhao, Rojas, Thabet, Ghanem, "G-TAD: Sub-Graph Localization for Temporal Action
Detection", CVPR 2020 (https://arxiv.org/abs/1911.11462). The reference code
(github.com/frostinassiky/gtad) needs a compiled CUDA extension for its sub-graph
alignment; here every piece is plain PyTorch and runs on CPU and GPU:

* :func:`knn_indices` / :func:`gather_neighbours`: semantic edges, the ``k`` nearest
  snippets in feature space (recomputed on every layer: the graph is dynamic);
* :class:`GCNeXt`: a ResNeXt-style block over the temporal graph (grouped 1-D conv on
  neighbouring snippets) and the semantic graph (edge convolution on the k-NN edges);
* :func:`align1d`: Align1D, RoIAlign in one dimension (linear interpolation, averaged
  over an adaptive sampling grid) done with index ops instead of a CUDA kernel;
* :class:`SubGraphAlign` (SGAlign): each anchor ``(start s, duration d)`` becomes a
  fixed-size feature from its interior and its semantic context (32 + 4 points in the
  ActivityNet reference code, 16 + 16 in the THUMOS14 one);
* :class:`SubGraphProjection`: SGAlign and the first 1x1 convolution of the proposal
  head, re-associated (project, then interpolate with the sparse :func:`align1d_matrix`):
  the same function at ~1/26 of the cost on ActivityNet sizes;
* :class:`GTAD`: the network on :class:`heads.base.BaseTemporalLocalizer`, which owns
  ``forward``, the loss convention (G-TAD's loss, :class:`heads.losses.GTADLoss`, on
  :func:`heads.targets.gtad_targets`), ``predict`` (proposals or detections in seconds,
  in the metrics contract) and class fusion; G-TAD adds only its network and how
  anchors become proposals (:meth:`GTAD.proposals_in_seconds`);
* :func:`load_official_gtad`: checkpoints of the reference code (``GTAD_best.pth.tar``).

Reference code: frostinassiky/gtad, branch ``anet`` (ActivityNet, the class defaults)
and ``master`` (THUMOS14, ``configs/detection/gtad_*_thumos14.py``); docs/heads.md lists
each setting with its source file.

Conventions (the same as BMN's): a window has ``T`` snippets; the proposal map has
shape ``[D, T]`` where entry ``[d, s]`` is the proposal starting at snippet boundary
``s`` and ending at boundary ``s + d + 1`` (``D = T`` on ActivityNet, 64 of 256 on
THUMOS14). Entries with ``s + d + 1 > T`` run past the window and are masked in
training; inference, as the reference code, keeps ``s + d + 1 < T``.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import nn

from heads import losses  # noqa: F401  (registers GTADLoss)
from heads.base import BaseTemporalLocalizer, concrete_feat_dim
from heads.bmn import candidate_proposals
from heads.targets import (
    boundary_anchor_offsets,
    gtad_targets,
    gtad_thumos14_iou_shift,
    valid_anchors,
)
from pal_eval.errors import PalEvalError
from pal_eval.postprocess.soft_nms import gaussian_soft_nms

__all__ = [
    'knn_indices', 'gather_neighbours', 'GCNeXt', 'align1d', 'proposal_anchors',
    'SubGraphAlign', 'SubGraphProjection', 'align1d_matrix', 'GTAD', 'inference_cells',
    'convert_official_gtad_state_dict', 'load_official_gtad',
]


# --------------------------------------------------------------------------------------
# Semantic graph
# --------------------------------------------------------------------------------------
def knn_indices(x: torch.Tensor, k: int) -> torch.Tensor:
    """Indices of the ``k`` nearest snippets of every snippet, in feature space.

    Distances are squared Euclidean; each snippet is its own nearest neighbour
    (distance 0), as in the paper, so the edge set includes a self loop.

    Args:
        x: Snippet features ``[B, C, T]``.
        k: Number of neighbours (``k <= T``).

    Returns:
        Long tensor ``[B, T, k]``, neighbours sorted from nearest to farthest.

    Examples:
        >>> x = torch.tensor([[[0., 1., 10., 11.]]])
        >>> knn_indices(x, 2)[0].tolist()
        [[0, 1], [1, 0], [2, 3], [3, 2]]
    """
    k = min(k, x.shape[-1])
    # |a - b|^2 = |a|^2 - 2 a.b + |b|^2, one matrix product instead of T^2 differences.
    squared_norm = (x * x).sum(dim=1)                                  # [B, T]
    inner = torch.bmm(x.transpose(1, 2), x)                            # [B, T, T]
    distance = squared_norm.unsqueeze(2) - 2 * inner + squared_norm.unsqueeze(1)
    return distance.topk(k, dim=-1, largest=False).indices


def gather_neighbours(x: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
    """Features of each snippet's neighbours.

    Args:
        x: Snippet features ``[B, C, T]``.
        indices: Neighbour indices ``[B, T, k]`` (e.g. from :func:`knn_indices`).

    Returns:
        ``[B, C, T, k]`` with ``out[b, :, t, j] = x[b, :, indices[b, t, j]]``.
    """
    batch, channels, length = x.shape
    k = indices.shape[-1]
    flat = indices.reshape(batch, 1, length * k).expand(batch, channels, length * k)
    return x.gather(2, flat).reshape(batch, channels, length, k)


class GCNeXt(nn.Module):
    """GCNeXt block: temporal and semantic graph convolutions with a residual path.

    ``out = relu(x + temporal(x) + max_k semantic([x_neighbour, x]))``. Both branches
    are ResNeXt bottlenecks (1x1, grouped, 1x1); the semantic branch is an edge
    convolution over the k-NN graph of the block's input, max-pooled over the edges.

    Args:
        in_channels: Input channels (equal to ``out_channels`` for the residual).
        out_channels: Output channels.
        k: Neighbours in the semantic graph.
        groups: Cardinality of the grouped convolutions.
        width_per_group: Channels per group of the bottleneck.

    Examples:
        >>> block = GCNeXt(64, 64, k=3, groups=8, width_per_group=4)
        >>> block(torch.randn(2, 64, 10)).shape
        torch.Size([2, 64, 10])
    """

    def __init__(self, in_channels: int, out_channels: int, *, k: int = 3, groups: int = 32,
                 width_per_group: int = 4):
        super().__init__()
        self.k = k
        width = groups * width_per_group
        self.temporal = nn.Sequential(
            nn.Conv1d(in_channels, width, kernel_size=1), nn.ReLU(inplace=True),
            nn.Conv1d(width, width, kernel_size=3, padding=1, groups=groups),
            nn.ReLU(inplace=True),
            nn.Conv1d(width, out_channels, kernel_size=1))
        self.semantic = nn.Sequential(
            nn.Conv2d(2 * in_channels, width, kernel_size=1), nn.ReLU(inplace=True),
            nn.Conv2d(width, width, kernel_size=1, groups=groups), nn.ReLU(inplace=True),
            nn.Conv2d(width, out_channels, kernel_size=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        neighbours = knn_indices(x.detach(), self.k)  # the graph itself is not differentiated
        neighbour_features = gather_neighbours(x, neighbours)               # [B, C, T, k]
        edges = torch.cat([neighbour_features,
                           x.unsqueeze(-1).expand_as(neighbour_features)], dim=1)
        semantic = self.semantic(edges).amax(dim=-1)
        return F.relu(x + self.temporal(x) + semantic)


# --------------------------------------------------------------------------------------
# Sub-graph alignment
# --------------------------------------------------------------------------------------
def align1d(x: torch.Tensor, rois: torch.Tensor, num_points: int,
            sampling_ratio: int = 0) -> torch.Tensor:
    """Align1D: sample ``num_points`` bins of each 1-D region by linear interpolation.

    The region ``[start, end]`` (in snippet units, snippet ``i`` sits at ``t = i``) is cut
    into ``num_points`` equal bins; each bin is the mean of ``G`` evenly spaced linear
    interpolations inside it, with ``G = sampling_ratio`` or, when 0, the adaptive
    ``ceil(region length / num_points)``. As in RoIAlign, regions shorter than 1 are
    widened to 1, points before ``-1`` or after ``T`` read 0, and points in
    ``[-1, 0]`` / ``[T - 1, T]`` read the first / last snippet.

    The reference implementation is a CUDA kernel. Here the interpolation is written
    with index ops (one ``index_select`` per grid point and neighbour, at most a few),
    so it runs anywhere and autograd supplies the backward pass; only the small
    interpolation weights are saved for it, never a dense ``[regions, T]`` matrix.

    Args:
        x: Features ``[B, C, T]``.
        rois: ``[N, 3]`` rows ``(batch index, start, end)``, float.
        num_points: Output bins per region.
        sampling_ratio: Interpolations per bin; 0 for adaptive.

    Returns:
        ``[N, C, num_points]``.

    Examples:
        >>> x = torch.arange(5.).view(1, 1, 5)
        >>> align1d(x, torch.tensor([[0., 1., 3.]]), 2, sampling_ratio=1)[0, 0].tolist()
        [1.5, 2.5]
    """
    batch, channels, length = x.shape
    rows = x.transpose(1, 2).reshape(batch * length, channels)             # [B*T, C]
    base = rois[:, 0].long().to(x.device).unsqueeze(1) * length              # [N, 1]
    out = x.new_zeros(len(rois), num_points, channels)
    for index, weight in _align1d_taps(rois[:, 1:].to(x.device, x.dtype), num_points,
                                       length, sampling_ratio):
        values = rows.index_select(0, (base + index).reshape(-1))
        out = out + values.view(len(rois), num_points, channels) * weight.unsqueeze(-1)
    return out.transpose(1, 2)


def _align1d_taps(regions: torch.Tensor, num_points: int, length: int, sampling_ratio: int):
    """Yield Align1D's interpolation taps: ``(index [N, P], weight [N, P])`` pairs.

    ``align1d`` output bin ``p`` of region ``n`` is ``sum over taps of
    weight[n, p] * x[:, index[n, p]]``; there are ``2 x max grid`` taps (the lower and
    upper neighbour of each interpolation point). Unused taps have weight 0.

    Args:
        regions: ``[N, 2]`` ``(start, end)`` in snippet units.
        num_points: Bins per region.
        length: ``T``, the number of snippets.
        sampling_ratio: Interpolations per bin; 0 for adaptive.
    """
    start = regions[:, 0]
    roi_length = (regions[:, 1] - start).clamp(min=1.0)
    bin_size = roi_length / num_points                                       # [N]
    if sampling_ratio > 0:
        grid = torch.full_like(bin_size, float(sampling_ratio))
    else:
        grid = torch.ceil(roi_length / num_points)
    max_grid = int(grid.max().item()) if len(grid) else 1
    point = torch.arange(num_points, device=regions.device, dtype=regions.dtype)
    for it in range(max_grid):
        # Position of the it-th interpolation point of every bin of every region: [N, P].
        t = (start.unsqueeze(1) + point.unsqueeze(0) * bin_size.unsqueeze(1)
             + (it + 0.5) * (bin_size / grid).unsqueeze(1))
        used = (it < grid).unsqueeze(1) & (t >= -1.0) & (t <= length)
        t = t.clamp(min=0.0)
        low = t.floor().long().clamp(max=length - 1)
        high = (low + 1).clamp(max=length - 1)
        # At or past the last snippet the point reads the last snippet alone.
        fraction = torch.where(low >= length - 1, torch.zeros_like(t), t - low.to(t.dtype))
        scale = used.to(t.dtype) / grid.unsqueeze(1)
        yield low, (1.0 - fraction) * scale
        yield high, fraction * scale


def align1d_matrix(regions: torch.Tensor, num_points: int, length: int,
                   sampling_ratio: int = 0) -> torch.Tensor:
    """Align1D as a sparse linear map: ``align1d(x)[n, :, p] == x @ M[n * P + p]``.

    Used when the same regions are read from every video (the anchors of SGAlign):
    the interpolation weights are built once, and reading all anchors of a batch is
    one sparse-dense product instead of many gathers.

    Args:
        regions: ``[N, 2]`` ``(start, end)`` in snippet units.
        num_points: Bins per region ``P``.
        length: ``T``.
        sampling_ratio: Interpolations per bin; 0 for adaptive.

    Returns:
        Sparse COO tensor ``[N * P, T]`` (duplicate taps summed).

    Examples:
        >>> x = torch.arange(5.).view(1, 1, 5)
        >>> m = align1d_matrix(torch.tensor([[1., 3.]]), 2, 5, sampling_ratio=1)
        >>> (m.to_dense() @ x[0, 0]).tolist()
        [1.5, 2.5]
    """
    regions = regions.to(torch.float64)
    rows = torch.arange(len(regions) * num_points).view(len(regions), num_points)
    indices, values = [], []
    for index, weight in _align1d_taps(regions, num_points, length, sampling_ratio):
        keep = weight > 0
        indices.append(torch.stack([rows[keep], index[keep]]))
        values.append(weight[keep])
    matrix = torch.sparse_coo_tensor(torch.cat(indices, 1), torch.cat(values),
                                     (len(regions) * num_points, length),
                                     check_invariants=True)
    return matrix.coalesce().float()


def proposal_anchors(temporal_scale: int, max_duration: int, context_ratio: float = 0.5,
                     invalid_anchors: str = 'dummy_roi') -> tuple[torch.Tensor, torch.Tensor]:
    """Sampling regions of the anchors of a ``[D, T]`` proposal map.

    Anchor ``[d, s]`` covers snippets ``s .. s + d``; SGAlign samples it widened by
    ``context_ratio`` of its length on each side (0.5 in the paper). Anchors running past
    the window (``s + d >= T``) get, as in the reference code
    (``GraphAlign._get_anchors``), the dummy region ``[0, 0]`` (``'dummy_roi'``: Align1D
    widens it to ``[0, 1]`` and reads ``(1 - t) x[0] + t x[1]`` at ``t = (p + .5) / P``), or
    are left out (``'zero'``: SGAlign writes zeros there).

    Args:
        temporal_scale: ``T``.
        max_duration: ``D``.
        context_ratio: Widening on each side, as a fraction of the anchor length.
        invalid_anchors: ``'dummy_roi'`` or ``'zero'``.

    Returns:
        ``(flat_index, regions)``: indices into the flattened ``[D * T]`` map of the
        anchors read, and their ``[A, 2]`` sampling regions ``(start, end)`` in snippet
        units.

    Examples:
        >>> index, regions = proposal_anchors(3, 2)
        >>> index.tolist(), regions[4].tolist(), regions[5].tolist()  # [1, 1], [1, 2]
        ([0, 1, 2, 3, 4, 5], [0.0, 3.0], [0.0, 0.0])
        >>> proposal_anchors(3, 2, invalid_anchors='zero')[0].tolist()
        [0, 1, 2, 3, 4]
    """
    if invalid_anchors not in ('dummy_roi', 'zero'):
        raise ValueError(f"invalid_anchors must be 'dummy_roi' or 'zero', got "
                         f'{invalid_anchors!r}')
    duration, start = np.meshgrid(np.arange(max_duration), np.arange(temporal_scale),
                                  indexing='ij')
    valid = valid_anchors(temporal_scale, max_duration).reshape(-1)
    length = (duration + 1).reshape(-1).astype(np.float64)
    first = start.reshape(-1).astype(np.float64)
    last = first + length - 1
    regions = np.stack([first - context_ratio * length, last + context_ratio * length], 1)
    regions[~valid] = 0.0
    read = valid if invalid_anchors == 'zero' else np.ones_like(valid)
    return (torch.from_numpy(np.flatnonzero(read)),
            torch.from_numpy(regions[read]).float())


def inference_cells(temporal_scale: int, max_duration: int) -> tuple[np.ndarray, np.ndarray]:
    """``(d, s)`` of the anchors the reference inference enumerates: ``s + d + 1 < T``.

    Both branches' ``gtad_inference.py`` loop ``for d in range(D): for s in range(T)`` and
    keep ``end_index = s + d + 1 < T``: an anchor ending exactly at the window end is never
    a proposal (training's mask keeps it). Same order (duration outer).

    Examples:
        >>> d, s = inference_cells(4, 4)
        >>> list(zip(d.tolist(), s.tolist()))
        [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (2, 0)]
    """
    duration, start = np.meshgrid(np.arange(max_duration), np.arange(temporal_scale),
                                  indexing='ij')
    keep = start + duration + 1 < temporal_scale
    return duration[keep], start[keep]


class SubGraphAlign(nn.Module):
    """SGAlign: a fixed-size feature for every anchor of the proposal map.

    Each anchor's sampling region is read twice with :func:`align1d`: the node features
    at ``inner_points`` bins and the mean of each node's semantic neighbours at
    ``context_points`` bins (the paper's "last layer context"). The result is laid out
    as a ``[B, C * (inner + context), D, T]`` map, channel ``c * (inner + context) + p``
    (the reference ``cat((inner, context), 2).view(bs, t, d, -1)``); invalid anchors
    (running past the window) read the reference code's dummy region ``[0, 0]``
    (:func:`proposal_anchors`), or zeros (``invalid_anchors='zero'``), which the
    following convolutions see.

    Args:
        temporal_scale: ``T``.
        max_duration: ``D``.
        inner_points: Bins for the anchor interior (32 ActivityNet, 16 THUMOS14).
        context_points: Bins for the semantic context (4 ActivityNet, 16 THUMOS14); 0
            disables it.
        sampling_ratio: Align1D interpolations per bin (0: adaptive, the paper's).
        context_ratio: Anchor widening on each side (0.5 in the paper).
        invalid_anchors: ``'dummy_roi'`` (reference) or ``'zero'``.
    """

    def __init__(self, temporal_scale: int, max_duration: int, *, inner_points: int = 32,
                 context_points: int = 4, sampling_ratio: int = 0, context_ratio: float = 0.5,
                 invalid_anchors: str = 'dummy_roi'):
        super().__init__()
        self.temporal_scale = temporal_scale
        self.max_duration = max_duration
        self.inner_points = inner_points
        self.context_points = context_points
        self.sampling_ratio = sampling_ratio
        flat_index, regions = proposal_anchors(temporal_scale, max_duration, context_ratio,
                                               invalid_anchors)
        self.register_buffer('flat_index', flat_index, persistent=False)
        self.register_buffer('regions', regions, persistent=False)

    def forward(self, x: torch.Tensor, neighbours: torch.Tensor | None = None) -> torch.Tensor:
        """Args: ``x`` ``[B, C, T]``; ``neighbours`` ``[B, T, k]`` (needed for context)."""
        batch, channels, _ = x.shape
        num_anchors = len(self.regions)
        batch_index = torch.arange(batch, device=x.device, dtype=x.dtype)
        rois = torch.cat([batch_index.repeat_interleave(num_anchors).unsqueeze(1),
                          self.regions.to(x.dtype).repeat(batch, 1)], dim=1)
        parts = [align1d(x, rois, self.inner_points, self.sampling_ratio)]
        if self.context_points:
            if neighbours is None:
                neighbours = knn_indices(x.detach(), 3)
            context = gather_neighbours(x, neighbours).mean(dim=-1)
            parts.append(align1d(context, rois, self.context_points, self.sampling_ratio))
        anchor_features = torch.cat(parts, dim=2).reshape(batch, num_anchors, -1)
        out = x.new_zeros(batch, self.max_duration * self.temporal_scale,
                          anchor_features.shape[-1])
        out = out.index_copy(1, self.flat_index, anchor_features)
        return out.permute(0, 2, 1).reshape(batch, -1, self.max_duration, self.temporal_scale)


class SubGraphProjection(nn.Module):
    """SGAlign followed by the proposal head's first 1x1 convolution, re-associated.

    SGAlign produces ``C x (inner + context)`` channels per anchor (9216 with the
    paper's sizes) only for a 1x1 convolution to reduce them to ``out_channels`` (512).
    Both steps are linear, so their order can be swapped: project each snippet's
    features with the convolution weights of each sampling point first
    (``[P, T, out_channels]`` per video, tiny), then interpolate those projections at
    the anchors with a sparse matrix built once (:func:`align1d_matrix`). The output
    equals ``conv(SubGraphAlign(x))`` (tested) without materialising the
    ``[B, 9216, D, T]`` tensor: on ActivityNet sizes this removes ~94 of the ~100 GFLOPs
    per video of the unfused path and most of its activation memory.

    The parameters are those of an ordinary ``nn.Conv2d`` (``self.conv``), so
    checkpoints are the same with ``fused`` on or off.

    Args:
        in_channels: Node feature channels ``C``.
        out_channels: Output channels of the 1x1 convolution.
        temporal_scale: ``T``.
        max_duration: ``D``.
        inner_points: SGAlign bins of the anchor interior.
        context_points: SGAlign bins of the semantic context (0: none).
        sampling_ratio: Align1D interpolations per bin (0: adaptive).
        context_ratio: Anchor widening on each side.
        invalid_anchors: ``'dummy_roi'`` (reference) or ``'zero'`` (:class:`SubGraphAlign`).
        fused: Use the re-associated computation (False: SGAlign then the convolution).
    """

    def __init__(self, in_channels: int, out_channels: int, temporal_scale: int,
                 max_duration: int, *, inner_points: int = 32, context_points: int = 4,
                 sampling_ratio: int = 0, context_ratio: float = 0.5,
                 invalid_anchors: str = 'dummy_roi', fused: bool = True):
        super().__init__()
        self.fused = fused
        self.align = SubGraphAlign(temporal_scale, max_duration, inner_points=inner_points,
                                   context_points=context_points,
                                   sampling_ratio=sampling_ratio, context_ratio=context_ratio,
                                   invalid_anchors=invalid_anchors)
        self.conv = nn.Conv2d(in_channels * (inner_points + context_points), out_channels, 1)
        self.points = (inner_points, context_points)
        for name, points in zip(('inner', 'context'), self.points):
            if not points:
                continue
            matrix = align1d_matrix(self.align.regions, points, temporal_scale, sampling_ratio)
            # Re-index rows (anchor, point) x columns (t) into rows anchor x columns
            # (point, t), the layout of one sparse product per batch. Stored as dense
            # index/value buffers: they move with .to(device) and DDP can broadcast them.
            row, column = matrix.indices()
            anchor, point = row // points, row % points
            self.register_buffer(f'{name}_indices',
                                 torch.stack([anchor, point * temporal_scale + column]),
                                 persistent=False)
            self.register_buffer(f'{name}_values', matrix.values(), persistent=False)

    def _sparse(self, name: str, points: int, dtype: torch.dtype) -> torch.Tensor:
        shape = (len(self.align.regions), points * self.align.temporal_scale)
        # Built (and checked) by align1d_matrix; row-major order survives the re-indexing.
        return torch.sparse_coo_tensor(getattr(self, f'{name}_indices'),
                                       getattr(self, f'{name}_values').to(dtype), shape,
                                       is_coalesced=True, check_invariants=False)

    def forward(self, x: torch.Tensor, neighbours: torch.Tensor | None = None) -> torch.Tensor:
        """``[B, C, T]`` node features -> ``[B, out_channels, D, T]``."""
        if not self.fused:
            return self.conv(self.align(x, neighbours))
        batch, channels, length = x.shape
        inner_points, context_points = self.points
        weight = self.conv.weight.view(self.conv.out_channels, channels,
                                       inner_points + context_points)
        sources = [('inner', inner_points, x, weight[:, :, :inner_points])]
        if context_points:
            if neighbours is None:
                neighbours = knn_indices(x.detach(), 3)
            context = gather_neighbours(x, neighbours).mean(dim=-1)
            sources.append(('context', context_points, context, weight[:, :, inner_points:]))
        anchors = 0
        for name, points, features, point_weight in sources:
            # Per sampling point, every snippet projected by that point's weights.
            projected = torch.einsum('ocp,bct->ptbo', point_weight, features)
            projected = projected.reshape(points * length, batch * self.conv.out_channels)
            matrix = self._sparse(name, points, projected.dtype)  # dtype follows autocast
            anchors = anchors + torch.sparse.mm(matrix, projected)
        anchors = anchors.view(-1, batch, self.conv.out_channels).permute(1, 2, 0)
        bias = self.conv.bias.view(1, -1, 1)
        # Anchors left out (invalid_anchors='zero') see zero features in the unfused path,
        # i.e. the bias alone.
        out = bias.expand(batch, -1, self.align.max_duration * length).clone()
        out = out.index_copy(2, self.align.flat_index, anchors + bias)
        return out.view(batch, -1, self.align.max_duration, length)


# --------------------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------------------
@MODELS.register_module()
class GTAD(BaseTemporalLocalizer):
    """G-TAD (Xu et al., CVPR 2020): sub-graph localization for temporal action detection.

    Snippet features go through GCNeXt blocks (temporal + semantic graph), two
    GCNeXt-based boundary heads (start/end probabilities), and SGAlign turns every
    anchor sub-graph into a feature scored by a small 2-D network: channel 0 regresses
    the anchor's IoU with the ground truth, channel 1 classifies it (IoU > 0.9). A
    proposal's score is ``classification x regression``, as in the reference code.

    The defaults are those of the reference code's ActivityNet branch
    (frostinassiky/gtad ``anet``); ``configs/detection/gtad_*_thumos14.py`` sets the
    THUMOS14 branch's (``master``); docs/heads.md lists each with its source.

    Args:
        feat_dim: Input feature channels ``C`` (inputs are ``[B, C, T]``).
        temporal_scale: Snippets per window ``T`` (100 ActivityNet, 256 THUMOS14).
        max_duration: Longest anchor ``D`` in snippets (100 ActivityNet, 64 THUMOS14).
        hidden_dim_1d: GCNeXt channels (256 in the paper).
        hidden_dim_2d: Channels of the 2-D proposal convolutions (128).
        hidden_dim_3d: Channels of the first 1x1 proposal convolution (512).
        k: Semantic neighbours per snippet (3).
        groups: Cardinality of the GCNeXt bottlenecks (32).
        width_per_group: Channels per group of the bottlenecks (4: width 128).
        input_groups: Groups of the input 1-D convolution (4, as in the reference code).
        inner_points: SGAlign bins of the anchor interior (``anet:gtad_lib/models.py::
            GraphAlign``: 32; ``master``: 16).
        context_points: SGAlign bins of the semantic context (ActivityNet 4, THUMOS14 16).
        sampling_ratio: Align1D interpolations per bin (0: adaptive).
        kernel_2d: Kernel of the two middle proposal convolutions (``opts.py``
            ``kern_2d``: 1 ActivityNet, 3 THUMOS14; padding ``kernel_2d // 2``).
        invalid_anchors: What SGAlign reads for anchors past the window: the reference
            code's dummy region (``'dummy_roi'``) or zeros (``'zero'``).
        boundary_width: Start/end target regions, in snippets (3).
        boundary_anchors: Anchors of the start/end labels (:data:`heads.targets.
            BOUNDARY_ANCHORS`): ``'bmn'`` (ActivityNet) or ``'centred'`` (THUMOS14).
        iou_target_shift: None, or ``'gtad_thumos14'``: the IoU targets shifted as the
            THUMOS14 code's frame offset does (:func:`heads.targets.gtad_thumos14_iou_shift`;
            needs the samples' ``window_start``).
        candidates: ``'peaks'`` (ActivityNet inference: BMN's start/end peak pairs of the
            boundary heads, :func:`heads.bmn.candidate_proposals` scored ``cls x reg``)
            or ``'all'`` (THUMOS14: every anchor with ``s + d + 1 < T``).
        fused_align: Compute SGAlign and the first 1x1 convolution re-associated
            (:class:`SubGraphProjection`); same result, a fraction of the cost.
        loss: The loss config (:class:`heads.losses.GTADLoss`: ActivityNet's balancing by
            default; THUMOS14 ``pseudo_count=10``).
        soft_nms: Keyword arguments of G-TAD's Gaussian Soft-NMS
            (:func:`pal_eval.postprocess.soft_nms.gaussian_soft_nms`, on boundary
            positions), over the defaults ``sigma=0.8, top_k=100, keep_last=False,
            stop_at_zero=True`` (ActivityNet; THUMOS14 ``sigma=0.46, top_k=200,
            max_length=60``: 300 frames of 5-frame snippets).
        **kwargs: :class:`heads.base.BaseTemporalLocalizer`'s ``loss_weights`` (of
            temporal evaluation, IoU regression, classification: (1, 10, 1) ActivityNet,
            (1, 1, 10) THUMOS14), ``class_fusion`` (detections by video-level class
            fusion, :mod:`heads.classifiers`; None: class-agnostic proposals),
            ``data_preprocessor`` and ``init_cfg``.

    Examples:
        >>> model = GTAD(feat_dim=16, temporal_scale=8, max_duration=8, hidden_dim_1d=32,
        ...              hidden_dim_2d=16, hidden_dim_3d=32, groups=4)
        >>> maps, start, end = model._forward(torch.randn(2, 16, 8))
        >>> maps.shape, start.shape
        (torch.Size([2, 2, 8, 8]), torch.Size([2, 8]))
    """

    def __init__(self, feat_dim: int = 400, temporal_scale: int = 100, max_duration: int = 100,
                 hidden_dim_1d: int = 256, hidden_dim_2d: int = 128, hidden_dim_3d: int = 512,
                 k: int = 3, groups: int = 32, width_per_group: int = 4,
                 input_groups: int = 4, inner_points: int = 32, context_points: int = 4,
                 sampling_ratio: int = 0, kernel_2d: int = 1,
                 invalid_anchors: str = 'dummy_roi', boundary_width: float = 3.0,
                 boundary_anchors: str | tuple = 'bmn', iou_target_shift: str | None = None,
                 candidates: str = 'peaks', fused_align: bool = True,
                 loss: dict | None = None, soft_nms: dict | None = None, **kwargs):
        super().__init__(temporal_scale=temporal_scale, max_duration=max_duration,
                         loss=loss or dict(type='GTADLoss'), **kwargs)
        if candidates not in ('peaks', 'all'):
            raise ValueError(f"candidates must be 'peaks' or 'all', got {candidates!r}")
        if iou_target_shift not in (None, 'gtad_thumos14'):
            raise ValueError(f"iou_target_shift must be None or 'gtad_thumos14', got "
                             f'{iou_target_shift!r}')
        if kernel_2d < 1 or kernel_2d % 2 == 0:
            raise ValueError(f'kernel_2d must be odd and positive, got {kernel_2d}')
        boundary_anchor_offsets(boundary_anchors)  # a wrong name fails here, not in training
        self.feat_dim = feat_dim = concrete_feat_dim(feat_dim)
        self.boundary_width = boundary_width
        self.boundary_anchors = boundary_anchors
        self.iou_target_shift = iou_target_shift
        self.candidates = candidates
        self.soft_nms = {'sigma': 0.8, 'top_k': 100, 'keep_last': False, 'stop_at_zero': True,
                         **(soft_nms or {})}

        def gcnext() -> GCNeXt:
            return GCNeXt(hidden_dim_1d, hidden_dim_1d, k=k, groups=groups,
                          width_per_group=width_per_group)

        self.backbone1 = nn.Sequential(
            nn.Conv1d(feat_dim, hidden_dim_1d, kernel_size=3, padding=1,
                      groups=math.gcd(input_groups, math.gcd(feat_dim, hidden_dim_1d))),
            nn.ReLU(inplace=True), gcnext())
        self.start_head = nn.Sequential(gcnext(), nn.Conv1d(hidden_dim_1d, 1, 1), nn.Sigmoid())
        self.end_head = nn.Sequential(gcnext(), nn.Conv1d(hidden_dim_1d, 1, 1), nn.Sigmoid())
        self.backbone2 = gcnext()
        self.k = k
        self.subgraph = SubGraphProjection(
            hidden_dim_1d, hidden_dim_3d, temporal_scale, max_duration,
            inner_points=inner_points, context_points=context_points,
            sampling_ratio=sampling_ratio, invalid_anchors=invalid_anchors, fused=fused_align)
        pad = kernel_2d // 2
        self.proposal_head = nn.Sequential(
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden_dim_3d, hidden_dim_2d, 1), nn.ReLU(inplace=True),
            nn.Conv2d(hidden_dim_2d, hidden_dim_2d, kernel_2d, padding=pad),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden_dim_2d, hidden_dim_2d, kernel_2d, padding=pad),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden_dim_2d, 2, 1), nn.Sigmoid())

    # ----------------------------------------------------------------------------------
    def _forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Network outputs for features ``[B, C, T]``.

        Returns:
            ``(proposal_maps [B, 2, D, T], start [B, T], end [B, T])``; map channel 0 is
            the IoU regression, channel 1 the classification; all in ``[0, 1]``.
        """
        if x.shape[1] != self.feat_dim or x.shape[2] != self.temporal_scale:
            raise ValueError(f'GTAD expects features [B, {self.feat_dim}, '
                             f'{self.temporal_scale}], got {list(x.shape)}')
        base = self.backbone1(x)
        start = self.start_head(base).squeeze(1)
        end = self.end_head(base).squeeze(1)
        nodes = self.backbone2(base)
        # Semantic context from the neighbours of the last layer ("last layer context").
        neighbours = knn_indices(nodes.detach(), self.k)
        maps = self.proposal_head(self.subgraph(nodes, neighbours))
        return maps, start, end

    # ----------------------------------------------------------------------------------
    def sample_targets(self, gt_bbox: np.ndarray, metainfo: dict) -> tuple[np.ndarray, ...]:
        """G-TAD's targets of one window (:func:`heads.targets.gtad_targets`)."""
        shift = 0.0
        if self.iou_target_shift == 'gtad_thumos14':
            if metainfo.get('window_start') is None:
                raise PalEvalError(f"video {metainfo.get('video_id')!r}: iou_target_shift="
                                   "'gtad_thumos14' needs window samples (window_start)")
            shift = gtad_thumos14_iou_shift(metainfo['window_start'])
        return gtad_targets(gt_bbox, self.temporal_scale, self.max_duration,
                            self.boundary_width, self.boundary_anchors, shift)

    def proposals_in_seconds(self, maps: np.ndarray, start: np.ndarray, end: np.ndarray,
                             metainfo: dict) -> tuple[np.ndarray, np.ndarray]:
        """Candidates of one window -> Soft-NMS -> seconds.

        Candidates (``candidates``): the start/end peak pairs (ActivityNet) or every anchor
        with ``s + d + 1 < T`` (THUMOS14), scored ``cls x reg`` (the reference code's
        ``clr_score * reg_score``, in float64); then G-TAD's Gaussian Soft-NMS
        (``soft_nms``) on integer boundary positions (the tIoUs are exact quotients).

        Args:
            maps: ``[2, D, T]`` regression and classification maps of the window.
            start, end: ``[T]`` boundary probabilities (read by ``'peaks'``).
            metainfo: The window's metadata (``grid_centers`` and/or ``duration``).

        Returns:
            ``(segments [K, 2] seconds, scores [K])``, best first; segments falling
            entirely in a window's padding past the video end are dropped.
        """
        if self.candidates == 'peaks':
            boundaries, scores = candidate_proposals(start, end, maps[0], maps[1],
                                                     score='cls*reg')
        else:
            d, s = inference_cells(self.temporal_scale, self.max_duration)
            scores = maps[1][d, s].astype(np.float64) * maps[0][d, s].astype(np.float64)
            boundaries = np.stack([s, s + d + 1], 1).astype(np.float64)
        if self.candidates == 'peaks' and len(scores) <= 1:
            # anet:gtad_postprocess.py runs Soft_NMS only ``if len(df) > 1``.
            kept, kept_scores = np.arange(len(scores)), scores
        else:
            kept, kept_scores = gaussian_soft_nms(boundaries, scores, **self.soft_nms)
        return self.to_seconds(boundaries[kept], kept_scores, metainfo)


# --------------------------------------------------------------------------------------
# Reference-code checkpoints
# --------------------------------------------------------------------------------------
#: Reference module names -> ours (frostinassiky/gtad ``gtad_lib/models.py::GTAD``).
_OFFICIAL_PREFIXES = (('backbone2.0.', 'backbone2.'), ('regu_s.', 'start_head.'),
                      ('regu_e.', 'end_head.'), ('localization.0.', 'subgraph.conv.'),
                      ('localization.2.', 'proposal_head.1.'),
                      ('localization.4.', 'proposal_head.3.'),
                      ('localization.6.', 'proposal_head.5.'),
                      ('localization.8.', 'proposal_head.7.'), ('backbone1.', 'backbone1.'))
#: SGAlign (inner, context) points by their sum: ``anet`` 32 + 4, ``master`` 16 + 16.
_OFFICIAL_POINTS = {36: (32, 4), 32: (16, 16)}


def convert_official_gtad_state_dict(state_dict: dict) -> dict:
    """Rename a reference-code G-TAD state dict to :class:`GTAD`'s (``module.`` dropped).

    GCNeXt's ``tconvs`` / ``sconvs`` are our ``temporal`` / ``semantic``; ``regu_s`` /
    ``regu_e`` the start / end heads; ``localization.0`` SGAlign's projection
    (``subgraph.conv``, whose input channels are ordered ``c * P + p`` in both), the
    other convolutions of ``localization`` the proposal head. The reference model has no
    buffers (its anchors are plain attributes).

    Raises:
        KeyError: a key that is not the reference model's.
    """
    out = {}
    for key, value in state_dict.items():
        key = key.removeprefix('module.')
        for old, new in _OFFICIAL_PREFIXES:
            if key.startswith(old):
                renamed = new + key[len(old):]
                break
        else:
            raise KeyError(key)
        out[renamed.replace('.tconvs.', '.temporal.').replace('.sconvs.', '.semantic.')] = value
    return out


def load_official_gtad(path, **kwargs) -> GTAD:
    """Build a :class:`GTAD` holding the weights of a reference-code checkpoint.

    ``GTAD_best.pth.tar`` / ``GTAD_checkpoint.pth.tar`` of frostinassiky/gtad
    (``{'epoch', 'state_dict'}`` saved from ``nn.DataParallel``) or a bare state dict.
    Widths, groups, the input size, the 2-D kernel and the SGAlign points (36 = 32 + 4,
    ``anet``; 32 = 16 + 16, ``master``) are read from the weights; ``temporal_scale`` and
    ``max_duration`` are not in them: give ``temporal_scale=256, max_duration=64`` (and the
    other THUMOS14 settings of ``configs/detection/gtad_*_thumos14.py``) for a ``master``
    checkpoint; the defaults are ActivityNet's.

    Args:
        path: The checkpoint file.
        **kwargs: Other :class:`GTAD` arguments (override what the weights say).

    Raises:
        InputError: the file holds no reference G-TAD weights.
    """
    from mmengine.runner.checkpoint import _load_checkpoint

    from pal_eval.errors import InputError

    checkpoint = _load_checkpoint(str(path), map_location='cpu')
    state = checkpoint.get('state_dict', checkpoint)
    try:
        converted = convert_official_gtad_state_dict(state)
        stem = converted['backbone1.0.weight']                         # [H, C / 4, 3]
        width = converted['backbone1.2.temporal.0.weight'].shape[0]
        per_group = converted['backbone1.2.temporal.2.weight'].shape[1]
        projection = converted['subgraph.conv.weight']                 # [H3, H * P, 1, 1]
        hidden_2d = converted['proposal_head.1.weight'].shape[0]
        kernel_2d = converted['proposal_head.3.weight'].shape[-1]
    except KeyError as exc:
        raise InputError(path, f'not a reference G-TAD checkpoint (key {exc.args[0]!r})',
                         field='state_dict') from None
    hidden_1d = stem.shape[0]
    points = projection.shape[1] // hidden_1d
    settings = dict(feat_dim=stem.shape[1] * 4, hidden_dim_1d=hidden_1d,
                    hidden_dim_2d=hidden_2d, hidden_dim_3d=projection.shape[0],
                    groups=width // per_group, width_per_group=per_group,
                    kernel_2d=kernel_2d)
    if points in _OFFICIAL_POINTS:
        settings['inner_points'], settings['context_points'] = _OFFICIAL_POINTS[points]
    settings.update(kwargs)
    if settings.get('inner_points', 32) + settings.get('context_points', 4) != points:
        raise InputError(path, f'SGAlign reads {points} points per channel: give '
                         'inner_points and context_points that add up to it',
                         field='state_dict')
    model = GTAD(**settings)
    try:
        model.load_state_dict(converted, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0][:200]
        raise InputError(path, f'the weights do not fit GTAD({settings}): {first}',
                         field='state_dict') from None
    return model

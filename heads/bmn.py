"""BMN: Boundary-Matching Network for temporal action proposals (Lin et al., ICCV 2019).

Paper: https://arxiv.org/abs/1907.09702. Architecture, labels and losses follow the
paper and mmaction2's ``BMN`` (whose checkpoints load with :func:`load_mmaction_bmn`):

* temporal evaluation module (TEM): start / end probability of every position;
* proposal evaluation module (PEM): the boundary-matching (BM) layer samples, for every
  candidate (start ``s``, duration ``d``) of the ``T x T`` map, ``num_samples`` (32)
  points over the candidate extended by ``boundary_ratio`` (0.5) on each side, each
  point the mean of ``num_samples_per_bin`` (3) linear interpolations; a Conv3d
  collapses the 32 points, 2-D convolutions give the regression and classification
  confidence maps;
* loss: TEM + 10 * PEM regression + PEM classification with the usual balancing
  (mmaction2's ``BMNLoss``, reused as is), on the labels of mmaction2's ``BMN``
  (:func:`heads.targets.localization_labels`: boundary anchors ``[(i - .5) / T,
  (i + 1.5) / T]``, ``boundary_anchors='bmn'``; JJBOY's ``(i + .5) / T`` is
  ``'centred'``); ``forward``, the loss convention,
  ``predict`` and class fusion are :class:`heads.base.BaseTemporalLocalizer`'s.

**Why the BM layer is not mmaction2's.** mmaction2 multiplies the features ``[B, C, T]``
by a dense ``T x (N*T*T)`` sample mask (100 x 320,000, only 1.5 % non-zero), then
applies the Conv3d to the ``[B, C, N, T, T]`` result: ~100 GFLOPs and GBs of memory
per sample. Both steps are linear, so we re-associate them: the Conv3d weights are
applied along the sample axis to the 1-D features first (a 1x1 Conv1d giving
``[B, C3, N, T]``), then the sparse sampling matrix (477k non-zeros) gathers and sums
the taps (:class:`_SparseSampling`, an ``embedding_bag`` in CSR form forward and with
the transposed matrix backward). The result is the same up to float rounding.
"""
from __future__ import annotations

import os

import numpy as np
import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from torch import nn

from heads.base import BaseTemporalLocalizer, concrete_feat_dim
from heads.targets import boundary_anchor_offsets, localization_labels
from pal_eval.postprocess.soft_nms import bmn_soft_nms

__all__ = ['BoundaryMatchingNetwork', 'boundary_matching_sample_matrix',
           'candidate_proposals', 'load_mmaction_bmn', 'convert_mmaction_state_dict']


# ------------------------------------------------------------------ functional core
def boundary_matching_sample_matrix(temporal_scale: int = 100, num_samples: int = 32,
                                    num_samples_per_bin: int = 3,
                                    boundary_ratio: float = 0.5):
    """BMN's sampling weights as a sparse matrix ``[T*T, N*T]`` (scipy CSR, float64).

    Row ``d * T + s`` is candidate (duration index ``d``, start ``s``); column
    ``n * T + t`` is sample point ``n`` reading position ``t``. The arithmetic
    reproduces mmaction2's ``BMN._get_interp1d_mask`` operation for operation, including
    its truncation of negative positions (a point in (-1, 0) reads position 0 with
    weight 1), so checkpoints trained with it behave identically. Candidates that end
    past the video (``s + d >= T``) have empty rows.

    Examples:
        >>> m = boundary_matching_sample_matrix(10, 4, 3)
        >>> m.shape, bool(abs(m[5 * 10 + 9].sum()) == 0)  # d = 5, s = 9: outside
        ((100, 40), True)
    """
    from scipy import sparse  # scipy assembles and sums the duplicate taps.

    T, N, K = temporal_scale, num_samples, num_samples_per_bin
    duration, start = np.meshgrid(np.arange(T), np.arange(T), indexing='ij')
    valid = (start + duration) < T
    duration, start = duration[valid], start[valid]
    center_len = (duration - 0.0) + 1.0
    sample_min = start - center_len * boundary_ratio
    sample_max = start + duration + center_len * boundary_ratio
    step = (sample_max - sample_min) / (N * K - 1.0)
    points = sample_min[:, None] + step[:, None] * np.arange(N * K)[None, :]
    fraction, whole = np.modf(points)
    lower = whole.astype(np.int64)              # int() truncates, as in mmaction2
    upper = np.ceil(points).astype(np.int64)
    bins = np.broadcast_to(np.arange(N * K) // K, points.shape)
    rows = np.broadcast_to((duration * T + start)[:, None], points.shape)
    taps = np.concatenate([lower.ravel(), upper.ravel()])
    weights = np.concatenate([(1.0 - fraction).ravel(), fraction.ravel()])
    rows = np.concatenate([rows.ravel(), rows.ravel()])
    cols = np.concatenate([bins.ravel(), bins.ravel()]) * T + taps
    inside = (taps >= 0) & (taps <= T - 1)
    matrix = sparse.coo_matrix((weights[inside], (rows[inside], cols[inside])),
                               shape=(T * T, N * T)).tocsr()
    matrix.sum_duplicates()
    return matrix * (1.0 / K)


def candidate_proposals(start: np.ndarray, end: np.ndarray, reg_map: np.ndarray,
                        cls_map: np.ndarray, peak_ratio: float = 0.5,
                        score: str = 'start*end*cls*reg'
                        ) -> tuple[np.ndarray, np.ndarray]:
    """BMN's candidate generation: boundary peaks paired, scored by the four maps.

    A position is a start (end) candidate if it is a local maximum of the start (end)
    probability or above ``peak_ratio`` times its maximum; position 0 is always a start
    and ``T - 1`` always an end. Candidate ``[s, e]`` (``e = s + d + 1 < T``, ``d`` below
    the map's ``D`` rows) scores ``start[s] * end[e] * cls[d, s] * reg[d, s]`` (BMN:
    mmaction2's ``BMN._parse``) or ``cls[d, s] * reg[d, s]`` (``score='cls*reg'``: G-TAD's
    ActivityNet inference, frostinassiky/gtad ``anet:gtad_inference.py``, which pairs the
    peaks of its boundary heads by the same rule but does not score with them).

    Args:
        start, end: ``[T]`` probabilities.
        reg_map, cls_map: ``[D, T]`` confidence maps (``[duration - 1, start]``).
        peak_ratio: Threshold relative to the maximum (0.5).
        score: ``'start*end*cls*reg'`` (BMN) or ``'cls*reg'`` (G-TAD).

    Returns:
        ``(segments [K, 2] in boundary positions, scores [K])``.

    Examples:
        >>> p = np.array([.9, .1, .1, .8])
        >>> seg, sc = candidate_proposals(p, p, np.ones((4, 4)), np.ones((4, 4)))
        >>> seg.tolist()
        [[0.0, 3.0]]
    """
    T = len(start)

    def peaks(scores: np.ndarray) -> np.ndarray:
        flags = np.zeros(T, dtype=bool)
        inner = scores[1:-1]
        flags[1:-1] = ((inner > scores[2:]) & (inner > scores[:-2])) | (
            inner > peak_ratio * scores.max())
        return flags

    if score not in ('start*end*cls*reg', 'cls*reg'):
        raise ValueError(f"score must be 'start*end*cls*reg' or 'cls*reg', got {score!r}")
    start_flags, end_flags = peaks(start), peaks(end)
    start_flags[0], end_flags[-1] = True, True
    duration, begin = np.meshgrid(np.arange(len(reg_map)), np.arange(T), indexing='ij')
    finish = begin + duration + 1
    ok = finish < T
    ok[ok] &= start_flags[begin[ok]] & end_flags[finish[ok]]
    d, s = duration[ok], begin[ok]
    e = s + d + 1
    # Same operand order and dtype as the official code, so that scores, and hence
    # Soft-NMS ties and orders, are bit-identical: mmaction2 multiplies the network's
    # float32 values, G-TAD the float64 values it read back from its CSV files. Rows
    # follow their double loop (duration outer, start inner).
    if score == 'start*end*cls*reg':
        scores = start[s] * end[e] * cls_map[d, s] * reg_map[d, s]
    else:
        scores = cls_map[d, s].astype(np.float64) * reg_map[d, s].astype(np.float64)
    return np.stack([s, e], axis=1).astype(np.float64), scores.astype(np.float64)


class _SparseSampling(torch.autograd.Function):
    """``out[g] = M @ x[g]`` for a constant CSR matrix, gather-based in both directions.

    torch's CPU sparse-dense product is slow for this shape; ``embedding_bag`` with
    per-sample weights is exactly a CSR row gather-and-sum and is well optimised, so it
    computes the product, and the transposed matrix gives the gradient the same way.
    """

    @staticmethod
    def forward(ctx, x, forward_csr, backward_csr):
        ctx.backward_csr = backward_csr
        # detach(): embedding_bag takes its slow, backward-ready path whenever its weight
        # requires grad, even under no_grad; the gradient is ours (backward below).
        return _csr_gather(x.detach(), *forward_csr)

    @staticmethod
    def backward(ctx, grad):
        return _csr_gather(grad.contiguous(), *ctx.backward_csr), None, None


def _csr_gather(x: torch.Tensor, offsets: torch.Tensor, columns: torch.Tensor,
                values: torch.Tensor) -> torch.Tensor:
    """Apply a CSR matrix to each group ``x[g]`` of shape ``[Q, c]`` -> ``[G, P, c]``."""
    values = values.to(x.dtype)
    return torch.stack([F.embedding_bag(columns, group, offsets, mode='sum',
                                        per_sample_weights=values) for group in x])


# --------------------------------------------------------------------------- model
@MODELS.register_module()
class BoundaryMatchingNetwork(BaseTemporalLocalizer):
    """BMN with a sparse, re-associated boundary-matching layer.

    Args:
        feat_dim: Input feature dimension ``C``.
        temporal_scale: ``T`` (100).
        num_samples: Sample points per candidate (32).
        num_samples_per_bin: Interpolations averaged per sample point (3).
        boundary_ratio: Extension of each candidate on both sides (0.5).
        hidden_dim_1d, hidden_dim_2d, hidden_dim_3d: Widths (256, 128, 512).
        soft_nms_alpha, soft_nms_low_threshold, soft_nms_high_threshold: BMN's
            Soft-NMS (0.4, 0.5, 0.9).
        post_process_top_k: Proposals kept per sample (100).
        sampling_chunk: Channels per gather group in the BM layer (speed only).
        boundary_anchors: Anchors of the start/end labels (:data:`heads.targets.
            BOUNDARY_ANCHORS`): ``'bmn'`` (mmaction2's ``_temporal_anchors(-0.5, 1.5)``)
            or ``'centred'`` (JJBOY's code since its commit da9e149).
        loss: Loss config (mmaction2's ``BMNLoss``).
        **kwargs: :class:`heads.base.BaseTemporalLocalizer`'s ``loss_weights`` (of TEM,
            PEM regression, PEM classification: (1, 10, 1)), ``class_fusion`` (optional
            detections by video-level class fusion, :mod:`heads.classifiers`),
            ``duration_correction`` (mmaction2's ``frames // 16``), ``data_preprocessor``
            and ``init_cfg``.

    Examples:
        >>> model = BoundaryMatchingNetwork(feat_dim=8, temporal_scale=16,
        ...                                 hidden_dim_1d=16, hidden_dim_2d=8, hidden_dim_3d=16)
        >>> conf, start, end = model(torch.rand(2, 8, 16), mode='tensor')
        >>> tuple(conf.shape), tuple(start.shape)
        ((2, 2, 16, 16), (2, 16))
    """

    def __init__(self, feat_dim: int = 400, temporal_scale: int = 100, num_samples: int = 32,
                 num_samples_per_bin: int = 3, boundary_ratio: float = 0.5,
                 hidden_dim_1d: int = 256, hidden_dim_2d: int = 128, hidden_dim_3d: int = 512,
                 soft_nms_alpha: float = 0.4, soft_nms_low_threshold: float = 0.5,
                 soft_nms_high_threshold: float = 0.9, post_process_top_k: int = 100,
                 sampling_chunk: int = 128, boundary_anchors: str | tuple = 'bmn',
                 loss: dict | None = None, **kwargs):
        super().__init__(temporal_scale=temporal_scale, max_duration=temporal_scale,
                         loss=loss, **kwargs)
        self.feat_dim = feat_dim = concrete_feat_dim(feat_dim)
        boundary_anchor_offsets(boundary_anchors)  # a wrong name fails here, not in training
        self.boundary_anchors = boundary_anchors
        self.num_samples = num_samples
        self.soft_nms = dict(alpha=soft_nms_alpha, low_threshold=soft_nms_low_threshold,
                             high_threshold=soft_nms_high_threshold, top_k=post_process_top_k)
        self.sampling_chunk = sampling_chunk
        relu = dict(inplace=True)

        def conv1d(c_in, c_out, k=3, groups=1):
            return nn.Conv1d(c_in, c_out, kernel_size=k, padding=k // 2, groups=groups)

        self.base = nn.Sequential(conv1d(feat_dim, hidden_dim_1d, groups=4), nn.ReLU(**relu),
                                  conv1d(hidden_dim_1d, hidden_dim_1d, groups=4),
                                  nn.ReLU(**relu))
        self.start_head = nn.Sequential(conv1d(hidden_dim_1d, hidden_dim_1d, groups=4),
                                        nn.ReLU(**relu), conv1d(hidden_dim_1d, 1, k=1),
                                        nn.Sigmoid())
        self.end_head = nn.Sequential(conv1d(hidden_dim_1d, hidden_dim_1d, groups=4),
                                      nn.ReLU(**relu), conv1d(hidden_dim_1d, 1, k=1),
                                      nn.Sigmoid())
        self.proposal_1d = nn.Sequential(conv1d(hidden_dim_1d, hidden_dim_1d), nn.ReLU(**relu))
        # Kept as a Conv3d so checkpoints map one to one; forward() uses its weights in
        # the re-associated order (see the module docstring).
        self.sample_conv = nn.Conv3d(hidden_dim_1d, hidden_dim_3d,
                                     kernel_size=(num_samples, 1, 1))
        self.proposal_2d = nn.Sequential(
            nn.Conv2d(hidden_dim_3d, hidden_dim_2d, kernel_size=1), nn.ReLU(**relu),
            nn.Conv2d(hidden_dim_2d, hidden_dim_2d, kernel_size=3, padding=1), nn.ReLU(**relu),
            nn.Conv2d(hidden_dim_2d, hidden_dim_2d, kernel_size=3, padding=1), nn.ReLU(**relu),
            nn.Conv2d(hidden_dim_2d, 2, kernel_size=1), nn.Sigmoid())

        matrix = boundary_matching_sample_matrix(temporal_scale, num_samples,
                                                 num_samples_per_bin, boundary_ratio)
        # Non-persistent buffers: they follow .to(device) and stay out of checkpoints.
        for prefix, csr in (('sampling', matrix), ('sampling_t', matrix.T.tocsr())):
            for name, tensor in zip(('offsets', 'columns', 'values'), _csr_tensors(csr)):
                self.register_buffer(f'{prefix}_{name}', tensor, persistent=False)

    # ---------------------------------------------------------------- network
    def boundary_matching_layer(self, features: torch.Tensor) -> torch.Tensor:
        """BM layer + the Conv3d over its sample points, re-associated (+ bias, ReLU).

        Args:
            features: ``[B, C1, T]`` proposal features.

        Returns:
            ``[B, C3, T, T]`` (``[.., duration, start]``).
        """
        B, C1, T = features.shape
        weight = self.sample_conv.weight  # [C3, C1, N, 1, 1]
        C3, N = weight.shape[0], weight.shape[2]
        # Conv3d weights along the sample axis first: [B, C3 * N, T], channel o * N + n.
        per_point = F.conv1d(features, weight.reshape(C3, C1, N).permute(0, 2, 1)
                             .reshape(C3 * N, C1, 1))
        chunk = self.sampling_chunk if C3 % self.sampling_chunk == 0 else C3
        groups = (per_point.reshape(B, C3 // chunk, chunk, N, T).permute(0, 1, 3, 4, 2)
                  .reshape(B * C3 // chunk, N * T, chunk).contiguous())  # rows must be dense
        sampled = _SparseSampling.apply(
            groups, (self.sampling_offsets, self.sampling_columns, self.sampling_values),
            (self.sampling_t_offsets, self.sampling_t_columns, self.sampling_t_values))
        sampled = (sampled.reshape(B, C3 // chunk, T, T, chunk).permute(0, 1, 4, 2, 3)
                   .reshape(B, C3, T, T))
        return F.relu(sampled + self.sample_conv.bias.view(1, C3, 1, 1))

    def _forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Features ``[B, C, T]`` -> (confidence maps ``[B, 2, T, T]``, start, end ``[B, T]``)."""
        base = self.base(x)
        start = self.start_head(base).squeeze(1)
        end = self.end_head(base).squeeze(1)
        confidence = self.proposal_2d(self.boundary_matching_layer(self.proposal_1d(base)))
        return confidence, start, end

    # ------------------------------------------------------------ targets, proposals
    def sample_targets(self, gt_bbox: np.ndarray, metainfo: dict) -> tuple[np.ndarray, ...]:
        """mmaction2 BMN's labels (:func:`heads.targets.localization_labels`), ``[T, T]`` map."""
        labels = localization_labels(gt_bbox, self.temporal_scale, self.boundary_anchors)
        return labels['gt_start'], labels['gt_end'], labels['gt_iou_map']

    def proposals_in_seconds(self, maps: np.ndarray, start: np.ndarray, end: np.ndarray,
                             metainfo: dict) -> tuple[np.ndarray, np.ndarray]:
        """Candidates -> Soft-NMS (normalised widths) -> seconds via the grid centre times.

        Args:
            maps: ``[2, T, T]`` regression and classification confidence maps.
            start, end: ``[T]`` boundary probabilities.
            metainfo: The sample's metadata (``grid_centers`` and/or ``duration``).
        """
        segments, scores = candidate_proposals(start, end, maps[0], maps[1])
        # Integer positions with width_scale T: the tIoUs are exact quotients of integers,
        # so a tIoU equal to the width-adaptive threshold is not moved by rounding.
        kept, kept_scores = bmn_soft_nms(segments, scores, width_scale=self.temporal_scale,
                                         **self.soft_nms)
        return self.to_seconds(segments[kept], kept_scores, metainfo)


def _csr_tensors(matrix) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(row offsets without the last, column indices, values) of a scipy CSR matrix."""
    return (torch.from_numpy(matrix.indptr[:-1].astype(np.int64)),
            torch.from_numpy(matrix.indices.astype(np.int64)),
            torch.from_numpy(matrix.data.astype(np.float32)))


# -------------------------------------------------------------- mmaction2 loading
_MMACTION_PREFIXES = {'x_1d_b.': 'base.', 'x_1d_s.': 'start_head.', 'x_1d_e.': 'end_head.',
                      'x_1d_p.': 'proposal_1d.', 'x_3d_p.0.': 'sample_conv.',
                      'x_2d_p.': 'proposal_2d.'}


def convert_mmaction_state_dict(state_dict: dict) -> dict:
    """Rename an mmaction2 ``BMN`` state dict to :class:`BoundaryMatchingNetwork`'s.

    The dense ``sample_mask`` and ``bm_mask`` buffers are dropped (we rebuild both).
    """
    out = {}
    for key, value in state_dict.items():
        for old, new in _MMACTION_PREFIXES.items():
            if key.startswith(old):
                out[new + key[len(old):]] = value
                break
    return out


def load_mmaction_bmn(path: str | os.PathLike, **kwargs) -> BoundaryMatchingNetwork:
    """Build a :class:`BoundaryMatchingNetwork` from an mmaction2 BMN checkpoint.

    Widths, feature dimension and ``T`` are read from the weights; other arguments
    (``boundary_ratio``, Soft-NMS settings...) can be given as keyword arguments.

    Args:
        path: mmaction2 checkpoint (``{'state_dict': ...}``) or a bare state dict.
        **kwargs: Overrides for :class:`BoundaryMatchingNetwork`.

    Raises:
        PalEvalError: the file is not a BMN checkpoint.
    """
    from mmengine.runner.checkpoint import _load_checkpoint

    from pal_eval.errors import InputError

    checkpoint = _load_checkpoint(str(path), map_location='cpu')
    state = checkpoint.get('state_dict', checkpoint)
    state = {k.removeprefix('module.'): v for k, v in state.items()}
    try:
        base_weight = state['x_1d_b.0.weight']            # [H1, C / 4, 3]
        conv3d_weight = state['x_3d_p.0.weight']          # [H3, H1, N, 1, 1]
        hidden_2d = state['x_2d_p.0.weight'].shape[0]
    except KeyError as exc:
        raise InputError(path, f'not an mmaction2 BMN checkpoint (no {exc.args[0]})',
                         field='state_dict') from None
    settings = dict(feat_dim=base_weight.shape[1] * 4, hidden_dim_1d=base_weight.shape[0],
                    hidden_dim_3d=conv3d_weight.shape[0], hidden_dim_2d=hidden_2d,
                    num_samples=conv3d_weight.shape[2])
    if 'sample_mask' in state:
        settings['temporal_scale'] = state['sample_mask'].shape[0]
    settings.update(kwargs)
    model = BoundaryMatchingNetwork(**settings)
    model.load_state_dict(convert_mmaction_state_dict(state), strict=True)
    return model

"""What every head shares: MMEngine's ``forward(mode)``, and for BMN and G-TAD the rest.

* :class:`BaseHead`: the ``forward(inputs, data_samples, mode)`` dispatch of all three
  heads (``'tensor'`` -> :meth:`~BaseHead.raw_outputs`, ``'loss'``, ``'predict'``).
* :class:`BaseTemporalLocalizer`: BMN and G-TAD, which differ only in their network
  (``_forward``: features -> proposal maps, start, end) and in how a sample's maps become
  scored boundary positions (``proposals_in_seconds``). The base owns

  - the loss, with one convention: the returned dict holds only the *weighted* parts
    (``loss_tem``, ``loss_reg``, ``loss_cls``: the loss module's parts, mmaction2's
    ``BMNLoss`` for BMN and :class:`heads.losses.GTADLoss` for G-TAD, times
    ``loss_weights``), MMEngine sums them, so the logged ``loss`` is the one
    backpropagated;
  - the targets, built from each sample's ``gt_bbox`` (and metainfo) by
    :mod:`heads.targets`;
  - ``predict``: raw outputs -> boundary positions -> seconds on the sample's time grid
    (``grid_centers``; without it, ``T`` equal bins over ``duration``) -> detections by
    class fusion when ``class_fusion`` is set (:mod:`heads.classifiers`: the video's top
    classes, or each proposal's own with a per-proposal classifier). With
    ``class_fusion=dict(after_window_merge=True, ...)`` a sliding-window sample keeps
    its class-agnostic proposals and carries the video's class scores
    (``pred_class_scores``, metainfo ``pred_taxonomy``, ``top_k_classes``): the metric
    fuses after merging the video's windows, G-TAD THUMOS14's order
    (:func:`pal_eval.postprocess.windows.merge_window_predictions`).

Boundary positions become seconds by the sample's convention (metainfo ``boundary_at``,
set by the dataset): ``'edge'`` (default) puts boundary ``b`` between snippets ``b - 1``
and ``b`` (:mod:`pal_eval.core.time_grid`); ``'center'`` at the centre of snippet ``b``,
G-TAD THUMOS14's frame ``5 (w + b)``.

Prediction contract (read by :mod:`pal_eval.evaluation.metrics`): each data sample gets
``pred_segments`` (float64 ``[K, 2]`` seconds, best first), ``pred_scores`` ``[K]`` and,
with class fusion, ``pred_labels`` (class names); ``video_id`` is set from ``video_name``
when only that is given.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModel

from heads.classifiers import NO_SOURCE, build_video_classifier
from heads.targets import proposal_map_mask
from pal_eval.core.time_grid import boundary_to_seconds
from pal_eval.errors import PalEvalError
from pal_eval.postprocess.fusion import (
    fuse_proposals_with_classes,
    fuse_proposals_with_proposal_classes,
)

__all__ = ['BaseHead', 'BaseTemporalLocalizer', 'concrete_feat_dim']


def concrete_feat_dim(feat_dim) -> int:
    """A head's input width: ``feat_dim`` as an int.

    The configs say ``feat_dim='auto'``: ``FeatureAwareRunner`` (their ``runner_type``)
    replaces it with the features' dimension before the model is built, so a model built
    from such a config without that runner is told what to do.

    Examples:
        >>> concrete_feat_dim(400)
        400
    """
    if isinstance(feat_dim, str):
        raise PalEvalError(f"feat_dim={feat_dim!r} is read from the features by "
                           "runner_type='FeatureAwareRunner' (mim train / mim test with the "
                           'configs); building a head directly needs the number, e.g. '
                           'feat_dim=400')
    return int(feat_dim)


class BaseHead(BaseModel):
    """MMEngine's three modes for a head: ``tensor``, ``loss`` and ``predict``.

    Subclasses implement :meth:`raw_outputs`, ``loss(inputs, data_samples)`` and
    ``predict(inputs, data_samples)``; inputs arrive as one float tensor (a list of
    per-sample tensors, as collated by MMEngine, is stacked).
    """

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        """MMEngine entry point: ``mode`` is ``'tensor'``, ``'loss'`` or ``'predict'``."""
        if isinstance(inputs, (list, tuple)):
            inputs = torch.stack(list(inputs))
        inputs = inputs.float()
        if mode == 'tensor':
            return self.raw_outputs(inputs, data_samples)
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise RuntimeError(f'invalid mode {mode!r}: expected tensor, loss or predict')

    def raw_outputs(self, inputs: torch.Tensor, data_samples=None):
        """The network's outputs before any post-processing (``mode='tensor'``)."""
        raise NotImplementedError


class BaseTemporalLocalizer(BaseHead):
    """BMN-family localizer: proposal maps ``[B, 2, D, T]`` + start/end ``[B, T]``.

    Subclasses implement ``_forward(x) -> (maps, start, end)`` (map channel 0 the IoU
    regression, channel 1 the classification), :meth:`sample_targets` and
    :meth:`proposals_in_seconds`.

    Args:
        temporal_scale: ``T``, positions per sample.
        max_duration: ``D``, rows of the proposal map (``T`` for BMN).
        loss: The loss config (mmaction2's ``BMNLoss`` unless the subclass says otherwise).
        loss_weights: Weights of (temporal evaluation, IoU regression, classification).
        class_fusion: None (class-agnostic proposals) or a dict: ``top_k_classes``
            (default 2), ``after_window_merge`` (default False; module docstring) and the
            video classifier (:mod:`heads.classifiers`:
            ``type='ScoreFileClassifier'``, ``score_file``, ``taxonomy`` or ``ann_file``;
            ``type='FeatureVideoClassifier'``, ``ann_file``, ``feature_dir``, ``subset``;
            ``type='ProposalFeatureClassifier'``: per-proposal classes, same keys).
            A sample's own ``class_scores`` (with its ``taxonomy``) come first.
        duration_correction: None, or mmaction2's ``feature_extraction_interval`` (16):
            positions become seconds as ``b / T x (frames // k x k) / frames x duration``
            (``proposal_utils.py::post_processing``) with ``frames`` the metainfo's
            ``duration_frame`` (or ``duration x fps``), instead of through ``grid_centers``:
            for features that come without centre times (CUHK's 100-position ones).
        data_preprocessor, init_cfg: As in MMEngine.
    """

    def __init__(self, *, temporal_scale: int, max_duration: int, loss: dict | None = None,
                 loss_weights: Sequence[float] = (1.0, 10.0, 1.0),
                 class_fusion: dict | None = None, duration_correction: int | None = None,
                 data_preprocessor: dict | None = None, init_cfg: dict | None = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.temporal_scale, self.max_duration = temporal_scale, max_duration
        self.loss_module = MODELS.build(loss or dict(type='BMNLoss'))
        self.loss_weights = tuple(loss_weights)
        self.duration_correction = None if duration_correction is None else int(
            duration_correction)
        self.class_fusion = dict(class_fusion) if class_fusion is not None else None
        fusion = dict(self.class_fusion or {})
        self.top_k_classes = int(fusion.pop('top_k_classes', 2))
        self.fuse_after_window_merge = bool(fusion.pop('after_window_merge', False))
        self.video_classifier = build_video_classifier(fusion) if self.class_fusion else None
        # Non-persistent: follows .to(device), stays out of checkpoints.
        self.register_buffer('bm_mask', proposal_map_mask(temporal_scale, max_duration),
                             persistent=False)

    # ------------------------------------------------------------------- subclasses
    def _forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def sample_targets(self, gt_bbox: np.ndarray, metainfo: dict) -> tuple[np.ndarray, ...]:
        """``(start [T], end [T], iou_map [D, T])`` of one sample (:mod:`heads.targets`)."""
        raise NotImplementedError

    def proposals_in_seconds(self, maps: np.ndarray, start: np.ndarray, end: np.ndarray,
                             metainfo: dict) -> tuple[np.ndarray, np.ndarray]:
        """One sample's ``(segments [K, 2] seconds, scores [K])``, best first."""
        raise NotImplementedError

    # ---------------------------------------------------------------------- modes
    def raw_outputs(self, inputs: torch.Tensor, data_samples=None):
        return self._forward(inputs)

    def targets(self, data_samples: Sequence) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Start, end and IoU-map targets of a batch, from each sample's ``gt_bbox``."""
        per_sample = [self.sample_targets(_as_numpy(s.gt_instances['gt_bbox']), s.metainfo)
                      for s in data_samples]
        device = self.bm_mask.device
        return tuple(torch.stack([torch.as_tensor(np.ascontiguousarray(t[i]), dtype=torch.float32)
                                  for t in per_sample]).to(device) for i in range(3))

    def loss(self, inputs: torch.Tensor, data_samples: Sequence) -> dict[str, torch.Tensor]:
        """``L_tem + 10 L_reg + L_cls`` (default weights), each part weighted in the dict."""
        maps, start, end = self._forward(inputs)
        gt_start, gt_end, gt_iou = self.targets(data_samples)
        _, tem, reg, cls = self.loss_module(maps, start, end, gt_iou, gt_start, gt_end,
                                            self.bm_mask)
        w_tem, w_reg, w_cls = self.loss_weights
        return dict(loss_tem=w_tem * tem, loss_reg=w_reg * reg, loss_cls=w_cls * cls)

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor, data_samples: Sequence) -> list:
        """Proposals, or detections with ``class_fusion``, in seconds (module docstring)."""
        outputs = [t.float().cpu().numpy() for t in self._forward(inputs)]
        for sample, maps, start, end in zip(data_samples, *outputs):
            meta = sample.metainfo
            segments, scores = self.proposals_in_seconds(maps, start, end, meta)
            if getattr(self.video_classifier, 'per_proposal', False):
                video_id = meta.get('video_id', meta.get('video_name'))
                segments, scores, labels = fuse_proposals_with_proposal_classes(
                    segments, scores, self.video_classifier.segment_scores(video_id, segments),
                    self.video_classifier.taxonomy, top_k_classes=self.top_k_classes)
                sample.pred_labels = labels
            elif self.class_fusion is not None:
                taxonomy, class_scores = self._class_scores(meta)
                if self.fuse_after_window_merge and meta.get('window_start') is not None:
                    # Fused by the metric once the video's windows are merged.
                    sample.pred_class_scores = np.asarray(class_scores, dtype=np.float64)
                    sample.set_metainfo(dict(pred_taxonomy=list(taxonomy),
                                             top_k_classes=self.top_k_classes))
                else:
                    segments, scores, labels = fuse_proposals_with_classes(
                        segments, scores, class_scores, taxonomy,
                        top_k_classes=self.top_k_classes)
                    sample.pred_labels = labels
            if 'video_id' not in meta:
                sample.set_metainfo(dict(video_id=meta.get('video_name')))
            sample.pred_segments = segments
            sample.pred_scores = scores
        return list(data_samples)

    # -------------------------------------------------------------------- helpers
    def to_seconds(self, boundaries: np.ndarray, scores: np.ndarray, metainfo: dict
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Boundary positions ``[K, 2]`` -> seconds on the sample's grid, inside the video.

        The grid is the sample's ``grid_centers`` (:mod:`pal_eval.core.time_grid`), read
        by its ``boundary_at`` convention (module docstring); without them (no extraction
        metadata), ``T`` equal bins over ``duration`` (or mmaction2's ``duration_second``,
        rescaled to the ``feature_frame`` of ``duration_frame`` frames the features cover
        when given); with ``duration_correction``, mmaction2's corrected duration. Segments
        are clipped to ``[0, duration]``; those left empty (wholly in a window's padding
        past the video end) are dropped.

        Raises:
            PalEvalError: neither a grid nor a duration: positions cannot become seconds
                (squeezing them into ``[0, 1]`` s would be a silent wrong answer).
        """
        duration = _duration(metainfo)
        centers = metainfo.get('grid_centers')
        boundary_at = metainfo.get('boundary_at', 'edge')
        if boundary_at not in ('edge', 'center'):
            raise PalEvalError(f"boundary_at must be 'edge' or 'center', got {boundary_at!r}")
        if self.duration_correction is not None:
            seconds = boundaries / self.temporal_scale * self._corrected_duration(metainfo)
        elif centers is None:
            if duration is None:
                raise PalEvalError(
                    f'sample {metainfo.get("video_id", metainfo.get("video_name"))!r} has '
                    'neither grid_centers nor a duration (duration / duration_second) in '
                    'its metainfo: its proposals cannot be put in seconds')
            seconds = boundaries / self.temporal_scale * duration
        else:
            shift = 0.5 if boundary_at == 'center' else 0.0
            seconds = boundary_to_seconds(boundaries + shift, np.asarray(centers))
        if duration is not None:
            seconds = seconds.clip(0.0, float(duration))
        inside = seconds[:, 1] > seconds[:, 0]
        return seconds[inside], scores[inside]

    def _corrected_duration(self, metainfo: dict) -> float:
        """mmaction2's ``duration_frame // k * k / duration_frame * duration_second``."""
        duration = _duration(metainfo)
        frames = metainfo.get('duration_frame')
        if frames is None and duration is not None and metainfo.get('fps'):
            frames = round(float(duration) * float(metainfo['fps']))
        if duration is None or not frames:
            raise PalEvalError(f"video {metainfo.get('video_id')!r}: duration_correction="
                               f'{self.duration_correction} needs the duration and the frame '
                               'count (metainfo duration_frame, or fps)')
        k = self.duration_correction
        return float(int(frames) // k * k) / int(frames) * float(duration)

    def _class_scores(self, metainfo: dict) -> tuple[list[str], np.ndarray]:
        """The video's ``(taxonomy, class scores)``: from its metainfo, else the classifier."""
        if 'class_scores' in metainfo:
            return list(metainfo['taxonomy']), np.asarray(metainfo['class_scores'])
        if self.video_classifier is None:
            raise PalEvalError(NO_SOURCE)
        video_id = metainfo.get('video_id', metainfo.get('video_name'))
        return self.video_classifier.taxonomy, self.video_classifier.scores(video_id)


def _duration(metainfo: dict) -> float | None:
    """The sample's duration in seconds: ``duration``, else mmaction2's ``duration_second``
    (times ``feature_frame / duration_frame`` when both are given, as mmaction2 rescales)."""
    if metainfo.get('duration') is not None:
        return float(metainfo['duration'])
    if metainfo.get('duration_second') is None:
        return None
    seconds = float(metainfo['duration_second'])
    if metainfo.get('feature_frame') and metainfo.get('duration_frame'):
        seconds *= float(metainfo['feature_frame']) / float(metainfo['duration_frame'])
    return seconds


def _as_numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)

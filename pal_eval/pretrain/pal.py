"""PAL: Pseudo Action Localization pretraining (Zhang et al., CVPR 2022).

"Unsupervised Pre-training for Temporal Action Localization Tasks",
https://arxiv.org/abs/2203.13609. The paper's code was never released; this is an
implementation from the paper and its supplementary, every choice a config field.

Method, per sample (see :mod:`pal_eval.pretrain.compositing` for the data side):

1. A pseudo-action region of ``L`` clips from video ``v_i`` is pasted into two
   background videos (``J`` clips each) at random positions, each with its own random
   temporal scale: composites 1 and 2, with exact per-clip action masks.
2. The query encoder encodes every clip of composite 1, the momentum key encoder every
   clip of composite 2 (``PALBackbone``, R(2+1)D-18 by default), then an MLP head.
3. Positive pair: the pseudo-action region feature of composite 1 (mean of its action
   clips' features, projected) and that of composite 2.
4. Negatives: the MoCo-v2 queue of region keys of other videos, **and** the background
   clips of the same composite (and, by default, of the key composite too), so that the
   action region must be told apart from its own temporal surroundings: this is what
   makes the features localization-aware.
5. InfoNCE with temperature; momentum update of the key encoder; region keys (gathered
   across DDP ranks) enqueued. Options: symmetric loss (swap composites) and a
   temporally dense clip-level term: each action clip of composite 1 must match the
   clip of composite 2 showing the same moment once both scales are undone.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from mmaction.registry import MODELS

from pal_eval.pretrain.compositing import corresponding_clips
from pal_eval.pretrain.moco import MomentumContrast, info_nce

BACKGROUND_NEGATIVES = ('none', 'query', 'both')


def masked_mean(features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``features [B, J, C]`` over the clips where ``mask [B, J]`` is True."""
    weights = mask.to(features.dtype).unsqueeze(-1)
    return (features * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


def masks_from_samples(data_samples: Sequence, num_clips: int,
                       device: torch.device) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """Action masks ``[B, 2, J]`` plus start clips and lengths ``[B, 2]`` from metainfo."""
    masks, starts, lengths = [], [], []
    for sample in data_samples:
        meta = sample.metainfo
        mask = np.asarray(meta['action_mask'], dtype=bool)
        if mask.shape != (2, num_clips):
            raise ValueError(f'action_mask of shape {mask.shape}, expected (2, {num_clips})')
        masks.append(mask)
        starts.append(np.asarray(meta['start_clip']))
        lengths.append(np.asarray(meta['num_action_clips']))
    return (torch.as_tensor(np.stack(masks), device=device), np.stack(starts),
            np.stack(lengths))


@MODELS.register_module()
class PAL(MomentumContrast):
    """Pseudo Action Localization pretraining model (see the module docstring).

    Args:
        backbone: Clip encoder config (``PALBackbone``).
        background_negatives: Background clips used as extra negatives of the region
            query: ``'query'`` (those of the query's own composite, features from the
            query encoder, detached), ``'both'`` (also the key composite's, from the key
            encoder; default) or ``'none'`` (plain MoCo on regions, for ablation).
        dense_loss_weight: Weight of the clip-level dense term (0 disables it).
        **kwargs: See :class:`~pal_eval.pretrain.moco.MomentumContrast` (``clips_per_video``,
            ``embed_dim``, ``queue_size``, ``momentum``, ``temperature``, ``symmetric``...).

    Examples:
        >>> from mmaction.structures import ActionDataSample
        >>> model = PAL(dict(type='PALBackbone', base_channels=8), clips_per_video=4,
        ...             queue_size=8)
        >>> model.init_weights()
        >>> sample = ActionDataSample(metainfo=dict(
        ...     action_mask=[[0, 1, 0, 0], [0, 0, 1, 0]], start_clip=[1, 2],
        ...     num_action_clips=[1, 1]))
        >>> losses = model(torch.randn(1, 2, 3, 8, 32, 32), [sample], mode='loss')
        >>> sorted(losses)
        ['loss_region', 'pos_acc']
    """

    def __init__(self, backbone: dict, *, background_negatives: str = 'both',
                 dense_loss_weight: float = 0.0, **kwargs):
        super().__init__(backbone, **kwargs)
        if background_negatives not in BACKGROUND_NEGATIVES:
            raise ValueError(f'background_negatives must be one of {BACKGROUND_NEGATIVES}')
        self.background_negatives = background_negatives
        self.dense_loss_weight = dense_loss_weight

    def _composite_loss(self, query_video, key_video, query_mask, key_mask, starts, lengths):
        """Losses with the query on one composite and the key on the other.

        Returns:
            ``(region loss, accuracy, region keys, dense loss or None)``.
        """
        query_clips = self.encode_clips(query_video)                     # [B, J, C]
        query = self.project(masked_mean(query_clips, query_mask))        # [B, D]
        with torch.no_grad():
            key_clips = self.encode_clips(key_video, key=True)
            key = self.project(masked_mean(key_clips, key_mask), key=True)
            key_clip_embed = self.project(key_clips, key=True)            # [B, J, D]
        blocks = [(query * key).sum(dim=1, keepdim=True), query @ self.queue.keys.clone().T]
        query_clip_embed = None
        if self.background_negatives != 'none' or self.dense_loss_weight > 0:
            query_clip_embed = self.project(query_clips)                  # [B, J, D]
        if self.background_negatives in ('query', 'both'):
            # Detached: the background clips act as fixed negatives, like queue keys.
            sims = torch.einsum('bd,bjd->bj', query, query_clip_embed.detach())
            blocks.append(sims.masked_fill(query_mask, float('-inf')))
        if self.background_negatives == 'both':
            sims = torch.einsum('bd,bjd->bj', query, key_clip_embed)
            blocks.append(sims.masked_fill(key_mask, float('-inf')))
        loss, accuracy = info_nce(torch.cat(blocks, dim=1), self.temperature)
        dense = None
        if self.dense_loss_weight > 0:
            dense = self._dense_loss(query_clip_embed, key_clip_embed, starts, lengths)
        return loss, accuracy, key, dense

    def _dense_loss(self, query_clip_embed, key_clip_embed, starts, lengths) -> torch.Tensor:
        """Each action clip of the query composite vs all clips of the key composite;
        the positive is the clip showing the same moment (both scales undone)."""
        logits, targets = [], []
        for b in range(query_clip_embed.shape[0]):
            (q_start, k_start), (q_len, k_len) = starts[b], lengths[b]
            targets.append(torch.as_tensor(
                corresponding_clips(int(q_start), int(q_len), int(k_start), int(k_len)),
                device=query_clip_embed.device))
            query_clips = query_clip_embed[b, int(q_start):int(q_start) + int(q_len)]
            logits.append(query_clips @ key_clip_embed[b].T)              # [L1, J]
        return torch.nn.functional.cross_entropy(
            torch.cat(logits) / self.temperature, torch.cat(targets))

    def loss(self, inputs: torch.Tensor, data_samples: Sequence | None) -> dict:
        if data_samples is None:
            raise ValueError('PAL needs data samples carrying the composites\' action masks')
        masks, starts, lengths = masks_from_samples(data_samples, self.clips_per_video,
                                                    inputs.device)
        with torch.no_grad():
            self.momentum_update()
        loss, accuracy, key, dense = self._composite_loss(
            inputs[:, 0], inputs[:, 1], masks[:, 0], masks[:, 1], starts, lengths)
        keys = [key]
        if self.symmetric:
            loss_2, accuracy_2, key_2, dense_2 = self._composite_loss(
                inputs[:, 1], inputs[:, 0], masks[:, 1], masks[:, 0], starts[:, ::-1],
                lengths[:, ::-1])
            loss, accuracy = (loss + loss_2) / 2, (accuracy + accuracy_2) / 2
            dense = None if dense is None else (dense + dense_2) / 2
            keys.append(key_2)
        self.queue.enqueue(torch.cat(keys))
        losses = dict(loss_region=loss, pos_acc=accuracy)
        if dense is not None:
            losses['loss_dense'] = self.dense_loss_weight * dense
        return losses

"""PAL: Pseudo Action Localization pretraining (Zhang et al., CVPR 2022).

"Unsupervised Pre-training for Temporal Action Localization Tasks",
https://arxiv.org/abs/2203.13609. The paper's code was never released; this is an
implementation from the paper and its supplementary, every choice a config field.

Method, per sample (see :mod:`pal_eval.pretrain.compositing` for the data side):

1. Two pseudo-action regions of the same unlabeled video ``v_i`` ("we first randomly
   select temporal regions [...] from one video as pseudo actions and then paste them
   onto different temporal positions of the other two videos") are pasted into two
   background videos (``J`` clips each) at random positions, each with its own random
   temporal scale: composites 1 and 2, with exact per-clip action masks. (The data set's
   ``regions='shared'`` pastes one region twice instead, for ablation and the dense term.)
2. The query encoder encodes every clip of composite 1; the momentum key encoder every
   clip of *both* composites (``PALBackbone``, R(2+1)D-18 by default), then an MLP head.
3. Positive pair: the pseudo-action region feature of composite 1 (mean of its action
   clips' features, projected) and that of composite 2 (momentum encoder).
4. Negatives, **all from the momentum encoder** like the positive: the MoCo-v2 queue
   of region keys of other videos (own video masked), the other samples' current
   region keys (in-batch), and the background clips of the query's own composite (and,
   by default, of the key composite): the action region must be told apart from its
   own temporal surroundings, which is what makes the features localization-aware.
5. InfoNCE with temperature; momentum update of the key encoder; region keys (gathered
   across DDP ranks) enqueued. Options: symmetric loss (swap composites) and a
   temporally dense clip-level term: each action clip of composite 1 must match the
   clip of composite 2 showing the same moment once both scales are undone (needs
   ``regions='shared'``).

An earlier version embedded the query composite's background clips with the *query*
encoder (its own BN batch and augmentation): those negatives then sat at cosine ~0.99
to the query against ~0.9 for the positive and won every time (issue 14).
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from mmaction.registry import MODELS

from pal_eval.pretrain.compositing import corresponding_clips
from pal_eval.pretrain.moco import MomentumContrast, video_ids, view_major

BACKGROUND_NEGATIVES = ('none', 'query', 'both')


def masked_mean(features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``features [B, J, C]`` over the clips where ``mask [B, J]`` is True."""
    weights = mask.to(features.dtype).unsqueeze(-1)
    return (features * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


def masks_from_samples(data_samples: Sequence, num_clips: int, device: torch.device
                       ) -> tuple[torch.Tensor, np.ndarray, np.ndarray, bool]:
    """Action masks ``[B, 2, J]``, start clips and lengths ``[B, 2]`` from metainfo, and
    whether both composites of every sample show the same region."""
    masks, starts, lengths, shared = [], [], [], True
    for sample in data_samples:
        meta = sample.metainfo
        mask = np.asarray(meta['action_mask'], dtype=bool)
        if mask.shape != (2, num_clips):
            raise ValueError(f'action_mask of shape {mask.shape}, expected (2, {num_clips})')
        masks.append(mask)
        starts.append(np.asarray(meta['start_clip']))
        lengths.append(np.asarray(meta['num_action_clips']))
        shared &= bool(meta.get('shared_region', True))
    return (torch.as_tensor(np.stack(masks), device=device), np.stack(starts),
            np.stack(lengths), shared)


@MODELS.register_module()
class PAL(MomentumContrast):
    """Pseudo Action Localization pretraining model (see the module docstring).

    Args:
        backbone: Clip encoder config (``PALBackbone``).
        background_negatives: Background clips used as extra negatives of the region
            query, momentum-encoded: ``'query'`` (those of the query's own composite),
            ``'both'`` (also the key composite's; default) or ``'none'`` (plain MoCo on
            regions, for ablation).
        dense_loss_weight: Weight of the clip-level dense term (0 disables it).
        **kwargs: See :class:`~pal_eval.pretrain.moco.MomentumContrast` (``clips_per_video``,
            ``embed_dim``, ``queue_size``, ``momentum``, ``temperature``, ``symmetric``,
            ``in_batch_negatives``, ``bn_groups``, ``shuffle_bn``...).

    Examples:
        >>> from mmaction.structures import ActionDataSample
        >>> model = PAL(dict(type='PALBackbone', base_channels=8), clips_per_video=4,
        ...             queue_size=8)
        >>> model.init_weights()
        >>> sample = ActionDataSample(metainfo=dict(
        ...     action_mask=[[0, 1, 0, 0], [0, 0, 1, 0]], start_clip=[1, 2],
        ...     num_action_clips=[1, 1]))
        >>> losses = model(torch.randn(1, 2, 3, 8, 32, 32), [sample], mode='loss')
        >>> sorted(k for k in losses if k.startswith(('loss', 'sim')))
        ['loss_region', 'sim_batch', 'sim_bg', 'sim_pos', 'sim_queue']
    """

    def __init__(self, backbone: dict, *, background_negatives: str = 'both',
                 dense_loss_weight: float = 0.0, **kwargs):
        super().__init__(backbone, **kwargs)
        if background_negatives not in BACKGROUND_NEGATIVES:
            raise ValueError(f'background_negatives must be one of {BACKGROUND_NEGATIVES}')
        self.background_negatives = background_negatives
        self.dense_loss_weight = dense_loss_weight

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
        batch = inputs.shape[0]
        masks, starts, lengths, shared = masks_from_samples(
            data_samples, self.clips_per_video, inputs.device)
        if self.dense_loss_weight > 0 and not shared:
            raise ValueError('dense_loss_weight > 0 needs both composites to show the same '
                             "region: set the data set's regions='shared'")
        ids = video_ids(data_samples, batch, inputs.device)
        with torch.no_grad():
            self.momentum_update()
        directions = [(0, 1), (1, 0)] if self.symmetric else [(0, 1)]
        query_views = [a for a, _ in directions]
        query_clips = self.encode_views(view_major(inputs, query_views))      # [V*B, J, C]
        query_mask = view_major(masks, query_views)
        queries = self.project(masked_mean(query_clips, query_mask))          # [V*B, D]
        with torch.no_grad():
            # Both composites through the momentum encoder: positives *and* every
            # background clip are key-encoder outputs (cause 1 of issue 14).
            key_clips = self.encode_views(view_major(inputs, [0, 1]), key=True)   # [2B, J, C]
            key_mask = view_major(masks, [0, 1])
            region_keys = self.project(masked_mean(key_clips, key_mask), key=True)
            clip_keys = self.project(key_clips, key=True)                    # [2B, J, D]
        own = torch.cat([torch.arange(a * batch, (a + 1) * batch) for a, _ in directions])
        other = torch.cat([torch.arange(b * batch, (b + 1) * batch) for _, b in directions])
        own, other = own.to(inputs.device), other.to(inputs.device)
        extra = {}
        if self.background_negatives != 'none':
            # Query composite's own background clips, then the key composite's.
            sims = torch.einsum('nd,njd->nj', queries, clip_keys[own])
            parts = [sims.masked_fill(key_mask[own], float('-inf'))]
            if self.background_negatives == 'both':
                sims = torch.einsum('nd,njd->nj', queries, clip_keys[other])
                parts.append(sims.masked_fill(key_mask[other], float('-inf')))
            extra['bg'] = torch.cat(parts, dim=1)
        sample = torch.arange(batch, device=inputs.device)
        query_ids = None if ids is None else ids.repeat(len(directions))
        loss, stats = self.contrast(
            queries, region_keys[other], query_sample=sample.repeat(len(directions)),
            batch_keys=region_keys, batch_key_sample=sample.repeat(2), query_ids=query_ids,
            extra_negatives=extra)
        losses = dict(loss_region=loss, **stats)
        if self.dense_loss_weight > 0:
            dense = []
            for k, (a, b) in enumerate(directions):
                part = slice(k * batch, (k + 1) * batch)
                dense.append(self._dense_loss(
                    self.project(query_clips[part]), clip_keys[b * batch:(b + 1) * batch],
                    starts[:, [a, b]], lengths[:, [a, b]]))
            losses['loss_dense'] = self.dense_loss_weight * torch.stack(dense).mean()
        keys = region_keys[other]
        self.queue.enqueue(keys, query_ids)
        return losses

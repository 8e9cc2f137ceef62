"""MoCo-v2 video baseline and the momentum-contrast machinery PAL builds on.

MoCo-v2 (Chen et al., 2020, https://arxiv.org/abs/2003.04297, on MoCo, He et al.,
CVPR 2020): a query encoder and a momentum (EMA) key encoder, an MLP projection,
InfoNCE against a FIFO queue of past keys. Here it is applied at the video level, the
usual baseline in the PAL paper: two views of the same video, each ``J`` clips of ``F``
frames encoded clip by clip with the same :class:`PALBackbone` and averaged, so its
compute and data budget per sample equal PAL's exactly.

Shared by both models (every item a constructor argument):

* **Every candidate from the momentum encoder.** Positives, queue keys, in-batch keys
  and PAL's background clips are all key-encoder outputs, so none is favoured by being
  encoded with the query's own weights, BatchNorm batch or augmentation.
* **In-batch negatives** (``in_batch_negatives``): the current keys of the other samples
  of the batch. Without them a queue of *older* keys can be told apart from the current
  positive by staleness alone, and ``pos_acc`` reaches 1 on collapsed features.
* **BatchNorm groups** (``bn_groups``, ``shuffle_bn``): the composites / views of a batch
  are encoded in ``bn_groups`` separate forward passes (BatchNorm statistics per group);
  with ``shuffle_bn`` the key encoder's groups are a random permutation of the query's,
  MoCo's shuffle-BN on one process (under DDP use ``sync_bn`` or MoCo's cross-rank
  shuffle: every rank shuffles its own batch here).
* **Own-video masking**: queue keys of the query's own unlabeled video are never
  negatives (see :mod:`pal_eval.pretrain.queue`).
* **Health signals**, logged every iteration next to the loss: mean cosine of the query
  with its positive and with each negative group (``sim_pos``, ``sim_queue``,
  ``sim_batch``, PAL's ``sim_bg``), ``pos_acc`` with its chance level ``pos_acc_chance``
  (1 / number of candidates), and ``emb_spread`` (per-dimension std of the normalised
  queries times sqrt(D): about 1 for spread embeddings, 0 when collapsed).
"""
from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModel
from torch import nn

from pal_eval.pretrain.queue import KeyQueue


def build_projector(in_dim: int, hidden_dim: int, out_dim: int) -> nn.Sequential:
    """MoCo-v2's 2-layer MLP head (Linear-ReLU-Linear)."""
    return nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.ReLU(inplace=True),
                         nn.Linear(hidden_dim, out_dim))


def info_nce(logits: torch.Tensor, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """InfoNCE with the positive in column 0.

    Args:
        logits: ``[N, 1 + num_negatives]`` cosine similarities; ``-inf`` marks absent
            negatives (e.g. action clips in PAL's background-negative block).
        temperature: Softmax temperature.

    Returns:
        ``(loss, top-1 accuracy of the positive)``.
    """
    target = torch.zeros(logits.shape[0], dtype=torch.long, device=logits.device)
    loss = F.cross_entropy(logits / temperature, target)
    accuracy = (logits.argmax(dim=1) == 0).float().mean()
    return loss, accuracy


def finite_mean(values: torch.Tensor) -> torch.Tensor:
    """Mean of the finite entries (``nan`` when there is none)."""
    finite = torch.isfinite(values)
    if not finite.any():
        return values.new_tensor(math.nan)
    return values[finite].mean()


def embedding_spread(embeddings: torch.Tensor) -> torch.Tensor:
    """Per-dimension std of L2-normalised embeddings across rows, times ``sqrt(D)``.

    About 1 for embeddings spread over the sphere, 0 when every row is the same vector
    (collapse), whatever the dimension ``D``.

    Examples:
        >>> float(embedding_spread(torch.ones(8, 4)))
        0.0
        >>> round(float(embedding_spread(torch.eye(64))), 2)  # unbiased std 1/8, x sqrt(64)
        1.0
    """
    normalised = F.normalize(embeddings.detach().float(), dim=-1)
    if normalised.shape[0] < 2:
        return normalised.new_tensor(math.nan)
    return normalised.std(dim=0).mean() * math.sqrt(normalised.shape[-1])


def video_ids(data_samples: Sequence | None, batch: int,
              device: torch.device) -> torch.Tensor | None:
    """Source video index of each sample (``metainfo['video_index']``), or ``None``."""
    if not data_samples or 'video_index' not in data_samples[0].metainfo:
        return None
    return torch.as_tensor([int(s.metainfo['video_index']) for s in data_samples[:batch]],
                           dtype=torch.long, device=device)


class MomentumContrast(BaseModel):
    """Query / momentum-key encoders, projections and key queue (shared by MoCoV2 and PAL).

    Args:
        backbone: Clip encoder config (``PALBackbone``).
        clips_per_video: ``J``: inputs of ``J * F`` frames are split into ``J`` clips.
        projector_hidden: Hidden width of the MLP head (MoCo-v2 uses the feature width;
            ``None`` means ``backbone.feature_dim``).
        embed_dim: Output dimension of the head.
        queue_size: Number of negative keys kept (at most the number of unlabeled videos:
            :class:`~pal_eval.pretrain.hooks.PretextMonitorHook` checks it).
        momentum: EMA coefficient of the key encoder.
        temperature: InfoNCE temperature.
        symmetric: Also swap the two views/composites and average the two losses (the
            key encoder encodes both anyway, so this doubles the signal per sample for
            one more query pass).
        in_batch_negatives: Use the other samples' current keys as negatives.
        bn_groups: Encode the batch's views in this many BatchNorm groups.
        shuffle_bn: Form the key encoder's groups from a random permutation.
        data_preprocessor: mmaction2 ``ActionDataPreprocessor`` config (``NCTHW``).
        init_cfg: MMEngine init config.
    """

    def __init__(self, backbone: dict, *, clips_per_video: int = 8,
                 projector_hidden: int | None = None, embed_dim: int = 128,
                 queue_size: int = 65536, momentum: float = 0.999, temperature: float = 0.2,
                 symmetric: bool = False, in_batch_negatives: bool = True,
                 bn_groups: int = 1, shuffle_bn: bool = True,
                 data_preprocessor: dict | None = None, init_cfg: dict | None = None):
        # Built from mmaction's registry here: BaseModel would look in MMEngine's.
        preprocessor = MODELS.build(data_preprocessor or dict(
            type='ActionDataPreprocessor', format_shape='NCTHW'))
        super().__init__(data_preprocessor=preprocessor, init_cfg=init_cfg)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f'momentum must be in [0, 1], got {momentum}')
        if bn_groups < 1:
            raise ValueError(f'bn_groups must be >= 1, got {bn_groups}')
        self.backbone = MODELS.build(backbone)
        self.key_backbone = copy.deepcopy(self.backbone)
        feature_dim = self.backbone.feature_dim
        self.projector = build_projector(feature_dim, projector_hidden or feature_dim, embed_dim)
        self.key_projector = copy.deepcopy(self.projector)
        for param in [*self.key_backbone.parameters(), *self.key_projector.parameters()]:
            param.requires_grad = False
        self.queue = KeyQueue(queue_size, embed_dim)
        self.clips_per_video = clips_per_video
        self.momentum = momentum
        self.temperature = temperature
        self.symmetric = symmetric
        self.in_batch_negatives = in_batch_negatives
        self.bn_groups = bn_groups
        self.shuffle_bn = shuffle_bn

    def init_weights(self) -> None:
        """Initialise the query side, then copy it into the key side (MoCo's start)."""
        super().init_weights()
        self.key_backbone.load_state_dict(self.backbone.state_dict())
        self.key_projector.load_state_dict(self.projector.state_dict())

    @torch.no_grad()
    def momentum_update(self) -> None:
        """``key = m * key + (1 - m) * query`` for parameters (BN statistics are the key
        encoder's own: it runs in train mode on its own batches, as in MoCo)."""
        pairs = [(self.backbone, self.key_backbone), (self.projector, self.key_projector)]
        for query_net, key_net in pairs:
            for q, k in zip(query_net.parameters(), key_net.parameters()):
                k.mul_(self.momentum).add_(q.detach(), alpha=1.0 - self.momentum)

    def encode_clips(self, video: torch.Tensor, key: bool = False) -> torch.Tensor:
        """Encode every clip of a batch of videos in one forward pass (one BN batch).

        Args:
            video: ``[B, 3, J * F, H, W]``.
            key: Use the momentum encoder.

        Returns:
            ``[B, J, C]`` globally average-pooled clip features (before projection).
        """
        batch, channels, frames, height, width = video.shape
        num_clips = self.clips_per_video
        if frames % num_clips:
            raise ValueError(f'{frames} frames do not split into {num_clips} clips')
        clips = video.reshape(batch, channels, num_clips, frames // num_clips, height, width)
        clips = clips.transpose(1, 2).reshape(batch * num_clips, channels, -1, height, width)
        encoder = self.key_backbone if key else self.backbone
        features = encoder(clips).mean(dim=(2, 3, 4))
        return features.reshape(batch, num_clips, -1)

    def encode_views(self, views: torch.Tensor, key: bool = False) -> torch.Tensor:
        """Encode ``[N, 3, J * F, H, W]`` views in ``bn_groups`` BatchNorm groups.

        The query encoder's groups are consecutive views; the key encoder's are a random
        permutation of them when ``shuffle_bn`` (MoCo's shuffle-BN on one process), so a
        query and its positive key are normalised with statistics of different views.

        Returns:
            ``[N, J, C]`` in the order of ``views``.
        """
        count = views.shape[0]
        groups = min(self.bn_groups, count)
        if groups == 1:
            return self.encode_clips(views, key=key)
        if key and self.shuffle_bn:
            order = torch.randperm(count, device=views.device)
        else:
            order = torch.arange(count, device=views.device)
        features = torch.cat([self.encode_clips(views[part], key=key)
                              for part in torch.tensor_split(order, groups)])
        return features[torch.argsort(order)]

    def project(self, features: torch.Tensor, key: bool = False) -> torch.Tensor:
        """MLP head then L2 normalisation over the last dimension."""
        head = self.key_projector if key else self.projector
        return F.normalize(head(features), dim=-1)

    def contrast(self, query: torch.Tensor, positive: torch.Tensor, *,
                 query_sample: torch.Tensor, batch_keys: torch.Tensor,
                 batch_key_sample: torch.Tensor, query_ids: torch.Tensor | None,
                 extra_negatives: Mapping[str, torch.Tensor] | None = None
                 ) -> tuple[torch.Tensor, dict]:
        """InfoNCE of queries against their positive and every negative group, plus stats.

        Args:
            query: ``[N, D]`` normalised queries (query encoder).
            positive: ``[N, D]`` their positive keys (momentum encoder).
            query_sample: ``[N]`` batch index of each query's sample.
            batch_keys: ``[M, D]`` current keys of the batch (in-batch negatives).
            batch_key_sample: ``[M]`` batch index of each; keys of the query's own sample
                are masked (its positive is already in column 0).
            query_ids: ``[N]`` source video of each query (masks own-video queue keys).
            extra_negatives: Name -> ``[N, K]`` cosines (``-inf`` for absent ones).

        Returns:
            ``(loss, stats)``; stats are detached scalars to log.
        """
        blocks = {'queue': self.queue.logits(query, query_ids)}
        if self.in_batch_negatives:
            same = batch_key_sample[None, :] == query_sample[:, None]
            blocks['batch'] = (query @ batch_keys.T).masked_fill(same, float('-inf'))
        blocks.update(extra_negatives or {})
        pos = (query * positive).sum(dim=1, keepdim=True)
        logits = torch.cat([pos, *blocks.values()], dim=1)
        loss, accuracy = info_nce(logits, self.temperature)
        candidates = torch.isfinite(logits).sum(dim=1).float()
        stats = dict(pos_acc=accuracy.detach(),
                     pos_acc_chance=(1.0 / candidates).mean().detach(),
                     sim_pos=pos.detach().mean())
        for name, block in blocks.items():
            stats[f'sim_{name}'] = finite_mean(block.detach())
        stats['emb_spread'] = embedding_spread(query)
        return loss, stats

    def forward(self, inputs: torch.Tensor, data_samples: Sequence | None = None,
                mode: str = 'tensor'):
        """MMEngine entry point.

        Args:
            inputs: ``[B, 2, 3, J * F, H, W]`` normalised: two views / composites.
            data_samples: ``ActionDataSample`` list (metadata such as action masks).
            mode: ``'loss'`` (training), ``'tensor'`` (``[B, 2, J, C]`` clip features)
                or ``'predict'`` (same features, for feature inspection).
        """
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode in ('tensor', 'predict'):
            return torch.stack([self.encode_clips(inputs[:, v]) for v in range(inputs.shape[1])],
                               dim=1)
        raise ValueError(f'invalid mode {mode!r}')

    def loss(self, inputs: torch.Tensor, data_samples: Sequence | None) -> dict:
        raise NotImplementedError


def view_major(inputs: torch.Tensor, views: Sequence[int]) -> torch.Tensor:
    """``[B, V, ...]`` -> ``[len(views) * B, ...]``: all samples' view ``views[0]``, then..."""
    return torch.cat([inputs[:, v] for v in views])


@MODELS.register_module()
class MoCoV2(MomentumContrast):
    """MoCo-v2 video-level instance discrimination (baseline for PAL, same backbone/budget).

    Two views of one video (``J`` clips each, independent positions and augmentation)
    are positives; the queue holds keys of other videos, the batch the other samples'
    current keys. A view's embedding is the mean of its clips' features, projected.

    Paper: https://arxiv.org/abs/2003.04297. Arguments: see :class:`MomentumContrast`.

    Examples:
        >>> model = MoCoV2(dict(type='PALBackbone', base_channels=8), clips_per_video=2,
        ...                queue_size=8)
        >>> model.init_weights()
        >>> losses = model(torch.randn(2, 2, 3, 4, 32, 32), mode='loss')
        >>> sorted(k for k in losses if k.startswith(('loss', 'pos')))
        ['loss_contrast', 'pos_acc', 'pos_acc_chance']
    """

    def loss(self, inputs: torch.Tensor, data_samples: Sequence | None) -> dict:
        batch = inputs.shape[0]
        ids = video_ids(data_samples, batch, inputs.device)
        with torch.no_grad():
            self.momentum_update()
        directions = [(0, 1), (1, 0)] if self.symmetric else [(0, 1)]
        query_views = [a for a, _ in directions]
        key_views = [b for _, b in directions]
        queries = self.project(self.encode_views(view_major(inputs, query_views)).mean(dim=1))
        with torch.no_grad():
            keys = self.project(self.encode_views(view_major(inputs, key_views), key=True)
                                .mean(dim=1), key=True)
        sample = torch.arange(batch, device=inputs.device).repeat(len(directions))
        query_ids = None if ids is None else ids.repeat(len(directions))
        loss, stats = self.contrast(queries, keys, query_sample=sample, batch_keys=keys,
                                    batch_key_sample=sample, query_ids=query_ids)
        self.queue.enqueue(keys, query_ids)
        return dict(loss_contrast=loss, **stats)

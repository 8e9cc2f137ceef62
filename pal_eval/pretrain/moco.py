"""MoCo-v2 video baseline and the momentum-contrast machinery PAL builds on.

MoCo-v2 (Chen et al., 2020, https://arxiv.org/abs/2003.04297, on MoCo, He et al.,
CVPR 2020): a query encoder and a momentum (EMA) key encoder, an MLP projection,
InfoNCE against a FIFO queue of past keys. Here it is applied at the video level, the
usual baseline in the PAL paper: two views of the same video, each ``J`` clips of ``F``
frames encoded clip by clip with the same :class:`PALBackbone` and averaged, so its
compute and data budget per sample equal PAL's exactly.
"""
from __future__ import annotations

import copy
from collections.abc import Sequence

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


class MomentumContrast(BaseModel):
    """Query / momentum-key encoders, projections and key queue (shared by MoCoV2 and PAL).

    Args:
        backbone: Clip encoder config (``PALBackbone``).
        clips_per_video: ``J``: inputs of ``J * F`` frames are split into ``J`` clips.
        projector_hidden: Hidden width of the MLP head (MoCo-v2 uses the feature width;
            ``None`` means ``backbone.feature_dim``).
        embed_dim: Output dimension of the head.
        queue_size: Number of negative keys kept.
        momentum: EMA coefficient of the key encoder.
        temperature: InfoNCE temperature.
        symmetric: Also swap the two views/composites and average the two losses.
        data_preprocessor: mmaction2 ``ActionDataPreprocessor`` config (``NCTHW``).
        init_cfg: MMEngine init config.
    """

    def __init__(self, backbone: dict, *, clips_per_video: int = 8,
                 projector_hidden: int | None = None, embed_dim: int = 128,
                 queue_size: int = 65536, momentum: float = 0.999, temperature: float = 0.2,
                 symmetric: bool = False, data_preprocessor: dict | None = None,
                 init_cfg: dict | None = None):
        # Built from mmaction's registry here: BaseModel would look in MMEngine's.
        preprocessor = MODELS.build(data_preprocessor or dict(
            type='ActionDataPreprocessor', format_shape='NCTHW'))
        super().__init__(data_preprocessor=preprocessor, init_cfg=init_cfg)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f'momentum must be in [0, 1], got {momentum}')
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

    def init_weights(self) -> None:
        """Initialise the query side, then copy it into the key side (MoCo's start)."""
        super().init_weights()
        self.key_backbone.load_state_dict(self.backbone.state_dict())
        self.key_projector.load_state_dict(self.projector.state_dict())

    @torch.no_grad()
    def momentum_update(self) -> None:
        """``key = m * key + (1 - m) * query`` for parameters; buffers (BN stats) copied."""
        pairs = [(self.backbone, self.key_backbone), (self.projector, self.key_projector)]
        for query_net, key_net in pairs:
            for q, k in zip(query_net.parameters(), key_net.parameters()):
                k.mul_(self.momentum).add_(q.detach(), alpha=1.0 - self.momentum)

    def encode_clips(self, video: torch.Tensor, key: bool = False) -> torch.Tensor:
        """Encode every clip of a batch of videos.

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

    def project(self, features: torch.Tensor, key: bool = False) -> torch.Tensor:
        """MLP head then L2 normalisation over the last dimension."""
        head = self.key_projector if key else self.projector
        return F.normalize(head(features), dim=-1)

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


@MODELS.register_module()
class MoCoV2(MomentumContrast):
    """MoCo-v2 video-level instance discrimination (baseline for PAL, same backbone/budget).

    Two views of one video (``J`` clips each, independent positions and augmentation)
    are positives; the queue holds keys of other videos. A view's embedding is the mean
    of its clips' features, projected.

    Paper: https://arxiv.org/abs/2003.04297. Arguments: see :class:`MomentumContrast`.

    Examples:
        >>> model = MoCoV2(dict(type='PALBackbone', base_channels=8), clips_per_video=2,
        ...                queue_size=8)
        >>> model.init_weights()
        >>> losses = model(torch.randn(2, 2, 3, 4, 32, 32), mode='loss')
        >>> sorted(losses)
        ['loss_contrast', 'pos_acc']
    """

    def _view_loss(self, query_view: torch.Tensor, key_view: torch.Tensor):
        query = self.project(self.encode_clips(query_view).mean(dim=1))
        with torch.no_grad():
            key = self.project(self.encode_clips(key_view, key=True).mean(dim=1), key=True)
        logits = torch.cat([(query * key).sum(dim=1, keepdim=True),
                            query @ self.queue.keys.clone().T], dim=1)
        loss, accuracy = info_nce(logits, self.temperature)
        return loss, accuracy, key

    def loss(self, inputs: torch.Tensor, data_samples: Sequence | None) -> dict:
        with torch.no_grad():
            self.momentum_update()
        loss, accuracy, key = self._view_loss(inputs[:, 0], inputs[:, 1])
        keys = [key]
        if self.symmetric:
            loss_2, accuracy_2, key_2 = self._view_loss(inputs[:, 1], inputs[:, 0])
            loss, accuracy = (loss + loss_2) / 2, (accuracy + accuracy_2) / 2
            keys.append(key_2)
        self.queue.enqueue(torch.cat(keys))
        return dict(loss_contrast=loss, pos_acc=accuracy)

"""``PALBackbone``: the clip encoder shared by PAL, MoCoV2, random init and fine-tuning.

A thin MMAction2 adapter: the network itself is mmaction2's ``ResNet2Plus1d`` or
``ResNet3d``; this class only names the architectures the project supports, exposes
``feature_dim``, and loads pretraining checkpoints and exported backbones safely.

Example config::

    backbone=dict(type='PALBackbone', arch='r2plus1d_18', base_channels=64,
                  init_cfg=dict(type='Pretrained', checkpoint='backbone.pth'))
"""
from __future__ import annotations

import copy

import torch
from mmaction.models.backbones import ResNet2Plus1d, ResNet3d
from mmaction.registry import MODELS
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.registry import DefaultScope

from pal_eval.errors import PalEvalError
from pal_eval.pretrain.checkpoint import (
    check_shapes,
    extract_encoder_state_dict,
    safe_torch_load,
    state_dict_of,
)

#: Stem and strides shared by every arch: the R(2+1)D paper's layout as in mmaction2's
#: ``r2plus1d_r34`` config (no temporal stride in the stem, so 4-frame clips keep time).
_COMMON = dict(pretrained=None, pretrained2d=False, conv1_kernel=(3, 7, 7), conv1_stride_t=1,
               pool1_stride_t=1, inflate=(1, 1, 1, 1), spatial_strides=(1, 2, 2, 2),
               temporal_strides=(1, 2, 2, 2), norm_cfg=dict(type='BN3d', requires_grad=True),
               zero_init_residual=False)

#: arch name -> (mmaction2 class, its keyword arguments)
ARCHS: dict[str, tuple[type, dict]] = {
    'r2plus1d_18': (ResNet2Plus1d, dict(depth=18, conv_cfg=dict(type='Conv2plus1d'))),
    'r2plus1d_34': (ResNet2Plus1d, dict(depth=34, conv_cfg=dict(type='Conv2plus1d'))),
    'r3d_18': (ResNet3d, dict(depth=18, conv_cfg=dict(type='Conv3d'), with_pool2=False)),
}


def build_encoder(arch: str, base_channels: int = 64) -> torch.nn.Module:
    """Build the bare mmaction2 encoder of ``arch`` (randomly initialised on ``init_weights``).

    Args:
        arch: One of :data:`ARCHS`.
        base_channels: Width of the stem; stages use 1x, 2x, 4x, 8x of it.

    Returns:
        An mmaction2 ``ResNet2Plus1d`` / ``ResNet3d``.
    """
    if arch not in ARCHS:
        raise PalEvalError(f'unknown backbone arch {arch!r}; choose one of {sorted(ARCHS)}')
    cls, kwargs = ARCHS[arch]
    # mmcv resolves conv_cfg types in the current default scope; Conv2plus1d lives in
    # mmaction's registry, so build inside it whatever scope the caller is in.
    with DefaultScope.overwrite_default_scope('mmaction'):
            return cls(base_channels=base_channels, **copy.deepcopy(_COMMON),
                   **copy.deepcopy(kwargs))


@MODELS.register_module()
class PALBackbone(BaseModule):
    """Clip encoder (R(2+1)D-18 by default) returning the mmaction2 feature map.

    Args:
        arch: ``'r2plus1d_18'`` (default), ``'r2plus1d_34'`` or ``'r3d_18'``.
        base_channels: Stem width (64 as in the paper; 8-16 for CPU configs).
        norm_eval: Keep BatchNorm layers in eval mode while training (fine-tuning).
        init_cfg: ``None`` (random, Kaiming) or ``dict(type='Pretrained', checkpoint=PATH)``
            where PATH is a PAL / MoCoV2 pretraining checkpoint, an exported backbone file
            (``pal-eval export-backbone``) or a Recognizer3D checkpoint using this backbone.
            Files are loaded with ``weights_only=True``; a file that would run code is refused.

    Examples:
        >>> import torch
        >>> net = PALBackbone(arch='r2plus1d_18', base_channels=8)
        >>> net.init_weights()
        >>> net(torch.randn(2, 3, 4, 32, 32)).shape
        torch.Size([2, 64, 1, 1, 1])
        >>> net.feature_dim
        64
    """

    def __init__(self, arch: str = 'r2plus1d_18', base_channels: int = 64,
                 norm_eval: bool = False, init_cfg: dict | None = None):
        super().__init__(init_cfg=init_cfg)
        self.arch = arch
        self.base_channels = base_channels
        self.encoder = build_encoder(arch, base_channels)
        self.encoder.norm_eval = norm_eval
        # Both archs end with stage 4 of width 8 * base_channels (BasicBlock, expansion 1).
        self.feature_dim = base_channels * 8

    @property
    def backbone_cfg(self) -> dict:
        """The config dict that rebuilds this module (stored in exported files)."""
        return dict(type='PALBackbone', arch=self.arch, base_channels=self.base_channels)

    def init_weights(self) -> None:
        """Random (Kaiming) init, then load ``init_cfg['checkpoint']`` when given."""
        self.encoder.init_weights()
        cfg = self.init_cfg
        if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
            # MMEngine's PretrainedInit loads non-strictly and would silently keep random
            # weights when keys do not match; we map the keys ourselves and fail loudly.
            self.load_weights(cfg['checkpoint'])
        elif cfg is not None:
            raise PalEvalError(f"PALBackbone init_cfg must be None or dict(type='Pretrained', "
                               f'checkpoint=...), got {cfg!r}')
        self._is_init = True

    def load_weights(self, path: str) -> None:
        """Load encoder weights from any supported file (see class docstring).

        Raises:
            InputError: unreadable / unsafe file, missing keys or wrong shapes.
        """
        state_dict = state_dict_of(safe_torch_load(path), path)
        target = self.state_dict()
        weights = extract_encoder_state_dict(state_dict, target.keys(), path)
        check_shapes(weights, target, path)
        self.load_state_dict(weights, strict=True)
        print_log(f'PALBackbone: loaded {len(weights)} tensors from {path}', logger='current')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Encode clips.

        Args:
            x: ``[N, 3, T, H, W]`` normalised clips.

        Returns:
            The last stage's feature map ``[N, feature_dim, t, h, w]``.
        """
        return self.encoder(x)

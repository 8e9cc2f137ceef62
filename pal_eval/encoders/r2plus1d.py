"""R(2+1)D-18 in the two layouts the compared methods released.

* :class:`VideoResNet2Plus1D`, the torchvision / VMZ layout (``pytorch/vision``
  ``torchvision/models/video/resnet.py``, ``r2plus1d_18``; read at commit 0614eaca), used
  by XDC (``HumamAlwassel/XDC`` ``xdc.py`` builds ``r2plus1d_18``) and VideoMoCo
  (``tinapan-pt/VideoMoCo`` ``train.py``: ``torchvision.models.video.__dict__[arch]``,
  README: ``-a r2plus1d_18``). Stem ``stem.0`` (1x7x7, 45 channels) / ``stem.3`` (3x1x1);
  each BasicBlock's two (2+1)D convolutions share one mid width, computed from the
  block's *input* and output widths (``(in * out * 27) // (in * 9 + 3 * out)``), a
  torchvision particularity that mmaction2's ``ResNet2Plus1d`` does not have (it sizes
  each convolution on its own), so mmaction2's backbone cannot hold these weights.
* :class:`VCOPR2Plus1D`, the VCOP layout used by RSPNet (``PeihaoChen/RSPNet``
  ``models/r2plus1d_vcop.py``, ``R2Plus1DNet((1, 1, 1, 1))``, commit 01a37c08): one block
  per stage, every convolution (stem and 1x1x1 shortcuts included) factorised with its
  own mid width ``floor(k_t*k*k*in*out / (k*k*in + k_t*out))``.

Both return the last stage's map ``[N, 512, T/8, H/16, W/16]`` (no pooling, no fc).
"""
from __future__ import annotations

import math

import torch
from mmaction.registry import MODELS
from torch import nn


def _bn_relu_free(cin: int, mid: int, cout: int, stride: int) -> nn.Sequential:
    """torchvision ``Conv2Plus1D``: 1x3x3 conv, BN, ReLU, 3x1x1 conv (indices 0, 1, 2, 3)."""
    return nn.Sequential(
        nn.Conv3d(cin, mid, (1, 3, 3), (1, stride, stride), (0, 1, 1), bias=False),
        nn.BatchNorm3d(mid), nn.ReLU(inplace=True),
        nn.Conv3d(mid, cout, (3, 1, 1), (stride, 1, 1), (1, 0, 0), bias=False))


class _TVBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        mid = (cin * cout * 27) // (cin * 9 + 3 * cout)
        self.conv1 = nn.Sequential(_bn_relu_free(cin, mid, cout, stride), nn.BatchNorm3d(cout),
                                   nn.ReLU(inplace=True))
        self.conv2 = nn.Sequential(_bn_relu_free(cout, mid, cout, 1), nn.BatchNorm3d(cout))
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv3d(cin, cout, 1, stride, bias=False),
                                            nn.BatchNorm3d(cout))

    def forward(self, x):
        shortcut = x if self.downsample is None else self.downsample(x)
        return torch.relu(self.conv2(self.conv1(x)) + shortcut)


@MODELS.register_module()
class VideoResNet2Plus1D(nn.Module):
    """R(2+1)D-18 with torchvision's parameter names (``stem.*``, ``layer1.0.conv1.0.0`` ...).

    Args:
        layers: Blocks per stage (``(2, 2, 2, 2)``: R(2+1)D-18; ``(3, 4, 6, 3)``: -34).

    Examples:
        >>> VideoResNet2Plus1D().eval()(torch.zeros(1, 3, 8, 32, 32)).shape
        torch.Size([1, 512, 1, 2, 2])
    """

    feature_dim = 512

    def __init__(self, layers: tuple[int, ...] = (2, 2, 2, 2)):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv3d(3, 45, (1, 7, 7), (1, 2, 2), (0, 3, 3), bias=False), nn.BatchNorm3d(45),
            nn.ReLU(inplace=True),
            nn.Conv3d(45, 64, (3, 1, 1), 1, (1, 0, 0), bias=False), nn.BatchNorm3d(64),
            nn.ReLU(inplace=True))
        cin = 64
        for index, (width, blocks) in enumerate(zip((64, 128, 256, 512), layers), start=1):
            stride = 1 if index == 1 else 2
            stage = [_TVBlock(cin, width, stride)] + [_TVBlock(width, width, 1)
                                                       for _ in range(blocks - 1)]
            setattr(self, f'layer{index}', nn.Sequential(*stage))
            cin = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for index in range(1, 5):
            x = getattr(self, f'layer{index}')(x)
        return x


class _STConv(nn.Module):
    """VCOP ``SpatioTemporalConv``: spatial conv, BN, ReLU, temporal conv (no bias)."""

    def __init__(self, cin: int, cout: int, kernel, stride=1, padding=0):
        super().__init__()
        kt, k = (kernel, kernel) if isinstance(kernel, int) else (kernel[0], kernel[1])
        st, s = (stride, stride) if isinstance(stride, int) else (stride[0], stride[1])
        pt, p = (padding, padding) if isinstance(padding, int) else (padding[0], padding[1])
        mid = math.floor(kt * k * k * cin * cout / (k * k * cin + kt * cout))
        self.spatial_conv = nn.Conv3d(cin, mid, (1, k, k), (1, s, s), (0, p, p), bias=False)
        self.bn = nn.BatchNorm3d(mid)
        self.temporal_conv = nn.Conv3d(mid, cout, (kt, 1, 1), (st, 1, 1), (pt, 0, 0),
                                       bias=False)

    def forward(self, x):
        return self.temporal_conv(torch.relu(self.bn(self.spatial_conv(x))))


class _VCOPBlock(nn.Module):
    def __init__(self, cin: int, cout: int, downsample: bool):
        super().__init__()
        stride = 2 if downsample else 1
        self.downsample = downsample
        if downsample:
            self.downsampleconv = _STConv(cin, cout, 1, stride=2)
            self.downsamplebn = nn.BatchNorm3d(cout)
        self.conv1 = _STConv(cin, cout, 3, stride, 1)
        self.bn1 = nn.BatchNorm3d(cout)
        self.conv2 = _STConv(cout, cout, 3, 1, 1)
        self.bn2 = nn.BatchNorm3d(cout)

    def forward(self, x):
        res = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        if self.downsample:
            x = self.downsamplebn(self.downsampleconv(x))
        return torch.relu(x + res)


class _VCOPLayer(nn.Module):
    def __init__(self, cin: int, cout: int, blocks: int, downsample: bool):
        super().__init__()
        self.block1 = _VCOPBlock(cin, cout, downsample)
        self.blocks = nn.ModuleList(_VCOPBlock(cout, cout, False) for _ in range(blocks - 1))

    def forward(self, x):
        x = self.block1(x)
        for block in self.blocks:
            x = block(x)
        return x


@MODELS.register_module()
class VCOPR2Plus1D(nn.Module):
    """R(2+1)D in the VCOP / RSPNet layout (``conv1.spatial_conv``, ``conv2.block1`` ...).

    Args:
        layers: Blocks per stage; RSPNet and VCOP use ``(1, 1, 1, 1)``.

    Examples:
        >>> VCOPR2Plus1D().eval()(torch.zeros(1, 3, 8, 32, 32)).shape
        torch.Size([1, 512, 1, 2, 2])
    """

    feature_dim = 512

    def __init__(self, layers: tuple[int, ...] = (1, 1, 1, 1)):
        super().__init__()
        self.conv1 = _STConv(3, 64, (3, 7, 7), (1, 2), (1, 3))
        self.bn1 = nn.BatchNorm3d(64)
        self.conv2 = _VCOPLayer(64, 64, layers[0], False)
        self.conv3 = _VCOPLayer(64, 128, layers[1], True)
        self.conv4 = _VCOPLayer(128, 256, layers[2], True)
        self.conv5 = _VCOPLayer(256, 512, layers[3], True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        return self.conv5(self.conv4(self.conv3(self.conv2(x))))

"""S3D (CoCLR) and S3D-G (RSPNet): separable 3D Inception networks in their released layouts.

Both follow Xie et al., *Rethinking spatiotemporal feature learning* (S3D / S3D-G): a
separable stem, two separable convolutions, then nine Inception blocks whose 3x3x3
convolutions are split into 1x3x3 + 3x1x1. The two official code bases name their
parameters differently and gate differently, so each gets a module whose parameter names
are those of its released weights (what the converters in :mod:`pal_eval.encoders.convert`
map onto):

* :class:`CoCLRS3D` mirrors ``TengdaHan/CoCLR`` ``backbone/s3dg.py`` (commit 7e392dae):
  ``Conv_1a``, ``Conv_2b``, ``Conv_2c``, ``Mixed_3b`` ... ``Mixed_5c``; BatchNorm with
  PyTorch defaults; optional gating on each Inception branch (``gating_b0..3.fc``, a
  Linear on the branch's spatio-temporal mean). CoCLR released the ungated ``s3d``.
* :class:`RSPNetS3DG` mirrors ``PeihaoChen/RSPNet`` ``models/s3dg.py`` (commit 01a37c08):
  ``feature.sepConv1`` ... ``feature.sepInc_5c``; BatchNorm ``eps=1e-3, momentum=0.001``;
  a gate after every separable convolution (``excitation``, a 1x1x1 Conv3d on the
  global average), the stem included; its stem's 1x7x7 convolution strides time too.

Both return the last feature map ``[N, 1024, T/8, H/32, W/32]`` (no pooling, no head).
The code is ours; only the parameter names and shapes follow the official definitions.
"""
from __future__ import annotations

from collections import OrderedDict

import torch
from mmaction.registry import MODELS
from torch import nn

#: (name, input channels, [b0, b1 reduce, b1, b2 reduce, b2, b3]) of the Inception blocks,
#: with ``'pool'`` entries for the max-pools between them (S3D / Inception-v1 widths).
INCEPTION_PLAN: tuple = (
    ('pool', (1, 3, 3), (1, 2, 2), (0, 1, 1)),
    ('3b', 192, (64, 96, 128, 16, 32, 32)),
    ('3c', 256, (128, 128, 192, 32, 96, 64)),
    ('pool', (3, 3, 3), (2, 2, 2), (1, 1, 1)),
    ('4b', 480, (192, 96, 208, 16, 48, 64)),
    ('4c', 512, (160, 112, 224, 24, 64, 64)),
    ('4d', 512, (128, 128, 256, 24, 64, 64)),
    ('4e', 512, (112, 144, 288, 32, 64, 64)),
    ('4f', 528, (256, 160, 320, 32, 128, 128)),
    ('pool', (2, 2, 2), (2, 2, 2), (0, 0, 0)),
    ('5b', 832, (256, 160, 320, 32, 128, 128)),
    ('5c', 832, (384, 192, 384, 48, 128, 128)),
)
FEATURE_DIM = 1024


class _ConvBN(nn.Module):
    """Conv3d (no bias) + BatchNorm3d + ReLU; the conv is registered under ``conv``."""

    def __init__(self, cin: int, cout: int, kernel, stride=1, padding=0, *,
                 conv: str = 'conv', bn_kwargs: dict | None = None):
        super().__init__()
        self._conv = conv
        setattr(self, conv, nn.Conv3d(cin, cout, kernel, stride, padding, bias=False))
        self.bn = nn.BatchNorm3d(cout, **(bn_kwargs or {}))

    def forward(self, x):
        return torch.relu(self.bn(getattr(self, self._conv)(x)))


_conv_bn_relu = _ConvBN


# ----------------------------------------------------------------------------- CoCLR S3D

class _STConv(nn.Module):
    """CoCLR ``STConv3d``: 1xkxk conv + BN + ReLU, then kx1x1 conv + BN + ReLU."""

    def __init__(self, cin: int, cout: int, kernel: int, stride=1, padding: int = 0):
        super().__init__()
        t_stride, s_stride = (stride, stride) if isinstance(stride, int) else stride
        self.conv1 = nn.Conv3d(cin, cout, (1, kernel, kernel), (1, s_stride, s_stride),
                               (0, padding, padding), bias=False)
        self.bn1 = nn.BatchNorm3d(cout)
        self.conv2 = nn.Conv3d(cout, cout, (kernel, 1, 1), (t_stride, 1, 1), (padding, 0, 0),
                               bias=False)
        self.bn2 = nn.BatchNorm3d(cout)

    def forward(self, x):
        return torch.relu(self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))


class _Gate(nn.Module):
    """CoCLR ``SelfGating``: scale channels by sigmoid(Linear(mean over T, H, W))."""

    def __init__(self, channels: int):
        super().__init__()
        self.fc = nn.Linear(channels, channels)

    def forward(self, x):
        return x * torch.sigmoid(self.fc(x.mean(dim=(2, 3, 4))))[:, :, None, None, None]


class _CoCLRInception(nn.Module):
    def __init__(self, cin: int, widths, gating: bool):
        super().__init__()
        b0, b1r, b1, b2r, b2, b3 = widths
        self.branch0 = nn.Sequential(_conv_bn_relu(cin, b0, 1))
        self.branch1 = nn.Sequential(_conv_bn_relu(cin, b1r, 1), _STConv(b1r, b1, 3, 1, 1))
        self.branch2 = nn.Sequential(_conv_bn_relu(cin, b2r, 1), _STConv(b2r, b2, 3, 1, 1))
        self.branch3 = nn.Sequential(nn.MaxPool3d(3, 1, 1), _conv_bn_relu(cin, b3, 1))
        self.gates = None
        if gating:
            for index, width in enumerate((b0, b1, b2, b3)):
                setattr(self, f'gating_b{index}', _Gate(width))
            self.gates = [f'gating_b{index}' for index in range(4)]

    def forward(self, x):
        outs = [self.branch0(x), self.branch1(x), self.branch2(x), self.branch3(x)]
        if self.gates:
            outs = [getattr(self, gate)(out) for gate, out in zip(self.gates, outs)]
        return torch.cat(outs, dim=1)


@MODELS.register_module()
class CoCLRS3D(nn.Module):
    """S3D as released by CoCLR (``backbone/s3dg.py``, network ``'s3d'``).

    Args:
        gating: S3D-G gating on the Inception branches (CoCLR's ``'s3dg'``).
        in_channels: 3 for RGB, 2 for the optical-flow stream.

    Examples:
        >>> net = CoCLRS3D().eval()
        >>> net(torch.zeros(1, 3, 8, 64, 64)).shape
        torch.Size([1, 1024, 1, 2, 2])
    """

    feature_dim = FEATURE_DIM

    def __init__(self, gating: bool = False, in_channels: int = 3):
        super().__init__()
        self.Conv_1a = _STConv(in_channels, 64, 7, 2, 3)
        self.Conv_2b = _conv_bn_relu(64, 64, 1)
        self.Conv_2c = _STConv(64, 192, 3, 1, 1)
        self.stages = []
        for entry in INCEPTION_PLAN:
            if entry[0] == 'pool':
                self.stages.append(nn.MaxPool3d(*entry[1:]))
            else:
                name = f'Mixed_{entry[0]}'
                setattr(self, name, _CoCLRInception(entry[1], entry[2], gating))
                self.stages.append(name)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.Conv_1a(x)
        x = nn.functional.max_pool3d(x, (1, 3, 3), (1, 2, 2), (0, 1, 1))  # MaxPool_2a
        x = self.Conv_2c(self.Conv_2b(x))
        for stage in self.stages:
            x = getattr(self, stage)(x) if isinstance(stage, str) else stage(x)
        return x


# ----------------------------------------------------------------------------- RSPNet S3D-G

_RSP_BN = dict(eps=1e-3, momentum=0.001)


class _RSPSepConv(nn.Module):
    """RSPNet ``sep_conv``: (1xkxk conv-BN-ReLU, kx1x1 conv-BN-ReLU), then a gate."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, padding: int = 0,
                 gate: bool = True):
        super().__init__()
        # The official 'down' conv takes the integer stride in all three axes.
        self.sep_conv = nn.Sequential(
            _conv_bn_relu(cin, cout, (1, kernel, kernel), stride, (0, padding, padding),
                          conv='conv3d', bn_kwargs=_RSP_BN),
            _conv_bn_relu(cout, cout, (kernel, 1, 1), 1, (padding, 0, 0), conv='conv3d',
                          bn_kwargs=_RSP_BN))
        self.gate = gate
        if gate:
            self.excitation = nn.Conv3d(cout, cout, 1)

    def forward(self, x):
        x = self.sep_conv(x)
        if self.gate:
            x = x * torch.sigmoid(self.excitation(x.mean(dim=(2, 3, 4), keepdim=True)))
        return x


class _RSPInception(nn.Module):
    def __init__(self, cin: int, widths, gate: bool):
        super().__init__()
        b0, b1r, b1, b2r, b2, b3 = widths

        def unit(cout):
            return _conv_bn_relu(cin, cout, 1, conv='conv3d', bn_kwargs=_RSP_BN)

        self.branch0 = unit(b0)
        self.branch1 = nn.Sequential(unit(b1r), _RSPSepConv(b1r, b1, 3, 1, 1, gate))
        self.branch2 = nn.Sequential(unit(b2r), _RSPSepConv(b2r, b2, 3, 1, 1, gate))
        self.branch3 = nn.Sequential(nn.MaxPool3d(3, 1, 1), unit(b3))

    def forward(self, x):
        return torch.cat([self.branch0(x), self.branch1(x), self.branch2(x),
                          self.branch3(x)], dim=1)


_RSP_POOL_NAMES = ('maxPool2', 'maxPool3', 'maxpool4')  # the official (inconsistent) names


@MODELS.register_module()
class RSPNetS3DG(nn.Module):
    """S3D-G as released by RSPNet (``models/s3dg.py``, ``S3D_G.feature``).

    Args:
        gate: Feature gating after each separable convolution (S3D-G); ``False`` gives S3D.
        in_channels: Input channels.

    Examples:
        >>> net = RSPNetS3DG().eval()
        >>> net(torch.zeros(1, 3, 8, 64, 64)).shape
        torch.Size([1, 1024, 1, 2, 2])
    """

    feature_dim = FEATURE_DIM

    def __init__(self, gate: bool = True, in_channels: int = 3):
        super().__init__()
        layers = [
            ('sepConv1', _RSPSepConv(in_channels, 64, 7, 2, 3, gate)),
            ('maxPool1', nn.MaxPool3d((1, 3, 3), (1, 2, 2), (0, 1, 1))),
            ('basicConv3d', _conv_bn_relu(64, 64, 1, conv='conv3d', bn_kwargs=_RSP_BN)),
            ('sep_conv2', _RSPSepConv(64, 192, 3, 1, 1, gate))]
        pools = iter(_RSP_POOL_NAMES)
        for entry in INCEPTION_PLAN:
            if entry[0] == 'pool':
                layers.append((next(pools), nn.MaxPool3d(*entry[1:])))
            else:
                layers.append((f'sepInc_{entry[0]}', _RSPInception(entry[1], entry[2], gate)))
        self.feature = nn.Sequential(OrderedDict(layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.feature(x)

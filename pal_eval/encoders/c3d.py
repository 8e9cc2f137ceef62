"""C3D with BatchNorm as released by RSPNet (``PeihaoChen/RSPNet`` ``models/c3d.py``, commit
01a37c08, itself the VCOP variant): eight 3x3x3 convolutions with bias, each followed by
BatchNorm and ReLU, max-pools after conv1 (1x2x2), conv2, conv3b and conv4b (2x2x2).

mmaction2's ``C3D`` is the original Sports-1M network (no BatchNorm, fc6/fc7 on a fixed
112x112 input), so it cannot hold these weights; it stays the right choice for
Sports-1M C3D checkpoints. Returns the conv5b map ``[N, 512, T/8, H/16, W/16]``.
"""
from __future__ import annotations

import torch
from mmaction.registry import MODELS
from torch import nn

#: (name, input channels, output channels, max-pool after it or None)
C3D_PLAN = (('1', 3, 64, (1, 2, 2)), ('2', 64, 128, (2, 2, 2)), ('3a', 128, 256, None),
            ('3b', 256, 256, (2, 2, 2)), ('4a', 256, 512, None), ('4b', 512, 512, (2, 2, 2)),
            ('5a', 512, 512, None), ('5b', 512, 512, None))


@MODELS.register_module()
class RSPNetC3D(nn.Module):
    """C3D-BN backbone in the RSPNet / VCOP layout (``conv1``, ``bn1`` ... ``conv5b``, ``bn5b``).

    Examples:
        >>> RSPNetC3D().eval()(torch.zeros(1, 3, 8, 32, 32)).shape
        torch.Size([1, 512, 1, 2, 2])
    """

    feature_dim = 512

    def __init__(self):
        super().__init__()
        self.pools = {}
        for name, cin, cout, pool in C3D_PLAN:
            setattr(self, f'conv{name}', nn.Conv3d(cin, cout, 3, padding=1))
            setattr(self, f'bn{name}', nn.BatchNorm3d(cout))
            self.pools[name] = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for name, *_ in C3D_PLAN:
            x = torch.relu(getattr(self, f'bn{name}')(getattr(self, f'conv{name}')(x)))
            if self.pools[name] is not None:
                x = nn.functional.max_pool3d(x, self.pools[name], self.pools[name])
        return x

"""Load a released encoder (any file of :data:`~pal_eval.encoders.registry.ENCODERS`).

The method is recognised from the file itself: every registered architecture is tried
(built on the ``meta`` device, so no memory is spent), the one whose keys the checkpoint
holds wins; where several methods share an architecture (XDC and VideoMoCo both released
torchvision's R(2+1)D-18), the file name and then the wrapper prefix decide, and a file
that still fits several is an error asking for ``--encoder NAME``.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch
from mmaction.registry import MODELS
from torch import nn

from pal_eval.encoders.convert import convert_state_dict, find_prefix, flat_state_dict
from pal_eval.encoders.registry import ENCODERS, EncoderSpec, get_spec
from pal_eval.errors import InputError, PalEvalError


class CenterCropEncoder(nn.Module):
    """Centre-crop clips to the encoder's native side, then run it (``[N, 3, T, H, W]``).

    Frames smaller than the crop are passed through uncropped, so tiny test videos work.

    Examples:
        >>> net = CenterCropEncoder(nn.Conv3d(3, 2, 1), crop=4)
        >>> net(torch.zeros(1, 3, 2, 6, 8)).shape
        torch.Size([1, 2, 2, 4, 4])
    """

    def __init__(self, backbone: nn.Module, crop: int | None):
        super().__init__()
        self.backbone = backbone
        self.crop = crop

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.crop:
            height, width = x.shape[-2:]
            side_h, side_w = min(self.crop, height), min(self.crop, width)
            top, left = (height - side_h) // 2, (width - side_w) // 2
            x = x[..., top:top + side_h, left:left + side_w]
        return self.backbone(x)


def build_backbone(spec: EncoderSpec, device: str | torch.device = 'cpu') -> nn.Module:
    """Our module of ``spec``'s architecture (randomly initialised)."""
    cfg = dict(spec.model)
    cls = MODELS.get(cfg.pop('type'))
    with torch.device(device):
        return cls(**cfg)


def target_layout(spec: EncoderSpec) -> dict[str, torch.Tensor]:
    """Keys and shapes of ``spec``'s module, built on the meta device (no memory)."""
    return build_backbone(spec, 'meta').state_dict()


def identify(state_dict: Mapping[str, torch.Tensor], path: str | os.PathLike,
             name: str | None = None) -> tuple[EncoderSpec, dict[str, torch.Tensor]]:
    """Which registered encoder ``state_dict`` is, and its converted weights.

    Raises:
        InputError: no registered architecture fits (naming the closest one's missing and
            unexpected keys), or several methods fit and the file does not say which.
    """
    if name is not None:
        spec = get_spec(name)
        return spec, convert_state_dict(state_dict, target_layout(spec), path,
                                        preferred=spec.prefixes, name=spec.name)
    fits: list[tuple[EncoderSpec, dict, str]] = []
    closest: tuple[int, EncoderSpec | None] = (0, None)
    layouts: dict[str, dict] = {}
    for spec in ENCODERS.values():
        key = repr(sorted(spec.model.items()))
        layout = layouts.setdefault(key, target_layout(spec))
        prefix = find_prefix(state_dict, layout, spec.prefixes)
        if prefix is None:
            continue
        hits = sum(prefix + k in state_dict for k in layout)
        closest = max(closest, (hits, spec), key=lambda item: item[0])
        try:
            weights = convert_state_dict(state_dict, layout, path, preferred=spec.prefixes,
                                         name=spec.name)
        except InputError:
            continue
        fits.append((spec, weights, prefix))
    if not fits:
        if closest[1] is None:
            raise InputError(path, 'matches no registered encoder (no known key found; '
                             f'registered: {", ".join(ENCODERS)}); for an mmaction2 model '
                             'pass --recognizer-config')
        spec = closest[1]  # re-run to raise its one-line missing/unexpected error
        convert_state_dict(state_dict, layouts[repr(sorted(spec.model.items()))], path,
                           preferred=spec.prefixes, name=spec.name)
    if len(fits) > 1:
        by_file = [fit for fit in fits if fit[0].weights_file == Path(path).name]
        by_prefix = [fit for fit in fits if fit[2] and fit[2] == fit[0].prefixes[0]]
        fits = by_file or by_prefix or fits
    if len(fits) > 1:
        raise InputError(path, f'fits several encoders ({", ".join(f[0].name for f in fits)}); '
                         'pass --encoder NAME')
    return fits[0][0], fits[0][1]


def load_external(path: str | os.PathLike, *, name: str | None = None,
                  device: str = 'cpu', obj=None) -> tuple[nn.Module, dict]:
    """Load a released checkpoint as ``(encoder in eval mode, metadata)``.

    Args:
        path: The released file.
        name: Registered encoder (default: recognised from the file).
        device: Torch device.
        obj: The already loaded file content (skips a second read).
    """
    from pal_eval.io import file_sha256
    from pal_eval.pretrain.checkpoint import safe_torch_load

    obj = safe_torch_load(path) if obj is None else obj
    spec, weights = identify(flat_state_dict(obj, path), path, name)
    backbone = build_backbone(spec)
    backbone.load_state_dict(weights, strict=True)
    meta = {**spec.meta(), 'checkpoint': str(path), 'source_sha256': file_sha256(path)}
    return CenterCropEncoder(backbone, spec.crop).to(device).eval(), meta


def random_external(name: str, *, seed: int = 0, device: str = 'cpu') -> tuple[nn.Module, dict]:
    """A registered architecture, randomly initialised (seeded), with its native metadata."""
    spec = get_spec(name)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        backbone = build_backbone(spec)
    meta = {**spec.meta(), 'pretext': 'random', 'checkpoint': 'random',
            'source_sha256': f'random-init-seed-{seed}'}
    return CenterCropEncoder(backbone, spec.crop).to(device).eval(), meta


def registered_names() -> list[str]:
    """Names accepted by ``--encoder``."""
    if not ENCODERS:
        raise PalEvalError('no encoder registered')
    return list(ENCODERS)

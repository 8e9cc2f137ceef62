"""FLOPs per clip and per video of every registered encoder at its native input.

MACs are counted with :func:`pal_eval.pretrain.flops.clip_macs` (MMEngine's fvcore port:
one fused multiply-add = one "flop"); strict FLOPs are twice that. Per video, every
encoder yields the same number of features (equal features per video, see
:mod:`pal_eval.extraction.equal_features`), so FLOPs/video = features x FLOPs/clip and the
ratio between methods is that of their FLOPs/clip, as in PAL's comparison.
"""
from __future__ import annotations

import math

from pal_eval.encoders.registry import ENCODERS

#: Our encoder (PAL, MoCo-v2, TAC and random init share it) at the paper's clip.
PAL_ROW = dict(name='pal_r2plus1d_18', method='pal / mocov2 / tac / random',
               architecture='R(2+1)D-18 (PALBackbone)', frames_per_clip=4, crop=112)


def features_per_video(seconds: float, fps: float, stride: int, window: int = 4) -> int:
    """Features PAL's grid gives a video: sliding clips of ``window`` frames every ``stride``.

    Examples:
        >>> features_per_video(180, 30, 4)
        1350
    """
    frames = max(1, int(math.floor(seconds * fps + 1e-9)))
    return 1 + max(0, math.ceil((frames - window) / stride))


def encoder_table(names: list[str] | None = None, *, features: int = 1350) -> list[dict]:
    """One row per encoder: native input, GMACs and GFLOPs per clip and per video."""
    from pal_eval.encoders.external import build_backbone
    from pal_eval.pretrain.backbone import PALBackbone
    from pal_eval.pretrain.flops import clip_macs

    rows = []
    wanted = names or ['pal_r2plus1d_18', *ENCODERS]
    for name in wanted:
        if name == PAL_ROW['name']:
            model, info = PALBackbone(arch='r2plus1d_18', base_channels=64), PAL_ROW
        else:
            spec = ENCODERS[name]
            model = build_backbone(spec)
            info = dict(name=name, method=spec.method, architecture=spec.architecture,
                        frames_per_clip=spec.frames_per_clip, crop=spec.crop)
        macs = clip_macs(model, info['frames_per_clip'], info['crop'])
        rows.append({**info, 'native_input': f'{info["frames_per_clip"]}x{info["crop"]}x'
                     f'{info["crop"]}', 'gmacs_per_clip': macs / 1e9,
                     'gflops_per_clip': 2 * macs / 1e9, 'features_per_video': features,
                     'gflops_per_video': 2 * macs * features / 1e9})
    return rows

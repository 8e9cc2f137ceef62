"""``pal-eval flops``: encoder cost per clip and per composited video (PAL Table 1 column).

Examples::

    pal-eval flops configs/pretrain/pal_r2plus1d-18_8xb32-8x4x112-200e_k400.py \\
        --clips 4,6,8,10,12
    pal-eval flops CONFIG --compare-archs   # which backbone matches the paper's 3.58 G/clip
"""
from __future__ import annotations

import argparse
from pathlib import Path

from pal_eval.errors import InputError, PalEvalError


def _clip_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(',') if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected comma-separated integers, got {text!r}') \
            from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError('clip counts must be positive integers')
    return values


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pal-eval flops``."""
    parser.add_argument('config', type=Path, help='a pretraining config (PAL or MoCoV2)')
    parser.add_argument('--clips', type=_clip_list, default=[4, 6, 8, 10, 12],
                        help='clips per composited video to tabulate (default 4,6,8,10,12)')
    parser.add_argument('--compare-archs', action='store_true',
                        help='also report every supported arch at width 64 and the config '
                             "input, against the paper's ~3.58 G per clip")


def run(args: argparse.Namespace) -> int:
    """Print MACs (fvcore convention) and FLOPs (= 2 x MACs) per clip and per video."""
    import mmengine  # noqa: F401  (registers pal-eval modules)
    from mmengine.config import Config

    from pal_eval.pretrain.backbone import ARCHS, PALBackbone
    from pal_eval.pretrain.flops import PAPER_TABLE1_GFLOPS, clip_macs, video_table

    if not args.config.is_file():
        raise InputError(args.config, 'config file not found')
    try:
        cfg = Config.fromfile(str(args.config))
    except Exception as exc:  # noqa: BLE001 - any parse failure is a bad config
        raise InputError(args.config, f'cannot parse config: {exc}') from None
    backbone_cfg = dict(cfg.get('model', {}).get('backbone', {}))
    if backbone_cfg.get('type') != 'PALBackbone':
        raise InputError(args.config, "expected model.backbone.type == 'PALBackbone'",
                         field='model.backbone')
    dataset = cfg.train_dataloader.dataset
    frames, size = int(dataset.get('frames_per_clip', 4)), int(dataset.get('input_size', 112))
    backbone_cfg.pop('type')
    backbone_cfg.pop('init_cfg', None)
    try:
        backbone = PALBackbone(**backbone_cfg)
    except TypeError as exc:
        raise PalEvalError(f'{args.config}: bad model.backbone: {exc}') from None
    per_clip = clip_macs(backbone, frames, size)
    print(f'{backbone_cfg.get("arch", "r2plus1d_18")} width {backbone.base_channels}, clip '
          f'{frames}x{size}x{size}: {per_clip / 1e9:.3f} GMACs = {2 * per_clip / 1e9:.3f} '
          'GFLOPs per clip (MACs: fused multiply-adds, fvcore/mmengine convention)')
    print(f'{"clips J":>8} {"GMACs/video":>12} {"GFLOPs/video":>13} {"paper G/video":>14}')
    for row in video_table(per_clip, args.clips):
        paper = '' if row['paper_gflops'] is None else f'{row["paper_gflops"]:.1f}'
        print(f'{row["clips"]:>8} {row["gmacs_per_video"]:>12.2f} '
              f'{row["gflops_per_video"]:>13.2f} {paper:>14}')
    if args.compare_archs:
        paper_clip = PAPER_TABLE1_GFLOPS[8] / 8
        print(f"paper: {paper_clip:.2f} G per clip; every arch at width 64, clip "
              f'{frames}x{size}x{size}:')
        for arch in ARCHS:
            macs = clip_macs(PALBackbone(arch=arch, base_channels=64), frames, size) / 1e9
            print(f'  {arch:<12} {macs:6.2f} GMACs  {2 * macs:6.2f} GFLOPs  '
                  f'(MACs/paper = {macs / paper_clip:.2f})')
    return 0

"""``pal-eval flops``: encoder cost per clip and per composited video (PAL Table 1 column).

Examples::

    pal-eval flops configs/pretrain/pal_r2plus1d-18_8xb32-8x4x112-200e_k400.py \\
        --clips 4,6,8,10,12
    pal-eval flops CONFIG --compare-archs   # which backbone matches the paper's 3.58 G/clip
    pal-eval flops --encoders all           # every registered encoder at its native input
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
    parser.add_argument('config', type=Path, nargs='?',
                        help='a pretraining config (PAL or MoCoV2)')
    parser.add_argument('--encoders', metavar='NAMES',
                        help='"all" or a comma list of registered encoders: FLOPs/clip at '
                        'their native input and FLOPs/video at equal features per video')
    parser.add_argument('--video-seconds', type=float, default=180.0,
                        help='with --encoders: reference video length (default 180 s)')
    parser.add_argument('--video-fps', type=float, default=30.0,
                        help='with --encoders: reference frame rate (default 30)')
    parser.add_argument('--stride', type=int, default=4,
                        help="with --encoders: PAL's feature stride in frames (default 4)")
    parser.add_argument('--clips', type=_clip_list, default=[4, 6, 8, 10, 12],
                        help='clips per composited video to tabulate (default 4,6,8,10,12)')
    parser.add_argument('--compare-archs', action='store_true',
                        help='also report every supported arch at width 64 and the config '
                             "input, against the paper's ~3.58 G per clip")


def run(args: argparse.Namespace) -> int:
    """Print MACs (fvcore convention) and FLOPs (= 2 x MACs) per clip and per video."""
    import mmengine  # noqa: F401  (registers pal-eval modules)
    from mmengine.config import Config

    if args.encoders:
        return _encoder_table(args)
    if args.config is None:
        raise PalEvalError('pal-eval flops needs CONFIG or --encoders')

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


def _encoder_table(args: argparse.Namespace) -> int:
    """Print the encoders' FLOPs/clip and FLOPs/video as a markdown table."""
    from pal_eval.encoders.flops import PAL_ROW, encoder_table, features_per_video
    from pal_eval.encoders.registry import ENCODERS
    from pal_eval.registration import register_all_modules

    register_all_modules()
    known = [PAL_ROW['name'], *ENCODERS]
    names = known if args.encoders == 'all' else [n for n in args.encoders.split(',') if n]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise PalEvalError(f'unknown encoder(s) {", ".join(unknown)}; known: {", ".join(known)}')
    features = features_per_video(args.video_seconds, args.video_fps, args.stride)
    print(f'FLOPs = 2 x MACs (fvcore/mmengine count); per video: {features} features '
          f'({args.video_seconds:g} s at {args.video_fps:g} fps, one every {args.stride} '
          'frames, equal for every encoder)')
    print('| encoder | method | architecture | native input (TxHxW) | GFLOPs/clip | '
          'GFLOPs/video |')
    print('|---|---|---|---|---:|---:|')
    for row in encoder_table(names, features=features):
        print(f'| {row["name"]} | {row["method"]} | {row["architecture"]} | '
              f'{row["native_input"]} | {row["gflops_per_clip"]:.2f} | '
              f'{row["gflops_per_video"]:.0f} |')
    return 0

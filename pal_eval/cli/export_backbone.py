"""``pal-eval export-backbone``: strip a pretraining checkpoint to encoder weights + metadata.

Examples::

    pal-eval export-backbone work_dirs/pal_cpu/epoch_3.pth --out work_dirs/pal_cpu/backbone.pth
    pal-eval export-backbone random --arch r2plus1d_18 --base-channels 8 --out random.pth
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pal-eval export-backbone``."""
    parser.add_argument('checkpoint',
                        help="MMEngine checkpoint of a PAL / MoCoV2 run, or 'random' for the "
                             'random-init baseline')
    parser.add_argument('--out', type=Path, required=True, help='destination backbone.pth')
    parser.add_argument('--overwrite', '--force', action='store_true',
                        help='replace an existing --out')
    random_init = parser.add_argument_group("random init (checkpoint 'random' only)")
    random_init.add_argument('--seed', type=int, default=0)
    random_init.add_argument('--arch', default='r2plus1d_18')
    random_init.add_argument('--base-channels', type=int, default=64)
    random_init.add_argument('--clips-per-video', type=int, default=8)
    random_init.add_argument('--frames-per-clip', type=int, default=4)
    random_init.add_argument('--input-size', type=int, default=112)


def run(args: argparse.Namespace) -> int:
    """Write the exported backbone and print its metadata."""
    import mmengine  # noqa: F401  (registers pal-eval modules)
    import torch

    from pal_eval.io import atomic_write, check_outputs
    from pal_eval.pretrain.export import check_meta_value, export_backbone, load_backbone

    check_outputs([('--out', args.out)], force=args.overwrite,
                  inputs=[None if args.checkpoint == 'random' else args.checkpoint])
    if args.checkpoint == 'random':
        for option in ('base_channels', 'clips_per_video', 'frames_per_clip', 'input_size'):
            check_meta_value(option, getattr(args, option), 'pal-eval export-backbone',
                             f'--{option.replace("_", "-")}')
        model, meta = load_backbone(
            'random', seed=args.seed, arch=args.arch, base_channels=args.base_channels,
            clips_per_video=args.clips_per_video, frames_per_clip=args.frames_per_clip,
            input_size=args.input_size)
        with atomic_write(args.out, 'wb') as handle:
            torch.save({'state_dict': model.state_dict(), 'meta': meta}, handle)
    else:
        meta = export_backbone(args.checkpoint, args.out, overwrite=args.overwrite)
    print(f'wrote {args.out}: ' + json.dumps(meta, sort_keys=True))
    return 0

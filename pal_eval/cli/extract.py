"""``pal-eval extract``: clip features of a folder of videos with a pretrained encoder.

Examples::

    pal-eval extract configs/extraction/extract_palbackbone_1xb8-sliding-stride4_thumos14.py \\
        --checkpoint backbone.pth --videos data/videos --out work_dirs/features
    pal-eval extract CONFIG --checkpoint random --videos list.txt --out feats --shard 0/2
    pal-eval extract --merge --out feats --pack feats.npz
"""
from __future__ import annotations

import argparse
import sys

from pal_eval.errors import PalEvalError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``pal-eval extract``."""
    parser.add_argument('config', nargs='?', help='extraction config (configs/extraction/*.py)')
    parser.add_argument('--checkpoint', help='exported backbone, PAL/MoCoV2 checkpoint, a '
                        'released encoder (CoCLR, XDC, VideoMoCo, RSPNet: recognised from its '
                        'keys), an mmaction2 recognizer checkpoint (TAC), or "random"')
    parser.add_argument('--encoder', help='registered encoder name (pal-eval flops --encoders '
                        'lists them): the architecture of --checkpoint random, or the method '
                        'a released file is read as')
    parser.add_argument('--recognizer-config', help='mmaction2 recognizer config whose '
                        'backbone --checkpoint holds (I3D, SlowFast, TSN, VideoMAE...)')
    parser.add_argument('--videos', help='folder of videos, or a list file (one path per line, '
                        'or "video_id<TAB>path")')
    parser.add_argument('--out', required=True, help='feature folder')
    parser.add_argument('--shard', default='0/1', help='I/N: this process does shard I '
                        '(0-based) of N, split deterministically by sorted video id')
    parser.add_argument('--batch-size', type=int, help='clips per forward pass (config default)')
    parser.add_argument('--workers', type=int, help='decoding processes (config default)')
    parser.add_argument('--seed', type=int, default=None,
                        help='seed of --checkpoint random (default: the config\'s seed)')
    parser.add_argument('--device', default='cpu', help='cpu or cuda[:N]')
    parser.add_argument('--dtype', default='float32', choices=('float32', 'float16', 'bfloat16'),
                        help='compute precision (autocast); features are stored as float32')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace features made with other settings instead of refusing')
    parser.add_argument('--merge', action='store_true', help='check that all shards finished '
                        '(every video of the job complete) and gather their failures')
    parser.add_argument('--pack', help='with --merge: also pack all features into this .npz')
    parser.add_argument('--force', action='store_true',
                        help='with --pack: replace an existing .npz file')
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')


def run(args: argparse.Namespace) -> int:
    """Run ``pal-eval extract``; returns 1 when any video failed or is missing."""
    from pal_eval.extraction.folder import list_videos, merge_folder

    if args.merge:
        from pal_eval.io import check_outputs

        if args.pack and not str(args.pack).endswith('.npz'):
            raise PalEvalError(f'--pack must name a .npz file, got {args.pack!r}')
        check_outputs([('--pack', args.pack)], force=args.force)
        expected = [e.video_id for e in list_videos(args.videos)] if args.videos else None
        result = merge_folder(args.out, expected=expected, pack=args.pack)
        print(f'{len(result["complete"])} videos complete, {len(result["missing"])} missing')
        for video_id in result['missing'][:10]:
            reason = result['failures'].get(video_id, 'not extracted (shard not run?)')
            print(f'  missing {video_id}: {reason}')
        if result['missing']:
            if args.pack:
                print('nothing packed: the folder is incomplete', file=sys.stderr)
            return 1
        if args.pack:
            print(f'packed into {args.pack}')
        return 0
    for name, flag in (('config', 'CONFIG'), ('checkpoint', '--checkpoint'),
                       ('videos', '--videos')):
        if not getattr(args, name):
            raise PalEvalError(f'pal-eval extract needs {flag} (or --merge)')
    return _extract(args)


def _extract(args: argparse.Namespace) -> int:
    from pal_eval.extraction.encoder import (
        check_device,
        clip_settings_from_config,
        load_encoder,
        load_extraction_config,
    )
    from pal_eval.extraction.extractor import extract_folder
    from pal_eval.extraction.folder import (
        check_out_folder,
        failures_file,
        list_videos,
        parse_shard,
        shard_videos,
    )

    # Everything a user can get wrong is checked before the encoder is loaded.
    shard = parse_shard(args.shard)
    check_device(args.device)
    cfg = load_extraction_config(args.config)
    batch_size, workers = _loader_settings(args, cfg)
    check_out_folder(args.out)
    entries = list_videos(args.videos)
    mine = shard_videos(entries, *shard)
    seed = args.seed if args.seed is not None else int(cfg.get('seed', 0))
    model, meta = load_encoder(args.checkpoint, device=args.device, seed=seed,
                               random_init=dict(cfg.get('random_init') or {}),
                               encoder=args.encoder,
                               recognizer_config=args.recognizer_config)
    settings = clip_settings_from_config(cfg, meta, config_path=args.config)
    print(f'extracting {len(mine)} of {len(entries)} videos (shard {args.shard}) with '
          f'{meta.get("arch")} ({meta.get("pretext")}), {settings.policy.name} clips of '
          f'{settings.policy.frames_per_clip}x{settings.input_size[0]}x{settings.input_size[1]}, '
          f'stride {settings.policy.stride}', file=sys.stderr)
    report = extract_folder(model, mine, args.out, settings, meta, batch_size=batch_size,
                            num_workers=workers, device=args.device, dtype=args.dtype,
                            overwrite=args.overwrite, shard=shard,
                            all_video_ids=[e.video_id for e in entries],
                            progress=not args.no_progress)
    print(report.summary())
    if report.failed:
        print(f'{len(report.failed)} videos failed, reasons in '
              f'{args.out}/{failures_file(shard)}:', file=sys.stderr)
        for video_id, reason in list(report.failed.items())[:10]:
            print(f'  {video_id}: {reason}', file=sys.stderr)
        return 1
    return 0


def _loader_settings(args: argparse.Namespace, cfg) -> tuple[int, int]:
    """``(batch_size, workers)``: the options, else the config's ``data`` section (whose
    values :func:`~pal_eval.extraction.encoder.check_extraction_config` checked)."""
    if args.batch_size is not None and args.batch_size < 1:
        raise PalEvalError(f'--batch-size must be >= 1, got {args.batch_size}')
    if args.workers is not None and args.workers < 0:
        raise PalEvalError(f'--workers must be >= 0, got {args.workers}')
    data = dict(cfg.get('data') or {})
    batch_size = args.batch_size if args.batch_size is not None else int(
        data.get('batch_size', 8))
    workers = args.workers if args.workers is not None else int(data.get('num_workers', 2))
    return batch_size, workers

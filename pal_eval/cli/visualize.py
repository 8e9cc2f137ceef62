"""``pal-eval visualize``: timelines of predictions, figures for feature analysis.

``pal-eval visualize predictions PRED.json [--gt GT] [--subset S] --out DIR_OR_PNG`` draws,
for the busiest videos of any ActivityNet-format prediction file (ours or another tool's;
also the grounding predictions of ``pal-eval predict``), the ground truth against the
top-k predictions with their scores (and, with ground truth, their tIoU): see
:mod:`pal_eval.visualization.predictions`.

``pal-eval visualize similarity CONFIG --checkpoint A.pth [--checkpoint B.pth ...]
--video V.mp4 --annotation gt.json --out fig.png`` reproduces the PAL paper's supplementary
Figures 1-4 (see :mod:`pal_eval.visualization.similarity`): for one ground-truth instance of
the video, the instance is shifted forward/backward and down-/up-sampled, and each encoder's
original x transformed clip cosine-similarity map is drawn, with a localization score per map.
The maps use the config's sliding clips (stride, fps); the ActivityNet resampling step is
skipped so every cell is a real clip.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

from pal_eval.errors import InputError, PalEvalError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``pal-eval visualize``."""
    sub = parser.add_subparsers(dest='figure', metavar='FIGURE')
    sim = sub.add_parser('similarity', help='clip similarity maps under temporal '
                         'transformations (PAL supplementary Figs 1-4)')
    sim.add_argument('config', help='extraction config (configs/extraction/*.py)')
    sim.add_argument('--checkpoint', action='append', required=True,
                     help='encoder (repeat to compare encoders side by side; "random" allowed)')
    sim.add_argument('--name', action='append', help='label per --checkpoint (default: '
                     'pretext and file name)')
    sim.add_argument('--video', required=True, help='untrimmed video file; its stem is the id')
    sim.add_argument('--annotation', required=True,
                     help='ground truth (ActivityNet-style JSON, THUMOS14 csv or folder)')
    sim.add_argument('--instance', type=int, default=0,
                     help='which instance of the video (0-based, in start-time order)')
    sim.add_argument('--shift', type=float, default=None,
                     help='seconds to move the instance (default: its own length)')
    sim.add_argument('--out', required=True, help='figure file (.png, .pdf or .svg)')
    sim.add_argument('--overwrite', '--force', action='store_true',
                     help='replace an existing --out')
    sim.add_argument('--batch-size', type=int, default=8)

    pred = sub.add_parser('predictions', help='timelines: ground truth vs the top-k predictions '
                          'of any ActivityNet-format prediction file')
    pred.add_argument('predictions', help='prediction JSON ({"results": ...}): detections, '
                      'proposals, or grounding predictions of pal-eval predict')
    pred.add_argument('--gt', help='ground truth (ActivityNet-style JSON, THUMOS14 csv or '
                      'folder; grounding: canonical JSON, Charades-STA txt, ActivityNet Captions)')
    pred.add_argument('--subset', default=None, help='ground-truth subset (default: all)')
    pred.add_argument('--video', action='append', default=None,
                      help='video (grounding: query) id to draw; repeatable (default: the '
                           '--num-videos with the most ground-truth instances)')
    pred.add_argument('--num-videos', type=int, default=3)
    pred.add_argument('--top-k', type=int, default=10, help='predictions per video (default 10)')
    pred.add_argument('--task', choices=['auto', 'detection', 'proposal', 'grounding'],
                      default='auto', help='what the file holds (default: from the file)')
    pred.add_argument('--out', required=True, help='an image file (.png/.pdf/.svg: the videos '
                      'stacked) or a folder (one PNG per video)')
    pred.add_argument('--overwrite', '--force', action='store_true',
                      help='replace existing figures')


def run(args: argparse.Namespace) -> int:
    """Run ``pal-eval visualize``."""
    if args.figure == 'predictions':
        return _predictions(args)
    if args.figure != 'similarity':
        raise PalEvalError('choose a figure: pal-eval visualize {predictions,similarity} ...')
    return _similarity(args)


def _predictions(args: argparse.Namespace) -> int:
    from pal_eval.io import check_outputs
    from pal_eval.visualization.predictions import (
        draw_timelines,
        is_image_path,
        timeline_panels,
    )

    if args.top_k < 1 or args.num_videos < 1:
        raise PalEvalError('--top-k and --num-videos must be >= 1')
    if is_image_path(args.out):   # a folder's PNGs are checked once the videos are known
        check_outputs([('--out', args.out)], force=args.overwrite,
                      inputs=[args.predictions, args.gt])
    panels = timeline_panels(args.predictions, gt_path=args.gt, subset=args.subset,
                             videos=args.video, num_videos=args.num_videos, task=args.task)
    written = draw_timelines(panels, args.out, top_k=args.top_k, overwrite=args.overwrite)
    for panel in panels:
        print(f'  {panel.name}: {len(panel.predictions)} predictions'
              + ('' if panel.ground_truth is None else
                 f', {len(panel.ground_truth)} ground-truth instances'))
    where = written[0] if len(written) == 1 else f'{len(written)} figures under {args.out}'
    print(f'wrote {where}')
    return 0


def pick_instance(annotation: str, video_id: str, index: int) -> tuple[float, float, str]:
    """``(t_start, t_end, label)`` of the ``index``-th instance (by start time) of a video."""
    from pal_eval.data.annotations import load_actions

    instances = load_actions(annotation).instances
    rows = instances[instances['video_id'] == video_id].sort_values('t_start')
    if rows.empty:
        raise InputError(annotation, 'no action instance for this video (the id is the '
                         'video file stem)', record=video_id)
    if not 0 <= index < len(rows):
        raise PalEvalError(f'--instance {index}: video {video_id!r} has {len(rows)} instances')
    row = rows.iloc[index]
    return float(row['t_start']), float(row['t_end']), str(row['label'])


def _similarity(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from pal_eval.data.video_io import read_video
    from pal_eval.extraction.encoder import (
        clip_settings_from_config,
        load_encoder,
        load_extraction_config,
    )
    from pal_eval.extraction.extractor import extract_from_frames
    from pal_eval.io import check_outputs
    from pal_eval.visualization.metric_plots import figure_format
    from pal_eval.visualization.similarity import (
        DEFAULT_TRANSFORMS,
        plot_similarity_maps,
        similarity_map,
        transform_frame_indices,
    )

    out = Path(args.out)
    check_outputs([('--out', out)], force=args.overwrite,
                  inputs=[args.video, args.annotation, args.config,
                          *(c for c in args.checkpoint if c != 'random')])
    figure_format(out)
    if args.name and len(args.name) != len(args.checkpoint):
        raise PalEvalError('give one --name per --checkpoint')
    if args.batch_size < 1:
        raise PalEvalError(f'--batch-size must be >= 1, got {args.batch_size}')
    video_id = Path(args.video).stem
    t_start, t_end, label = pick_instance(args.annotation, video_id, args.instance)
    cfg = load_extraction_config(args.config)
    frames_by_size: dict = {}
    maps = []
    for number, checkpoint in enumerate(args.checkpoint):
        model, meta = load_encoder(checkpoint, seed=int(cfg.get('seed', 0)),
                                   random_init=dict(cfg.get('random_init') or {}))
        settings = clip_settings_from_config(cfg, meta, config_path=args.config)
        settings = replace(settings, policy=replace(settings.policy, num_snippets=None))
        name = (args.name[number] if args.name
                else f'{meta.get("pretext")} ({Path(checkpoint).name})')
        if settings.input_size not in frames_by_size:
            frames_by_size[settings.input_size] = read_video(args.video, size=settings.input_size)
        frames, fps = frames_by_size[settings.input_size]
        start = max(0, math.floor(t_start * fps))
        end = min(len(frames), max(start + 1, math.ceil(t_end * fps)))
        original, original_centers = extract_from_frames(model, frames, fps, settings,
                                                         batch_size=args.batch_size)
        shift = args.shift if args.shift is not None else (end - start) / fps
        for title, kind, amount in DEFAULT_TRANSFORMS:
            amount = round(math.copysign(shift, amount) * fps) if kind == 'shift' else amount
            indices, new_start, new_end = transform_frame_indices(len(frames), start, end,
                                                                  kind, amount)
            moved, moved_centers = extract_from_frames(model, frames[indices], fps, settings,
                                                       batch_size=args.batch_size)
            maps.append(similarity_map(name, title, original, original_centers,
                                       (start / fps, end / fps), moved, moved_centers,
                                       (new_start / fps, new_end / fps)))
    plot_similarity_maps(maps, out, title=f'{video_id}: {label!r} [{t_start:.1f}, {t_end:.1f}] s')
    print('localization score = mean similarity inside the action - mean similarity between '
          'action and background (higher: more localization-aware)')
    for panel in maps:
        print(f'  {panel.encoder:<32} {panel.transform:<16} {panel.score:+.4f}')
    print(f'figure written to {out}')
    return 0

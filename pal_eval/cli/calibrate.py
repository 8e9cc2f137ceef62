"""``pal-eval calibrate``: the floor and ceiling of a head, from the annotations alone.

* ``oracle`` writes *oracle features* (:mod:`pal_eval.calibration.oracle`) in the
  ``pal-eval extract`` folder format, on the time grid of a real extraction: train any
  head config on them to get its ceiling;
* ``floor`` writes the predictions of the best *fixed* predictor learned from training
  ground truth (:mod:`pal_eval.calibration.floor`): score them with ``pal-eval
  evaluate`` to get the floor every head must clear.

A head (or config) whose oracle score is not far above the floor cannot tell features
apart. Examples::

    pal-eval calibrate oracle --gt data/synth/annotations/activitynet.json \\
        --grounding data/synth/annotations/grounding_train.json \\
        --extract-config configs/extraction/extract_palbackbone_1xb8-sliding-stride4_synthetic.py \\
        --videos data/synth/videos --out work_dirs/features/oracle
    pal-eval calibrate oracle --gt activity_net.v1-3.min.json --like features/pal --out oracle
    pal-eval calibrate floor proposal --train-gt anet.json --gt anet.json --subset testing \\
        --out floor_proposals.json
    pal-eval calibrate floor grounding --train-gt grounding_train.json \\
        --gt grounding_test.json --out floor_grounding.json
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from pal_eval.errors import InputError, PalEvalError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``pal-eval calibrate``."""
    sub = parser.add_subparsers(dest='action', metavar='ACTION', required=True)
    oracle = sub.add_parser('oracle', help='oracle features from the annotations',
                            description='Oracle features (the ceiling) from the annotations, '
                            'on the time grid of a real extraction.')
    oracle.add_argument('--gt', type=Path, action='append', default=[],
                        help='action annotations (ActivityNet-style JSON, all subsets are '
                             'used; repeatable): class and foreground channels')
    oracle.add_argument('--grounding', type=Path, action='append', default=[],
                        help='grounding annotations (canonical JSON, Charades-STA txt, '
                             'ActivityNet Captions JSON; repeatable): word channels')
    grid = oracle.add_mutually_exclusive_group(required=True)
    grid.add_argument('--like', type=Path, metavar='FEATURE_DIR',
                      help='use the centre times of this feature folder (pal-eval extract)')
    grid.add_argument('--extract-config', type=Path, metavar='CONFIG',
                      help='use the grid this extraction config gives (with --videos, or '
                           'durations from the annotations for the ActivityNet convention)')
    oracle.add_argument('--videos', type=Path,
                        help='with --extract-config: the video folder or list (frame count '
                             'and fps of each video, read as pal-eval extract does)')
    oracle.add_argument('--out', type=Path, required=True, help='feature folder to write')
    oracle.add_argument('--noise', type=float, default=None,
                        help='noise standard deviation (default 0.1)')
    oracle.add_argument('--word-dim', type=int, default=None,
                        help='hashed word buckets (default 32 with --grounding)')
    oracle.add_argument('--seed', type=int, default=0, help='noise seed (default 0)')
    oracle.add_argument('--overwrite', action='store_true',
                        help='replace the features of an existing --out folder')

    floor = sub.add_parser('floor', help='predictions of the best fixed predictor',
                           description='Predictions of the best fixed (feature-free) '
                           'predictor learned from training ground truth.')
    floor.add_argument('task', choices=['proposal', 'detection', 'grounding'])
    floor.add_argument('--train-gt', type=Path, required=True,
                       help='training ground truth (same formats as pal-eval evaluate)')
    floor.add_argument('--train-subset', default=None,
                       help='its subset (default: training for action files, all queries '
                            'for grounding files)')
    floor.add_argument('--gt', type=Path, required=True,
                       help='the ground truth to predict for (its videos / queries)')
    floor.add_argument('--subset', default=None,
                       help='its subset (default: validation for action files, all '
                            'queries for grounding)')
    floor.add_argument('--durations-from', type=Path, metavar='FEATURE_DIR',
                       help='video durations from a feature folder, for annotation files '
                            'without them (Charades-STA txt)')
    floor.add_argument('--count', type=int, default=None,
                       help='predictions per video (proposal 100, detection 100 per class) '
                            'or per query (grounding 5)')
    floor.add_argument('--grid', type=int, default=None,
                       help='candidate grid: relative positions 0, 1/G, ..., 1 (default 100)')
    floor.add_argument('--out', type=Path, required=True, help='prediction JSON to write')
    floor.add_argument('--force', action='store_true', help='overwrite --out')


def run(args: argparse.Namespace) -> int:
    """Run ``pal-eval calibrate``."""
    return _oracle(args) if args.action == 'oracle' else _floor(args)


# ----------------------------------------------------------------------------- oracle
def _oracle(args: argparse.Namespace) -> int:
    from pal_eval.calibration import oracle
    from pal_eval.data.annotations import load_actions

    if not args.gt and not args.grounding:
        raise PalEvalError('pal-eval calibrate oracle needs --gt (actions) and/or '
                           '--grounding (queries)')
    if args.videos is not None and args.extract_config is None:
        raise PalEvalError('--videos goes with --extract-config')
    actions = None
    for path in args.gt:
        loaded = load_actions(path)
        actions = loaded if actions is None else _merge_actions(actions, loaded, path)
    grounding = [_grounding_annotations(path) for path in args.grounding]
    if args.like is not None:
        grids, sampling = oracle.grids_like(args.like), None
        meta_path = args.like / 'meta.json'
        if meta_path.is_file():
            from pal_eval.io import read_json

            sampling = read_json(meta_path).get('sampling')
    else:
        if args.videos is not None:
            videos = oracle.probe_videos(args.videos)
        else:
            videos = _annotated_durations(actions, grounding)
        grids, sampling = oracle.grids_from_extract_config(args.extract_config, videos)
    annotated = set(actions.videos) if actions is not None else set()
    for part in grounding:
        annotated |= set(part.queries['video_id'])
    missing = sorted(annotated - set(grids))
    if missing:
        raise InputError(args.like or args.videos or args.extract_config,
                         f'no time grid for {len(missing)} annotated videos',
                         record=missing[0])
    sources = [str(p) for p in [*args.gt, *args.grounding]]
    meta = oracle.write_oracle_folder(
        args.out, grids, actions=actions, grounding=grounding, word_dim=args.word_dim,
        noise=oracle.DEFAULT_NOISE if args.noise is None else args.noise, seed=args.seed,
        sampling=sampling, sources=sources, overwrite=args.overwrite)
    print(f'wrote oracle features of {len(grids)} videos ({meta["feature_dim"]} channels) '
          f'to {args.out}')
    return 0


def _merge_actions(first, second, path):
    """Two action files over the same taxonomy as one (videos and instances)."""
    import pandas as pd

    if list(first.taxonomy) != list(second.taxonomy):
        raise InputError(path, 'its taxonomy differs from the first --gt file',
                         field='taxonomy')
    return type(first)(videos={**first.videos, **second.videos},
                       instances=pd.concat([first.instances, second.instances],
                                           ignore_index=True),
                       taxonomy=list(first.taxonomy), source=first.source)


def _grounding_annotations(path: Path):
    from pal_eval.data.annotations import load_queries

    annotations = load_queries(path)
    if annotations.queries.empty:
        raise InputError(path, 'no grounding queries', field='queries')
    return annotations


def _annotated_durations(actions, grounding) -> dict:
    """Video id -> grid record from the annotations' durations (and fps when stored)."""
    import numpy as np

    from pal_eval.calibration.oracle import VideoGrid

    videos = {}
    if actions is not None:
        for video_id, info in actions.videos.items():
            frames = int(round(info.duration * info.fps)) if info.fps else None
            videos[video_id] = VideoGrid(np.zeros(0), info.duration, info.fps, frames)
    for part in grounding:
        for video_id, duration in zip(part.queries['video_id'], part.queries['duration']):
            if video_id not in videos and not math.isnan(duration):
                videos[video_id] = VideoGrid(np.zeros(0), float(duration))
    return videos


# ------------------------------------------------------------------------------ floor
def _floor(args: argparse.Namespace) -> int:
    from pal_eval.calibration import floor

    if args.out.exists() and not args.force:  # refused before any work
        raise PalEvalError(f'{args.out}: already exists (use --force to overwrite)')
    grid = args.grid or floor.DEFAULT_GRID
    if grid < 1 or (args.count is not None and args.count < 1):
        raise PalEvalError('--grid and --count must be positive')
    durations = _feature_durations(args.durations_from) if args.durations_from else {}
    if args.task == 'grounding':
        frame = _grounding_floor(args, grid, durations)
    else:
        frame = _action_floor(args, grid, durations)
    print(f'wrote {len(frame)} fixed-prior {args.task} predictions to {args.out}',
          file=sys.stderr)
    return 0


def _action_floor(args, grid: int, durations: dict):
    import numpy as np

    from pal_eval.calibration import floor
    from pal_eval.data.submission import write_action_submission
    from pal_eval.evaluation.inputs import load_action_ground_truth

    train = load_action_ground_truth(args.train_gt, args.train_subset or 'training')
    target = load_action_ground_truth(args.gt, args.subset or 'validation')
    train_durations = _durations(train.videos, durations, args.train_gt)
    instances = train.instances
    relative = floor.relative_segments(instances[['t_start', 't_end']].to_numpy(np.float64),
                                       instances['video_id'].map(train_durations).to_numpy())
    videos = _durations(target.videos, durations, args.gt)
    if args.task == 'proposal':
        proposals = floor.fixed_proposals(relative, count=args.count or 100, grid=grid)
        frame = floor.proposal_frame(proposals, videos)
    else:
        per_class = floor.fixed_detections(relative, instances['label'].tolist(),
                                           count=args.count or 100, grid=grid)
        frame = floor.detection_frame(per_class, videos)
    write_action_submission(args.out, frame, overwrite=True,
                            external_data={'used': False, 'details':
                                           f'pal-eval calibrate floor {args.task}: the same '
                                           'relative segments on every video, learned '
                                           f'from {args.train_gt}'})
    return frame


def _grounding_floor(args, grid: int, durations: dict):
    import numpy as np

    from pal_eval.calibration import floor
    from pal_eval.data.submission import write_grounding_predictions
    from pal_eval.evaluation.inputs import load_grounding_ground_truth

    train = _with_durations(load_grounding_ground_truth(args.train_gt, args.train_subset),
                            durations, args.train_gt)
    target = _with_durations(load_grounding_ground_truth(args.gt, args.subset), durations,
                             args.gt)
    relative = floor.relative_segments(train[['t_start', 't_end']].to_numpy(np.float64),
                                       train['duration'].to_numpy())
    moments = floor.fixed_moments(relative, count=args.count or 5, grid=grid)
    frame = floor.grounding_frame(moments, target)
    write_grounding_predictions(args.out, frame, overwrite=True)
    return frame


def _feature_durations(folder: Path) -> dict[str, float]:
    from pal_eval.calibration.oracle import grids_like

    return {video: grid.duration for video, grid in grids_like(folder).items()}


def _durations(videos: dict, fallback: dict, path: Path) -> dict[str, float]:
    out = {}
    for video_id, info in videos.items():
        duration = info.duration if not math.isnan(info.duration) else \
            fallback.get(video_id, math.nan)
        if math.isnan(duration) or duration <= 0:
            raise InputError(path, 'no duration for this video (give --durations-from '
                             'FEATURE_DIR)', record=video_id, field='duration')
        out[video_id] = float(duration)
    return out


def _with_durations(queries, fallback: dict, path: Path):
    missing = queries['duration'].isna()
    if missing.any():
        queries = queries.copy()
        queries.loc[missing, 'duration'] = queries.loc[missing, 'video_id'].map(fallback)
        if queries['duration'].isna().any():
            video = queries.loc[queries['duration'].isna(), 'video_id'].iloc[0]
            raise InputError(path, 'no duration for this video (give --durations-from '
                             'FEATURE_DIR)', record=str(video), field='duration')
    return queries

"""``pal-eval features``: published feature releases in our folder format.

The heads read a release in place through its ``feature_source``
(``configs/_base_/features/``); ``import`` writes it once as a ``pal-eval extract``
folder instead (``<id>.npy`` + ``<id>.json`` with the centre times, ``meta.json``), for
tools that want the metadata on disk::

    pal-eval features import configs/_base_/features/tsp_activitynet_h5.py \\
        --root data/activitynet/features/tsp --out data/activitynet/features/tsp_ours \\
        --ann data/activitynet/annotations/activity_net.v1-3.min.json

``--ann`` gives the durations and frame rates a grid needs (uniform grids: the
durations; frame grids without a fixed fps: the frame rates) and limits the import to
its videos; ``--durations`` adds Charades' ``Charades_v1_*.csv``.
"""
from __future__ import annotations

import argparse
import math
from pathlib import Path

from pal_eval.errors import InputError, PalEvalError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pal-eval features``."""
    sub = parser.add_subparsers(dest='features_command', metavar='ACTION', required=True)
    imp = sub.add_parser('import', help='write a published release as our feature folder',
                         description='write a published release as our feature folder')
    imp.add_argument('source', type=Path,
                     help='a config with feature_source = dict(...) (configs/_base_/features/)')
    imp.add_argument('--root', type=Path, required=True, help="the release's folder")
    imp.add_argument('--out', type=Path, required=True, help='the feature folder to write')
    imp.add_argument('--ann', type=Path, default=None,
                     help='annotations giving durations / frame rates (any format evaluate '
                          'reads); only their videos are imported')
    imp.add_argument('--subset', default=None, help='subset of --ann (default: all)')
    imp.add_argument('--durations', type=Path, default=None,
                     help="Charades-STA: Charades_v1_*.csv with each video's length")
    imp.add_argument('--force', action='store_true',
                     help='write into a non-empty --out folder')


def _timing(args: argparse.Namespace) -> dict[str, dict] | None:
    """``{video: dict(duration, fps, feature_span)}`` from ``--ann`` (None without it)."""
    if args.ann is None:
        return None
    from pal_eval.data.annotations import (
        QUERY_FORMATS,
        annotation_format,
        load_actions,
        load_queries,
    )

    if annotation_format(args.ann) in QUERY_FORMATS:
        queries = load_queries(args.ann, args.subset, durations=args.durations).queries
        return {v: dict(duration=d) for v, d in zip(queries['video_id'], queries['duration'])}
    videos = load_actions(args.ann, args.subset).videos
    return {v: dict(duration=i.duration, fps=i.fps, feature_span=i.feature_span)
            for v, i in videos.items()}


def run(args: argparse.Namespace) -> int:
    """Dispatch ``pal-eval features ACTION``."""
    from mmengine.config import Config
    from tqdm import tqdm

    from pal_eval.data.feature_sources import FeatureSource, ReleaseFeatureStore
    from pal_eval.data.features import dump_meta, write_video_features

    if not args.source.is_file():
        raise InputError(args.source, 'config not found')
    try:
        config = Config.fromfile(str(args.source))
    except Exception as exc:  # noqa: BLE001 - any error of a user's config file
        raise InputError(args.source, f'cannot read the config: {exc}') from None
    if 'feature_source' not in config:
        raise InputError(args.source, 'no feature_source = dict(...) in this config',
                         field='feature_source')
    source = FeatureSource.from_config(dict(config.feature_source), f'{args.source}')
    if source.format == 'ours':
        raise PalEvalError(f'{args.source}: format "ours" is already our folder format')
    if args.out.exists() and any(args.out.iterdir()) and not args.force:
        raise InputError(args.out, 'output folder is not empty (--force writes into it)')
    store = ReleaseFeatureStore(args.root, source)
    timing = _timing(args)
    videos = list(timing) if timing is not None else store.video_ids
    missing = [v for v in videos if v not in store]
    if timing is not None and missing:
        shown = ', '.join(map(repr, missing[:5])) + (', ...' if len(missing) > 5 else '')
        raise InputError(args.root, f'no features for {len(missing)} of {len(videos)} videos '
                         f'of {args.ann}: {shown}')
    if not videos:
        raise InputError(args.root, 'no video to import')

    def load(video_id: str):
        info = {k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in (timing or {}).get(video_id, {}).items()}
        return store.load(video_id, **info)

    load(videos[0])  # a grid that needs what nothing gives fails before anything is written
    args.out.mkdir(parents=True, exist_ok=True)
    dim = None
    for video_id in tqdm(videos, desc='importing', unit='video', disable=len(videos) < 200):
        video = load(video_id)
        dim = video.features.shape[1]
        write_video_features(args.out, video_id, video.features, video.centers,
                             duration=video.duration, fps=video.fps,
                             num_frames=None)
    grid = source.grid
    dump_meta(args.out, {
        'feature_dim': dim, 'videos_done': len(videos), 'imported_from': str(args.root),
        'feature_source': source.source,
        'sampling': {'policy': 'imported',
                     'uniform': grid.uniform, 'fps': grid.fps, 'stride': grid.stride,
                     'offset': grid.first_center, 'clip_length': grid.clip_length,
                     'sample_stride': grid.sample_stride}})
    print(f'wrote {len(videos)} videos ({dim}-d) to {args.out}')
    return 0

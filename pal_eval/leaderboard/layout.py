"""Dry-run checks: is everything a plan reads present and consistent, before anything runs?

Each check returns a list of :class:`~pal_eval.errors.InputError` (one per problem, each
naming the file, the video and the field) instead of stopping at the first one, so a user
fixes the whole layout in one go. Nothing here writes a file.

Checks:

* config files exist, and every ``--cfg-options`` key the plan sets has its parent
  section in the config (a renamed dataset field is caught here, not after pretraining);
* input data (videos folders, annotation files) exist;
* a feature folder that already exists (pre-extracted, or from an earlier run) covers
  every annotated video of the evaluated subset, has a ``meta.json``, and its features
  agree: one ``feature_dim`` across videos and with the metadata, as many centre times as
  features, increasing centre times inside the video, and the same number of features
  per video when the metadata says they were resampled to a fixed length.
"""
from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

import numpy as np
from tqdm import tqdm

from pal_eval.data.features import META_FILE, FeatureStore
from pal_eval.errors import InputError, PalEvalError
from pal_eval.leaderboard.plan import Plan

#: at most this many per-video problems are reported per folder, then a count
MAX_VIDEO_PROBLEMS = 20


def annotated_video_ids(path: str | os.PathLike, subset: str | None = None) -> list[str]:
    """Ids of the videos an annotation file annotates (in ``subset`` when given).

    Reads every format of :mod:`pal_eval.data.annotations`: ActivityNet / THUMOS14 JSON,
    THUMOS14 CSV, Charades-STA txt, ActivityNet Captions JSON, canonical grounding JSON.

    Args:
        path: The annotation file.
        subset: The split to keep (ignored by formats that have a single split).

    Returns:
        Sorted unique video ids.
    """
    from pal_eval.data.annotations import (
        QUERY_FORMATS,
        annotation_format,
        load_actions,
        load_queries,
    )
    from pal_eval.data.annotations.canonical import AnnotationWarning

    # Only the ids are needed here: the loaders' clipping warnings (float-noise overshoots
    # in real files) belong to the stages that use the segments, not to a layout check.
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', AnnotationWarning)
        if annotation_format(path) not in QUERY_FORMATS:
            return sorted(load_actions(path, subset or None).videos)
        queries = load_queries(path).queries
    # A grounding split is a file: a subset the queries do not name keeps them all.
    if subset and (queries['subset'] == subset).any():
        queries = queries[queries['subset'] == subset]
    return sorted(set(queries['video_id']))


def check_feature_folder(features: str | os.PathLike, annotations: str | os.PathLike,
                         subset: str | None = None) -> list[InputError]:
    """Problems of a feature folder against the videos an annotation file names.

    Args:
        features: A feature folder (format of :mod:`pal_eval.data.features`).
        annotations: The annotation file whose videos must all have features.
        subset: The evaluated split (``None``: every video of the file).

    Returns:
        One :class:`InputError` per problem (empty when the folder is complete and
        consistent); per-video problems are capped at :data:`MAX_VIDEO_PROBLEMS` per kind,
        followed by one line with the count of the others.

    Examples:
        >>> import tempfile, json, numpy as np
        >>> from pal_eval.data.features import write_video_features, dump_meta
        >>> root = tempfile.mkdtemp()
        >>> write_video_features(root, 'v1', np.ones((2, 3)), np.array([0.5, 1.5]),
        ...                      duration=2.0)
        >>> dump_meta(root, {'feature_dim': 3})
        >>> gt = f'{root}/gt.json'
        >>> _ = open(gt, 'w').write(json.dumps({'database': {
        ...     'v1': {'subset': 'validation', 'duration': 2.0, 'annotations': []},
        ...     'v2': {'subset': 'validation', 'duration': 2.0, 'annotations': []}}}))
        >>> [str(p).split(': ')[-1] for p in check_feature_folder(root, gt, 'validation')]
        ['annotated video has no features']
    """
    root = Path(features)
    try:
        store = FeatureStore(root)
        wanted = annotated_video_ids(annotations, subset)
    except PalEvalError as exc:
        return [exc if isinstance(exc, InputError) else InputError(root, str(exc))]
    problems: list[InputError] = []
    meta = store.meta
    if not (root / META_FILE).exists():
        problems.append(InputError(root / META_FILE, 'missing: the folder was not written by '
                                   '`pal-eval extract` (or it did not finish)'))
    available = set(store.video_ids)
    missing = [v for v in wanted if v not in available and f'v_{v}' not in available]
    problems += _capped([InputError(root, 'annotated video has no features', record=v)
                         for v in missing], root, 'annotated videos have no features')
    expected_dim = meta.get('feature_dim')
    lengths: dict[int, list[str]] = {}
    per_video: list[InputError] = []
    present = [v if v in available else f'v_{v}' for v in wanted if v not in missing]
    # Headers only (memory-mapped), but ActivityNet has ~5,000 videos: show progress.
    for video_id in tqdm(present, desc=f'checking {root.name}', unit='video', leave=False,
                         disable=len(present) < 500):
        per_video += _check_video(store, video_id, expected_dim, lengths)
        if expected_dim is None and not per_video:
            expected_dim = _shape(root / f'{video_id}.npy')[1]
    problems += _capped(per_video, root, 'more per-video problems')
    if _is_resampled(meta) and len(lengths) > 1:
        counts = ', '.join(f'{n} features: {len(ids)} videos (e.g. {ids[0]!r})'
                           for n, ids in sorted(lengths.items()))
        problems.append(InputError(root / META_FILE, 'features were resampled to a fixed '
                                   f'length but videos differ ({counts})', field='sampling'))
    return problems


def _check_video(store: FeatureStore, video_id: str, expected_dim, lengths) -> list[InputError]:
    root = store.root
    npy, side = root / f'{video_id}.npy', root / f'{video_id}.json'
    try:
        shape = _shape(npy)
    except (OSError, ValueError) as exc:
        return [InputError(npy, f'unreadable feature file ({exc})', record=video_id)]
    if len(shape) != 2:
        return [InputError(npy, f'expected a [T, C] array, got shape {shape}', record=video_id)]
    problems = []
    if expected_dim is not None and shape[1] != int(expected_dim):
        problems.append(InputError(npy, f'feature_dim {shape[1]} differs from the folder\'s '
                                   f'{int(expected_dim)}', record=video_id, field='feature_dim'))
    try:
        info = json.loads(side.read_text(encoding='utf-8'))
        centers = np.asarray(info['centers'], dtype=np.float64)
        duration = float(info['duration'])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return problems + [InputError(side, f'unreadable sidecar ({exc.__class__.__name__})',
                                      record=video_id, field='centers')]
    if len(centers) != shape[0]:
        problems.append(InputError(side, f'{len(centers)} centre times for {shape[0]} features',
                                   record=video_id, field='centers'))
    elif len(centers) and (np.any(np.diff(centers) <= 0) or centers[0] < 0
                           or centers[-1] > duration + 1e-6):
        problems.append(InputError(side, 'centre times must increase and lie within '
                                   f'[0, duration={duration:g}]', record=video_id,
                                   field='centers'))
    lengths.setdefault(int(shape[0]), []).append(video_id)
    return problems


def _shape(npy: Path) -> tuple[int, ...]:
    # Memory-mapped: only the header is read, so checking thousands of videos is cheap.
    return tuple(np.load(npy, mmap_mode='r', allow_pickle=False).shape)


def _is_resampled(meta: dict) -> bool:
    """Whether the folder's sampling gives every video the same number of features.

    ``pal-eval extract`` writes ``sampling = {policy, num_snippets, ...}``: a fixed
    ``num_snippets`` (ActivityNet convention) means a fixed length; sliding windows give
    lengths that follow the video durations.
    """
    sampling = meta.get('sampling')
    if isinstance(sampling, dict):
        return bool(sampling.get('num_snippets')) or sampling.get('policy') == 'resample'
    return isinstance(sampling, str) and sampling.lower().startswith('resample')


def _capped(problems: list[InputError], root: Path, what: str) -> list[InputError]:
    if len(problems) <= MAX_VIDEO_PROBLEMS:
        return problems
    rest = len(problems) - MAX_VIDEO_PROBLEMS
    return problems[:MAX_VIDEO_PROBLEMS] + [InputError(root, f'... and {rest} {what}')]


def check_plan(plan: Plan, *, check_configs: bool = True) -> list[InputError]:
    """Every problem of a plan's inputs, configs and existing feature folders.

    Args:
        plan: From :func:`pal_eval.leaderboard.plan.build_plan`.
        check_configs: Also parse configs (MMEngine ``Config``) to check the
            ``--cfg-options`` keys.

    Returns:
        One :class:`InputError` per problem (empty: ready to run).
    """
    problems: list[InputError] = []
    produced = {out for stage in plan.stages for out in stage.outputs}
    seen: set[str] = set()
    for stage in plan.stages:
        for config in stage.configs:
            if config in seen:
                continue
            seen.add(config)
            if not Path(config).is_file():
                problems.append(InputError(config, f'config not found (stage {stage.id})'))
            elif check_configs and stage.cfg_options:
                problems += check_config_keys(config, stage.cfg_options)
        for path in stage.inputs:
            if path and path not in produced and path not in seen:
                seen.add(path)
                if not Path(path).exists():
                    problems.append(InputError(path, f'not found (input of stage {stage.id})'))
    for features, (annotation_file, subset) in plan.annotations.items():
        if features and Path(features).exists() and Path(annotation_file).exists():
            source = _feature_source(plan.head_configs.get(features))
            if source is not None:
                problems += check_release_folder(features, source, annotation_file,
                                                 subset or None)
            else:
                problems += check_feature_folder(features, annotation_file, subset or None)
    return problems


def _feature_source(config: str | None) -> dict | None:
    """The published-release ``feature_source`` a head config reads, None for our folders."""
    if not config or not Path(config).is_file():
        return None
    from mmengine.config import Config

    try:
        cfg = Config.fromfile(str(config), import_custom_modules=False)
    except Exception:  # noqa: BLE001 - reported by the config checks
        return None
    dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    source = dataset.get('feature_source')
    if source is None or dict(source).get('format', 'ours') == 'ours':
        return None
    return dict(source)


def check_release_folder(features: str | os.PathLike, source: dict,
                         annotations: str | os.PathLike, subset: str | None = None
                         ) -> list[InputError]:
    """Problems of a published release (read in place) against an annotation file: its
    files, the annotated videos it lacks (as :func:`check_feature_folder`), one video
    readable."""
    from pal_eval.data.feature_sources import open_feature_store

    try:
        store = open_feature_store(features, source)
        wanted = annotated_video_ids(annotations, subset)
        missing = [v for v in wanted if v not in store]
        present = [v for v in wanted if v not in missing]
        if present:
            store.raw(present[0])
    except PalEvalError as exc:
        return [exc if isinstance(exc, InputError) else InputError(features, str(exc))]
    return _capped([InputError(features, 'annotated video has no features', record=v)
                    for v in missing], Path(features), 'annotated videos have no features')


def check_config_keys(config: str | os.PathLike, keys) -> list[InputError]:
    """Keys among ``keys`` (dotted ``--cfg-options`` names) whose parent is not in the config.

    The config is parsed without importing its ``custom_imports`` (nothing heavy loads).
    """
    from mmengine.config import Config

    try:
        cfg = Config.fromfile(str(config), import_custom_modules=False)
    except Exception as exc:  # noqa: BLE001 - any parse error is the user's to fix
        return [InputError(config, f'cannot parse config: {exc.__class__.__name__}: {exc}')]
    problems = []
    for key in keys:
        node = cfg
        parts = key.split('.')
        for depth, part in enumerate(parts[:-1]):
            node = node.get(part) if hasattr(node, 'get') else None
            if node is None:
                problems.append(InputError(config, f'has no section {".".join(parts[:depth + 1])!r}'
                                           ' for --cfg-options', field=key))
                break
    return problems

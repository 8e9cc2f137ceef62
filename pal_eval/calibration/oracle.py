"""Oracle features: what a perfect encoder would say, built from the annotations.

A head trained on oracle features shows how far its config can get when the features
are not the problem: the *ceiling* row of every calibrated leaderboard. The features
lie on the same time grid as a real extraction of the data set (the centre times of
an existing feature folder, or those an extraction config would produce), so the head
sees the same number of positions, the same resampling and the same seconds.

Channels of the feature at centre ``c`` whose window is ``[c - h_l, c + h_r]`` (the
halfway points to its neighbours):

* one per action class: the fraction of the window covered by instances of that class
  (overlapping instances add up, clipped to 1);
* ``foreground``: the fraction covered by any instance;
* ``word_dim`` hashed word buckets (grounding): the same coverage by every query's
  moment, added to the bucket of each word of its sentence (``zlib.crc32`` of the
  word, so the layout is identical on every machine and Python run);

then noise-only channels up to a multiple of :data:`CHANNEL_MULTIPLE` (heads group their
first convolutions by 4), plus Gaussian noise of standard deviation ``noise`` (seeded per
video) on every channel, so the features
are not exactly separable by a single threshold. Coverage is fractional, so boundaries
inside a window are visible to the head (sub-grid information a real encoder could in
principle also deliver).

The core (:func:`window_edges`, :func:`coverage`, :func:`oracle_features`) is numpy
only; :func:`write_oracle_folder` writes the ``pal-eval extract`` folder format
(:mod:`pal_eval.data.features`) with its ``meta.json``.
"""
from __future__ import annotations

import os
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pal_eval.core.tiou import coverage
from pal_eval.errors import InputError

__all__ = ['VideoGrid', 'window_edges', 'coverage', 'word_bucket', 'oracle_features',
           'grids_like', 'grids_from_extract_config', 'probe_videos',
           'write_oracle_folder']

#: default number of hashed word buckets of grounding oracles
DEFAULT_WORD_DIM = 32
#: default standard deviation of the noise added to every channel
DEFAULT_NOISE = 0.1
#: the feature dimension is padded (noise-only channels) to a multiple of this
CHANNEL_MULTIPLE = 8


@dataclass(frozen=True)
class VideoGrid:
    """The feature time grid of one video (what a feature sidecar holds)."""

    centers: np.ndarray  # [T] seconds, increasing
    duration: float
    fps: float | None = None
    num_frames: int | None = None


def window_edges(centers: np.ndarray, duration: float) -> tuple[np.ndarray, np.ndarray]:
    """Start and end (seconds) of each feature's window: halfway to its neighbours.

    The first window starts as far before its centre as the second centre is after it
    (likewise at the end), clipped to ``[0, duration]``.

    Examples:
        >>> lo, hi = window_edges(np.array([0.5, 1.5, 2.5]), 3.0)
        >>> lo.tolist(), hi.tolist()
        ([0.0, 1.0, 2.0], [1.0, 2.0, 3.0])
    """
    centers = np.asarray(centers, dtype=np.float64).reshape(-1)
    if len(centers) == 1:
        return np.array([0.0]), np.array([float(duration)])
    middle = (centers[1:] + centers[:-1]) / 2
    first = centers[0] - (middle[0] - centers[0])
    last = centers[-1] + (centers[-1] - middle[-1])
    starts = np.concatenate([[first], middle]).clip(0.0, duration)
    ends = np.concatenate([middle, [last]]).clip(0.0, duration)
    return starts, ends


def word_bucket(word: str, word_dim: int) -> int:
    """Bucket of a word: ``crc32(word) mod word_dim`` (stable across machines and runs).

    Examples:
        >>> word_bucket('red', 32) == word_bucket('red', 32)
        True
    """
    return zlib.crc32(word.encode('utf-8')) % int(word_dim)


def oracle_features(grid: VideoGrid, *, segments: np.ndarray | None = None,
                    labels: Sequence[str] = (), taxonomy: Sequence[str] = (),
                    moments: np.ndarray | None = None, sentences: Sequence[str] = (),
                    word_dim: int = 0, noise: float = DEFAULT_NOISE,
                    rng: np.random.Generator | None = None) -> np.ndarray:
    """Oracle features of one video (channels in the module docstring).

    Args:
        grid: The video's feature time grid.
        segments: ``[M, 2]`` action instances (seconds); ``None`` for no action channels.
        labels: Class of each instance.
        taxonomy: Class names: one channel each, in this order.
        moments: ``[Q, 2]`` grounding moments (seconds); ``None`` for no word channels.
        sentences: Sentence of each moment.
        word_dim: Hashed word buckets (0: no word channels).
        noise: Standard deviation of the added Gaussian noise.
        rng: Noise generator (default: seeded with 0).

    Returns:
        ``[T, D]`` float32, ``D`` = ``len(taxonomy) + 1 + word_dim`` rounded up to a
        multiple of :data:`CHANNEL_MULTIPLE` (the class and foreground channels only
        when ``taxonomy`` is given).

    Examples:
        >>> grid = VideoGrid(np.array([0.5, 1.5, 2.5, 3.5]), 4.0)
        >>> f = oracle_features(grid, segments=np.array([[1.0, 3.0]]), labels=['a'],
        ...                     taxonomy=['a', 'b'], noise=0.0)
        >>> f[:, 0].tolist(), f[:, 2].tolist()   # class 'a', foreground
        ([0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 1.0, 0.0])
    """
    from heads.tan2d import tokenize  # the tokenizer of the grounding head, one for all

    starts, ends = window_edges(grid.centers, grid.duration)
    parts = []
    if len(taxonomy):
        column = {name: i for i, name in enumerate(taxonomy)}
        segments = np.zeros((0, 2)) if segments is None else np.asarray(segments, np.float64)
        cover = coverage(starts, ends, segments)                       # [T, M]
        classes = np.zeros((len(starts), len(taxonomy)))
        for m, label in enumerate(labels):
            if label not in column:
                raise InputError('<oracle>', f'label {label!r} is not in the taxonomy',
                                 field='label')
            classes[:, column[label]] += cover[:, m]
        foreground = _union_coverage(starts, ends, segments)
        parts += [classes.clip(0.0, 1.0), foreground[:, None]]
    if word_dim:
        moments = np.zeros((0, 2)) if moments is None else np.asarray(moments, np.float64)
        cover = coverage(starts, ends, moments)                          # [T, Q]
        words = np.zeros((len(starts), int(word_dim)))
        for q, sentence in enumerate(sentences):
            for bucket in {word_bucket(w, word_dim) for w in tokenize(sentence)}:
                words[:, bucket] += cover[:, q]
        parts.append(words.clip(0.0, 1.0))
    if not parts:
        raise ValueError('oracle features need a taxonomy or word_dim > 0')
    features = np.concatenate(parts, axis=1)
    # Heads group their first convolutions by 4 (BMN, G-TAD): pad to a multiple of 8.
    padding = -features.shape[1] % CHANNEL_MULTIPLE
    features = np.concatenate([features, np.zeros((len(features), padding))], axis=1)
    rng = rng or np.random.default_rng(0)
    if noise:
        features = features + rng.normal(0.0, noise, size=features.shape)
    return features.astype(np.float32)


def _union_coverage(starts: np.ndarray, ends: np.ndarray, segments: np.ndarray) -> np.ndarray:
    """Fraction of each window covered by the union of the segments (overlaps once)."""
    if len(segments) == 0:
        return np.zeros(len(starts))
    order = np.argsort(segments[:, 0], kind='stable')
    merged: list[list[float]] = []
    for start, end in segments[order]:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return coverage(starts, ends, np.asarray(merged)).sum(axis=1).clip(0.0, 1.0)


# ----------------------------------------------------------------------- time grids
def grids_like(feature_dir: str | os.PathLike) -> dict[str, VideoGrid]:
    """The time grid of every video of an existing feature folder (``pal-eval extract``)."""
    from pal_eval.data.features import FeatureStore
    from pal_eval.io import read_json

    store = FeatureStore(feature_dir)
    grids = {}
    for video_id in store.video_ids:
        side = read_json(store.root / f'{video_id}.json')
        grids[video_id] = VideoGrid(np.asarray(side['centers'], np.float64),
                                    float(side['duration']), side.get('fps'),
                                    side.get('num_frames'))
    if not grids:
        raise InputError(feature_dir, 'no complete video in the feature folder')
    return grids


def grids_from_extract_config(config: str | os.PathLike,
                              videos: Mapping[str, VideoGrid]
                              ) -> tuple[dict[str, VideoGrid], dict]:
    """The grids an extraction config would give each video.

    Clip length and frame interval come from the config's ``encoder`` overrides, else
    from its ``random_init`` section (the random-init encoder's settings). Sliding clips
    need each video's ``num_frames`` and ``fps`` (:func:`probe_videos` reads them as
    the extraction does); the ActivityNet convention (``num_snippets``) needs only the
    duration.

    Args:
        config: An extraction config (``configs/extraction/*.py``).
        videos: Video id -> a :class:`VideoGrid` holding at least ``duration`` (and
            ``fps`` / ``num_frames`` for sliding clips); its ``centers`` are ignored.

    Returns:
        ``(grids, sampling)``: the grids and the sampling policy as a dict (for meta.json).

    Raises:
        InputError: a clip setting missing from the config, or a video without frame
            count and fps under a sliding policy.
    """
    from pal_eval.core.time_grid import uniform_centers
    from pal_eval.extraction.encoder import clip_settings_from_config, load_config
    from pal_eval.extraction.equal_features import plan_centers  # the extractor's own grid

    cfg = load_config(config)
    random_init = dict(cfg.get('random_init') or {})
    settings = clip_settings_from_config(cfg, {**random_init, 'input_size': 1},
                                         config_path=config)
    policy = settings.policy
    grids = {}
    for video_id, video in videos.items():
        if policy.num_snippets is not None:
            grids[video_id] = VideoGrid(uniform_centers(video.duration, policy.num_snippets),
                                        float(video.duration), video.fps, video.num_frames)
            continue
        if not (video.fps and video.num_frames):
            raise InputError(config, 'a sliding-clip grid needs each video\'s frame count '
                             'and fps (give the videos, or --like FEATURE_DIR)',
                             record=video_id)
        grids[video_id] = VideoGrid(plan_centers(video.num_frames, video.fps, policy),
                                    video.num_frames / video.fps, float(video.fps),
                                    int(video.num_frames))
    return grids, policy.to_dict()


def probe_videos(videos_dir: str | os.PathLike, video_ids: Sequence[str] | None = None
                 ) -> dict[str, VideoGrid]:
    """Frame count, fps and duration of each video of a folder (as ``pal-eval extract``).

    Args:
        videos_dir: A folder of videos, or a list file (:func:`list_videos`).
        video_ids: Only these ids (default: every video).

    Returns:
        Video id -> :class:`VideoGrid` without centre times.
    """
    from pal_eval.data.video_io import probe_video
    from pal_eval.extraction.folder import list_videos

    wanted = None if video_ids is None else set(video_ids)
    grids = {}
    for entry in list_videos(videos_dir):
        if wanted is not None and entry.video_id not in wanted:
            continue
        info = probe_video(entry.path)
        grids[entry.video_id] = VideoGrid(np.zeros(0), info['duration'], info['fps'],
                                          info['num_frames'])
    return grids


# ------------------------------------------------------------------------- writing
def write_oracle_folder(out: str | os.PathLike, grids: Mapping[str, VideoGrid], *,
                        actions=None, grounding: Sequence = (), word_dim: int | None = None,
                        noise: float = DEFAULT_NOISE, seed: int = 0,
                        sampling: dict | None = None, sources: Sequence[str] = (),
                        overwrite: bool = False) -> dict:
    """Write oracle features for every video of ``grids`` in the ``pal-eval extract`` format.

    Args:
        out: Output folder (refused when it holds features, unless ``overwrite``).
        grids: Video id -> its time grid; every video gets a file, annotated or not.
        actions: :class:`~pal_eval.data.annotations.ActionAnnotations` (all subsets):
            class and foreground channels.
        grounding: :class:`~pal_eval.data.annotations.GroundingAnnotations` objects
            (train and test files, say): word channels.
        word_dim: Word buckets (default :data:`DEFAULT_WORD_DIM` when ``grounding``
            is given, else 0).
        noise: Noise standard deviation.
        seed: Noise seed (each video draws from ``[seed, crc32(video id)]``).
        sampling: The grid's sampling policy (recorded in meta.json).
        sources: Annotation files used (recorded).
        overwrite: Replace an existing feature folder.

    Returns:
        The meta.json written.
    """
    import pandas as pd

    from pal_eval.data.features import META_FILE, dump_meta, write_video_features

    out = Path(out)
    if out.is_dir() and any(out.glob('*.npy')) and not overwrite:
        raise InputError(out, 'already holds features; pass --overwrite to replace them')
    if overwrite and out.is_dir():
        for npy in out.glob('*.npy'):
            npy.unlink()
            npy.with_suffix('.json').unlink(missing_ok=True)
        (out / META_FILE).unlink(missing_ok=True)
    taxonomy = list(actions.taxonomy) if actions is not None else []
    if word_dim is None:
        word_dim = DEFAULT_WORD_DIM if grounding else 0
    queries = (pd.concat([g.queries for g in grounding], ignore_index=True)
               if grounding else None)
    by_video_actions = ({v: g for v, g in actions.instances.groupby('video_id', sort=False)}
                        if actions is not None else {})
    by_video_queries = ({v: g for v, g in queries.groupby('video_id', sort=False)}
                        if queries is not None else {})
    out.mkdir(parents=True, exist_ok=True)
    feature_dim = None
    for video_id, grid in sorted(grids.items()):
        instances = by_video_actions.get(video_id)
        moments = by_video_queries.get(video_id)
        features = oracle_features(
            grid,
            segments=None if instances is None else
            instances[['t_start', 't_end']].to_numpy(np.float64),
            labels=[] if instances is None else instances['label'].tolist(),
            taxonomy=taxonomy,
            moments=None if moments is None else
            moments[['t_start', 't_end']].to_numpy(np.float64),
            sentences=[] if moments is None else moments['sentence'].tolist(),
            word_dim=word_dim, noise=noise,
            rng=np.random.default_rng([int(seed), zlib.crc32(video_id.encode('utf-8'))]))
        feature_dim = features.shape[1]
        write_video_features(out, video_id, features, grid.centers, duration=grid.duration,
                             fps=grid.fps, num_frames=grid.num_frames)
    channels = ([f'class:{name}' for name in taxonomy] + (['foreground'] if taxonomy else [])
                + [f'word_bucket:{i}' for i in range(word_dim)])
    channels += ['padding'] * (int(feature_dim or 0) - len(channels))
    meta = {
        'format_version': 1, 'encoder': 'oracle', 'checkpoint': 'oracle',
        'checkpoint_sha256': None, 'pretext': 'oracle', 'backbone_cfg': None,
        'fps': (sampling or {}).get('target_fps'),
        'frames_per_clip': (sampling or {}).get('frames_per_clip'),
        'frame_interval': (sampling or {}).get('frame_interval'),
        'stride': (sampling or {}).get('stride'), 'input_size': None, 'mean': None,
        'std': None, 'feature_dim': int(feature_dim or len(channels)),
        'sampling': sampling or {'policy': 'like another feature folder'},
        'pooling': 'oracle: coverage of each feature window by the annotations',
        'dtype': 'float32',
        'oracle': {'channels': channels, 'noise': float(noise), 'seed': int(seed),
                   'word_dim': int(word_dim), 'sources': [str(s) for s in sources]},
        'videos_expected': sorted(grids), 'videos_done': sorted(grids),
    }
    dump_meta(out, meta)
    return meta

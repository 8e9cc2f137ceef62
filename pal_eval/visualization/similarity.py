"""Clip-to-clip similarity maps under temporal transformations (PAL supplementary Figs 1-4).

The PAL paper shows that localization-aware features keep an action instance recognisable
after it is moved along the time axis or played faster/slower, while staying distinct from
the surrounding background. The recipe:

1. take one ground-truth action instance of a video;
2. build a transformed video by re-indexing its frames (:func:`transform_frame_indices`):
   ``shift`` moves the instance by ``amount`` seconds (the background closes around it);
   ``speed`` resamples the instance by ``amount`` (``0.5``: down-sampled, played twice as
   fast, half as long; ``2``: up-sampled, twice as long);
3. extract clip features of the original and of the transformed video with each encoder;
4. draw the cosine-similarity map original x transformed, the ground-truth extents as bars;
5. score each map with :func:`localization_score`: mean similarity between action clips
   minus mean similarity between action and background clips (higher: features that
   separate the action from its context, i.e. more localization-aware).

Features are **standardised** (per channel, zero mean and unit variance over the feature
set at hand) before any cosine: pooled ReLU features are non-negative and share a large
common mean, so their raw cosines are all close to 1 and a score built on them measures
the encoder's anisotropy rather than how actions differ from their background (issue 14:
the raw score ranked random init, PAL and MoCo-v2 opposite to the linear probe). The
project's reported feature measure is the linear probe (:mod:`pal_eval.extraction.probe`);
this score is a picture's caption.

The functional core here (frame indices, similarity, score) is numpy only; the plotting
uses matplotlib's Agg backend.
"""
from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: The transformations drawn by default: (name, kind, amount).
DEFAULT_TRANSFORMS: tuple[tuple[str, str, float], ...] = (
    ('shift forward', 'shift', 2.0),
    ('shift backward', 'shift', -2.0),
    ('down-sample x2', 'speed', 0.5),
    ('up-sample x2', 'speed', 2.0),
)


def transform_frame_indices(num_frames: int, start: int, end: int, kind: str,
                            amount: float) -> tuple[np.ndarray, int, int]:
    """Frame indices of a video whose action frames ``[start, end)`` are moved or resampled.

    Args:
        num_frames: Frames of the original video.
        start: First action frame.
        end: One past the last action frame.
        kind: ``'shift'`` (``amount`` frames, positive = later) or ``'speed'`` (the action
            lasts ``amount`` times as long; frames are dropped or repeated).
        amount: See ``kind``.

    Returns:
        ``(indices into the original frames, new start, new end)``.

    Examples:
        >>> transform_frame_indices(8, 2, 4, 'shift', 3)[0].tolist()
        [0, 1, 4, 5, 6, 2, 3, 7]
        >>> transform_frame_indices(8, 2, 4, 'speed', 2.0)
        (array([0, 1, 2, 2, 3, 3, 4, 5, 6, 7]), 2, 6)
    """
    if not 0 <= start < end <= num_frames:
        raise ValueError(f'action frames [{start}, {end}) outside the video (0, {num_frames})')
    frames = np.arange(num_frames)
    action = frames[start:end]
    background = np.concatenate([frames[:start], frames[end:]])
    if kind == 'shift':
        new_start = int(np.clip(start + round(amount), 0, len(background)))
        indices = np.concatenate([background[:new_start], action, background[new_start:]])
        return indices, new_start, new_start + len(action)
    if kind == 'speed':
        if amount <= 0:
            raise ValueError(f'speed factor must be positive, got {amount}')
        length = max(1, round(len(action) * amount))
        resampled = action[np.minimum((np.arange(length) / amount).astype(int), len(action) - 1)]
        indices = np.concatenate([frames[:start], resampled, frames[end:]])
        return indices, start, start + length
    raise ValueError(f"kind must be 'shift' or 'speed', got {kind!r}")


def cosine_similarity_matrix(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Cosine similarity of each row of ``rows`` ``[N, C]`` with each row of ``cols`` ``[M, C]``.

    Examples:
        >>> cosine_similarity_matrix(np.array([[1.0, 0.0]]), np.array([[2.0, 0.0], [0.0, 1.0]]))
        array([[1., 0.]])
    """
    from sklearn.metrics.pairwise import cosine_similarity

    return cosine_similarity(np.asarray(rows, np.float64), np.asarray(cols, np.float64))


def standardise(features: np.ndarray, reference: np.ndarray | None = None) -> np.ndarray:
    """Per-channel z-scores of ``features`` with the mean and std of ``reference``.

    Args:
        features: ``[N, C]``.
        reference: ``[M, C]`` features the statistics come from (default: ``features``).
            Constant channels are only centred.

    Examples:
        >>> standardise(np.array([[1.0, 5.0], [3.0, 5.0]])).tolist()
        [[-1.0, 0.0], [1.0, 0.0]]
    """
    features = np.asarray(features, np.float64)
    reference = features if reference is None else np.asarray(reference, np.float64)
    mean, std = reference.mean(axis=0), reference.std(axis=0)
    return (features - mean) / np.where(std > 0, std, 1.0)


def inside(centers: np.ndarray, t_start: float, t_end: float) -> np.ndarray:
    """Mask of the features whose centre time lies in ``[t_start, t_end]``."""
    centers = np.asarray(centers)
    return (centers >= t_start) & (centers <= t_end)


def localization_score(similarity: np.ndarray, rows_in_action: np.ndarray,
                       cols_in_action: np.ndarray) -> float:
    """Mean similarity inside the action minus mean similarity between action and background.

    Args:
        similarity: ``[N, M]`` map, rows = original clips, columns = transformed clips.
        rows_in_action: ``[N]`` mask of original clips inside the action.
        cols_in_action: ``[M]`` mask of transformed clips inside the action.

    Returns:
        The score (``nan`` when the action or its background has no clip).

    Examples:
        >>> sim = np.array([[1.0, 0.2], [0.2, 1.0]])
        >>> round(localization_score(sim, np.array([True, False]), np.array([True, False])), 6)
        0.8
    """
    rows_in = np.asarray(rows_in_action, bool)
    cols_in = np.asarray(cols_in_action, bool)
    action = similarity[np.ix_(rows_in, cols_in)]
    cross = np.concatenate([similarity[np.ix_(rows_in, ~cols_in)].ravel(),
                            similarity[np.ix_(~rows_in, cols_in)].ravel()])
    if action.size == 0 or cross.size == 0:
        return math.nan
    return float(action.mean() - cross.mean())


@dataclass
class SimilarityMap:
    """One panel: an encoder's similarity map under one transformation."""

    encoder: str
    transform: str
    similarity: np.ndarray      # [N original clips, M transformed clips]
    row_centers: np.ndarray     # seconds
    col_centers: np.ndarray     # seconds
    row_action: tuple[float, float]
    col_action: tuple[float, float]
    score: float


def similarity_map(encoder: str, transform: str, original: np.ndarray,
                   original_centers: np.ndarray, original_action: tuple[float, float],
                   transformed: np.ndarray, transformed_centers: np.ndarray,
                   transformed_action: tuple[float, float]) -> SimilarityMap:
    """Build one :class:`SimilarityMap` (similarity and score) from two feature sequences,
    both standardised with the statistics of the two together (module docstring)."""
    both = np.concatenate([original, transformed])
    sim = cosine_similarity_matrix(standardise(original, both), standardise(transformed, both))
    score = localization_score(sim, inside(original_centers, *original_action),
                               inside(transformed_centers, *transformed_action))
    return SimilarityMap(encoder, transform, sim, np.asarray(original_centers),
                         np.asarray(transformed_centers), tuple(original_action),
                         tuple(transformed_action), score)


def plot_similarity_maps(maps: Sequence[SimilarityMap], out: str | os.PathLike, *,
                         title: str | None = None, shared_scale: bool = True) -> None:
    """Draw the maps as a grid (one row per encoder, one column per transformation).

    Each panel shows the original video's clips on the vertical axis and the transformed
    video's on the horizontal one, with the ground-truth extents as red bars along both axes
    and dashed lines, and the localization score in its title. Written atomically.

    Args:
        maps: The panels.
        out: Figure file (png/pdf/svg by suffix).
        title: Figure title.
        shared_scale: One colour scale (and one colour bar) for every panel, so encoders
            compare at a glance: an encoder whose clips are all alike (cosine ~1 everywhere,
            e.g. random init) then looks flat, as it is. ``False``: each panel spans its own
            range, to see the structure inside such a map.
    """
    import matplotlib

    matplotlib.use('Agg')
    import io

    import matplotlib.pyplot as plt
    from matplotlib import transforms as mtransforms

    from pal_eval.io import atomic_write
    from pal_eval.visualization.metric_plots import figure_format

    encoders = list(dict.fromkeys(m.encoder for m in maps))
    columns = list(dict.fromkeys(m.transform for m in maps))
    fig, axes = plt.subplots(len(encoders), len(columns), squeeze=False, layout='constrained',
                             figsize=(3.2 * len(columns) + (0.8 if shared_scale else 0),
                                      3.2 * len(encoders)))
    low = min(float(m.similarity.min()) for m in maps)
    high = max(float(m.similarity.max()) for m in maps)
    for panel in maps:
        ax = axes[encoders.index(panel.encoder), columns.index(panel.transform)]
        x_edges = _edges(panel.col_centers)
        y_edges = _edges(panel.row_centers)
        vmin, vmax = ((low, high) if shared_scale else
                      (float(panel.similarity.min()), float(panel.similarity.max())))
        image = ax.pcolormesh(x_edges, y_edges, panel.similarity, cmap='viridis',
                              vmin=vmin, vmax=vmax)
        for value in panel.col_action:
            ax.axvline(value, color='red', ls='--', lw=0.8)
        for value in panel.row_action:
            ax.axhline(value, color='red', ls='--', lw=0.8)
        below = mtransforms.blended_transform_factory(ax.transData, ax.transAxes)
        left = mtransforms.blended_transform_factory(ax.transAxes, ax.transData)
        ax.plot(panel.col_action, [-0.04, -0.04], transform=below, color='red', lw=5,
                clip_on=False, solid_capstyle='butt')
        ax.plot([-0.04, -0.04], panel.row_action, transform=left, color='red', lw=5,
                clip_on=False, solid_capstyle='butt')
        ax.set_title(f'{panel.encoder}\n{panel.transform}: score {panel.score:+.3f}', fontsize=9)
        ax.set_xlabel('transformed video (s)', fontsize=8)
        ax.set_ylabel('original video (s)', fontsize=8)
        ax.tick_params(labelsize=8)
        if not shared_scale:
            fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04).ax.tick_params(labelsize=8)
    if shared_scale:
        bar = fig.colorbar(image, ax=axes.ravel().tolist(), fraction=0.03, pad=0.02)
        bar.set_label('cosine similarity (one scale for all panels)', fontsize=8)
        bar.ax.tick_params(labelsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    image = io.BytesIO()   # rendered first: a failed drawing leaves no half-written file
    fig.savefig(image, format=figure_format(out), dpi=120)
    plt.close(fig)
    with atomic_write(out, 'wb') as handle:
        handle.write(image.getvalue())


def _edges(centers: np.ndarray) -> np.ndarray:
    """Cell edges around increasing centre times (for ``pcolormesh``)."""
    centers = np.asarray(centers, dtype=float)
    if len(centers) == 1:
        return np.array([centers[0] - 0.5, centers[0] + 0.5])
    middle = (centers[1:] + centers[:-1]) / 2
    return np.concatenate([[2 * centers[0] - middle[0]], middle, [2 * centers[-1] - middle[-1]]])


def mean_localization_score(store, instances) -> float:
    """Mean :func:`localization_score` of every instance on its video's own features.

    The self-similarity map of a video's clip features (no transformation), with the
    instance's clips as "action" and every other clip of the video as background: a
    feature-level measure of how distinct actions are from their surroundings, averaged
    over a whole annotation set (instances without action or background clips skipped).
    Features are standardised with the statistics of all the scored videos' features.

    Args:
        store: A :class:`pal_eval.data.features.FeatureStore`.
        instances: Annotation instances (``video_id``, ``t_start``, ``t_end``).

    Returns:
        The mean score (``nan`` when no instance could be scored).
    """
    videos = {video_id: store.load(video_id) for video_id in instances['video_id'].unique()
              if video_id in store}
    if not videos:
        return math.nan
    reference = np.concatenate([video.features for video in videos.values()])
    scores = []
    for video_id, group in instances.groupby('video_id', sort=False):
        if video_id not in videos:
            continue
        video = videos[video_id]
        features = standardise(video.features, reference)
        similarity = cosine_similarity_matrix(features, features)
        for t_start, t_end in zip(group['t_start'], group['t_end']):
            mask = inside(video.centers, t_start, t_end)
            scores.append(localization_score(similarity, mask, mask))
    scores = [s for s in scores if not math.isnan(s)]
    return float(np.mean(scores)) if scores else math.nan

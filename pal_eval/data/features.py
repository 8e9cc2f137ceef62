"""The extracted-feature folder format: one writer, one reader, used by every stage.

Layout of a feature folder::

    <dir>/meta.json             settings shared by all videos (encoder, checkpoint sha256,
                                pretext, fps, frames per clip, frame interval, stride,
                                input size, feature_dim, sampling policy, versions, videos done)
    <dir>/<video_id>.npy        float array [T, C]: one feature per row
    <dir>/<video_id>.json       {"centers": [T floats, seconds], "duration": s, "fps": f,
                                 "num_frames": n}: written after the .npy, so its presence
                                marks the video complete

Every head derives its time grid from ``centers`` (the centre time of each feature's
receptive field) instead of hand-set config numbers.
"""
from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pal_eval.errors import InputError
from pal_eval.io import atomic_write, read_json, write_json

META_FILE = 'meta.json'
_UNSAFE_ID = re.compile(r'[/\\\x00]')


def check_video_id(video_id: str) -> str:
    """Return ``video_id`` if it is safe as a file name, else raise ``InputError``.

    Ids with path separators, NUL, ``..``, a leading dot, or empty ids are refused, so
    nothing is ever written outside the output folder.
    """
    if (not isinstance(video_id, str) or not video_id or _UNSAFE_ID.search(video_id)
            or video_id in ('.', '..') or video_id.startswith('.') or '..' in video_id):
        raise InputError('<video list>', 'unsafe video id (path separator, ".." or empty)',
                         record=str(video_id), field='video_id')
    return video_id


@dataclass(frozen=True)
class VideoFeatures:
    """Features of one video and the centre time (seconds) of each feature."""

    video_id: str
    features: np.ndarray  # [T, C]
    centers: np.ndarray   # [T], float64 seconds
    duration: float
    fps: float | None = None


def write_video_features(out_dir: str | os.PathLike, video_id: str, features: np.ndarray,
                         centers: np.ndarray, *, duration: float, fps: float | None = None,
                         num_frames: int | None = None) -> None:
    """Atomically write one video's features and its sidecar (sidecar last)."""
    check_video_id(video_id)
    features = np.asarray(features)
    centers = np.asarray(centers, dtype=np.float64)
    if features.ndim != 2 or len(features) != len(centers):
        raise ValueError(f'features {features.shape} and centers {centers.shape} disagree')
    out_dir = Path(out_dir)
    with atomic_write(out_dir / f'{video_id}.npy', 'wb') as handle:
        np.save(handle, features)
    write_json(out_dir / f'{video_id}.json',
               {'centers': centers.tolist(), 'duration': float(duration),
                'fps': None if fps is None else float(fps), 'num_frames': num_frames},
               indent=None)


class FeatureStore:
    """Read a feature folder written by ``pal-eval extract``.

    Args:
        root: The feature folder.

    Examples:
        >>> import tempfile, numpy as np
        >>> root = tempfile.mkdtemp()
        >>> write_video_features(root, 'v1', np.ones((4, 2), np.float32),
        ...                      np.array([0.5, 1.5, 2.5, 3.5]), duration=4.0)
        >>> store = FeatureStore(root)
        >>> store.video_ids, store.load('v1').features.shape
        (['v1'], (4, 2))
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        if not self.root.is_dir():
            raise InputError(self.root, 'feature folder not found')
        meta_path = self.root / META_FILE
        self.meta: dict = read_json(meta_path) if meta_path.exists() else {}

    @property
    def video_ids(self) -> list[str]:
        """Ids of the complete videos (those with both the ``.npy`` and its sidecar)."""
        return sorted(p.stem for p in self.root.glob('*.json')
                      if p.name != META_FILE and (self.root / f'{p.stem}.npy').exists())

    def __contains__(self, video_id: str) -> bool:
        return ((self.root / f'{video_id}.json').exists()
                and (self.root / f'{video_id}.npy').exists())

    def load(self, video_id: str, *, duration: float | None = None, fps: float | None = None,
             feature_span: float | None = None) -> VideoFeatures:
        """Load one video's features and centre times.

        The keyword arguments (what annotations know of the video) are those of
        :meth:`pal_eval.data.feature_sources.ReleaseFeatureStore.load`; the sidecar written
        at extraction already holds the centre times, so they are not needed here.
        """
        check_video_id(video_id)
        npy, side = self.root / f'{video_id}.npy', self.root / f'{video_id}.json'
        if not side.exists() or not npy.exists():
            raise InputError(self.root, 'no features for this video', record=video_id)
        info = read_json(side)
        try:
            features = np.load(npy, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise InputError(npy, f'unreadable feature file: {exc}') from None
        centers = np.asarray(info.get('centers', []), dtype=np.float64)
        if features.ndim != 2 or len(features) != len(centers):
            raise InputError(side, f'{len(centers)} centre times for features of shape '
                             f'{features.shape}', record=video_id, field='centers')
        return VideoFeatures(video_id, features, centers, float(info['duration']), info.get('fps'))

    @property
    def feature_dim(self) -> int | None:
        """Feature dimension from the metadata (or the first video)."""
        if 'feature_dim' in self.meta:
            return int(self.meta['feature_dim'])
        ids = self.video_ids
        return int(self.load(ids[0]).features.shape[1]) if ids else None


def dump_meta(root: str | os.PathLike, meta: dict) -> None:
    """Atomically write ``meta.json`` of a feature folder."""
    write_json(Path(root) / META_FILE, json.loads(json.dumps(meta)))

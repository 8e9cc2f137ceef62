"""Published feature releases read as shipped: a feature source declared as data.

A :class:`FeatureSource` says how a release lays out its features and what time each
feature stands for, in the spirit of OpenTAD's dataset configs (``feat_format``,
``prefix``/``suffix``, ``feature_stride``, ``sample_stride``, ``offset_frames``); the
shipped ``configs/_base_/features/*.py`` declare the public releases. The feature
datasets and ``pal-eval features import`` read a release through
:func:`open_feature_store`, which returns a store with the interface of
:class:`pal_eval.data.features.FeatureStore` (``video_ids``, ``in``, ``load``,
``feature_dim``): no conversion step is needed.

Declaration (a dict in a config, or keyword arguments)::

    feature_source = dict(
        format='hdf5',                        # ours | csv | npy | npz | hdf5
        streams=[['flow_val.h5', 'flow_test.h5'],   # concatenated along channels in this
                 ['rgb_val.h5', 'rgb_test.h5']],    # order; a stream's files are searched
        key='{video_id}',                     # hdf5 dataset path / npz array name
        id_prefix='', id_suffix='',           # file key = prefix + annotation id + suffix
        grid=dict(fps=None, stride=1, offset=0, clip_length=1, sample_stride=5),
        video_info=['val_Annotation.csv'],    # per-video fps / durations (optional)
        source='where the layout and the grid were read')

* ``streams``: per-video formats (csv, npy, npz) give a file pattern with ``{video_id}``
  per stream (``'csv_mean_100/{video_id}.csv'``); hdf5 gives one file or a list of files
  per stream (a release split into train/valid/test files). Streams of different lengths
  are cut to the shortest (what G-TAD's THUMOS14 loader does with flow and RGB).
* ``grid``: either ``dict(uniform=True)``: ``T`` equal bins over the video (the
  pre-resampled ActivityNet releases and 2D-TAN's loaders), spanning the annotation's
  ``feature_span`` (mmaction2's ``feature_frame / duration_frame * duration_second``)
  when it has one, else its duration; or frame-strided: row ``r`` of the file is centred
  on frame ``offset + r * stride`` at ``fps`` (:func:`~pal_eval.core.time_grid.
  strided_centers`), ``offset`` defaulting to half a ``clip_length``;
  ``sample_stride`` keeps every k-th row. ``fps=None`` takes each video's frame rate
  from its annotations (the dataset's file, then ``video_info``).
* Ids: ``{video_id}`` is the annotation id with ``id_prefix`` / ``id_suffix``; when that
  key is absent the ``v_`` prefix is added or stripped, as ``pal-eval evaluate`` does
  (ActivityNet ids are written both ways).
* Durations: an annotation's duration comes first; without one, a frame-strided grid
  ends with the last feature's window (``(offset - clip_length / 2 + (R - 1) * stride +
  clip_length) / fps`` for ``R`` rows); a uniform grid cannot know it and says so.
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pal_eval.core.time_grid import strided_centers, uniform_centers
from pal_eval.data.features import FeatureStore, VideoFeatures, check_video_id
from pal_eval.errors import InputError, PalEvalError

__all__ = ['FORMATS', 'TimeGrid', 'FeatureSource', 'ReleaseFeatureStore',
           'open_feature_store', 'VideoTiming']

#: ``ours``: the folder ``pal-eval extract`` writes (``<id>.npy`` + ``<id>.json``).
FORMATS = ('ours', 'csv', 'npy', 'npz', 'hdf5')
_GRID_KEYS = ('uniform', 'fps', 'stride', 'offset', 'clip_length', 'sample_stride')
_SOURCE_KEYS = ('format', 'streams', 'key', 'id_prefix', 'id_suffix', 'grid', 'video_info',
                'source')


@dataclass(frozen=True)
class VideoTiming:
    """What the annotations know of one video's time line (``None``: unknown)."""

    duration: float | None = None
    fps: float | None = None
    feature_span: float | None = None

    @staticmethod
    def known(value: Any) -> float | None:
        """``value`` as a positive finite float, else ``None`` (NaN = not in the file)."""
        if value is None:
            return None
        value = float(value)
        return value if math.isfinite(value) and value > 0 else None


@dataclass(frozen=True)
class TimeGrid:
    """The time each feature row stands for (see the module docstring).

    Examples:
        >>> TimeGrid(fps=15.0, stride=16, clip_length=16).centers(3).tolist()
        [0.5333333333333333, 1.6, 2.6666666666666665]
        >>> TimeGrid(uniform=True).centers(4, duration=8.0).tolist()
        [1.0, 3.0, 5.0, 7.0]
    """

    uniform: bool = False
    fps: float | None = None
    stride: float = 1.0
    offset: float | None = None
    clip_length: float = 1.0
    sample_stride: int = 1

    @classmethod
    def from_config(cls, config: Mapping | TimeGrid, where: str) -> TimeGrid:
        if isinstance(config, TimeGrid):
            return config
        if not isinstance(config, Mapping):
            raise PalEvalError(f'{where}: grid must be a dict, got {type(config).__name__}')
        _check_keys(config, _GRID_KEYS, f'{where}.grid')
        grid = cls(**dict(config))
        if grid.uniform and any(k in config for k in ('fps', 'stride', 'offset')):
            raise PalEvalError(f'{where}.grid: uniform=True takes no fps / stride / offset')
        for name in ('stride', 'clip_length'):
            if not float(getattr(grid, name)) > 0:
                raise PalEvalError(f'{where}.grid.{name} must be > 0, got '
                                   f'{getattr(grid, name)!r}')
        if int(grid.sample_stride) != grid.sample_stride or grid.sample_stride < 1:
            raise PalEvalError(f'{where}.grid.sample_stride must be an integer >= 1')
        if grid.fps is not None and not float(grid.fps) > 0:
            raise PalEvalError(f'{where}.grid.fps must be > 0 or None, got {grid.fps!r}')
        return grid

    @property
    def first_center(self) -> float:
        """Frame of row 0's centre."""
        return float(self.clip_length) / 2 if self.offset is None else float(self.offset)

    def centers(self, num_features: int, *, duration: float | None = None,
                fps: float | None = None, span: float | None = None) -> np.ndarray:
        """Centre times (seconds) of ``num_features`` kept rows (after ``sample_stride``)."""
        if self.uniform:
            return uniform_centers(span or duration, num_features)
        return strided_centers(num_features, fps or self.fps,
                               float(self.stride) * self.sample_stride,
                               self.first_center)

    def end_of_features(self, num_rows: int, fps: float) -> float:
        """Seconds where the last raw row's window ends (a duration when none is known)."""
        start = self.first_center - float(self.clip_length) / 2
        return (start + (num_rows - 1) * float(self.stride) + float(self.clip_length)) / fps


@dataclass(frozen=True)
class FeatureSource:
    """A declared feature release (module docstring); build it with :meth:`from_config`."""

    format: str = 'ours'
    streams: tuple = ()
    key: str = '{video_id}'
    id_prefix: str = ''
    id_suffix: str = ''
    grid: TimeGrid = field(default_factory=TimeGrid)
    video_info: tuple[str, ...] = ()
    source: str = ''

    @classmethod
    def from_config(cls, config: Mapping | FeatureSource | None,
                    where: str = 'feature_source') -> FeatureSource:
        """Validate a config dict (unknown keys are errors) into a :class:`FeatureSource`.

        Examples:
            >>> FeatureSource.from_config(dict(format='npy', streams=['{video_id}.npy'],
            ...                                grid=dict(fps=30, stride=4))).grid.stride
            4
        """
        if config is None:
            return cls()
        if isinstance(config, FeatureSource):
            return config
        if not isinstance(config, Mapping):
            raise PalEvalError(f'{where} must be a dict, got {type(config).__name__}')
        _check_keys(config, _SOURCE_KEYS, where)
        values = dict(config)
        fmt = values.get('format', 'ours')
        if fmt not in FORMATS:
            raise PalEvalError(f'{where}.format must be one of {", ".join(FORMATS)}, got '
                               f'{fmt!r}')
        streams = values.get('streams', ())
        if isinstance(streams, str):
            streams = [streams]
        streams = tuple(tuple([s] if isinstance(s, str) else s) for s in streams)
        if fmt != 'ours' and not streams:
            raise PalEvalError(f'{where}: format {fmt!r} needs streams=[...] (file pattern(s))')
        if fmt in ('csv', 'npy', 'npz'):
            for stream in streams:
                if len(stream) != 1 or '{video_id}' not in stream[0]:
                    raise PalEvalError(f'{where}.streams: a {fmt} stream is one file pattern '
                                       f"with '{{video_id}}', got {list(stream)!r}")
        if fmt == 'hdf5' and '{video_id}' not in values.get('key', '{video_id}'):
            raise PalEvalError(f"{where}.key must contain '{{video_id}}'")
        info = values.get('video_info', ())
        values.update(streams=streams, format=fmt,
                      grid=TimeGrid.from_config(values.get('grid', {}), where),
                      video_info=(info,) if isinstance(info, str) else tuple(info or ()))
        return cls(**values)

    def with_root(self, root: str | os.PathLike) -> FeatureSource:
        """The source with relative ``video_info`` paths taken from ``root``."""
        info = tuple(str(Path(root) / p) if not os.path.isabs(p) else p
                     for p in self.video_info)
        return FeatureSource(self.format, self.streams, self.key, self.id_prefix,
                             self.id_suffix, self.grid, info, self.source)


def _check_keys(config: Mapping, allowed: Sequence[str], where: str) -> None:
    unknown = sorted(set(config) - set(allowed))
    if unknown:
        import difflib

        hints = [f'{k!r} (did you mean {m[0]!r}?)' if (m := difflib.get_close_matches(
            k, allowed, 1)) else repr(k) for k in unknown]
        raise PalEvalError(f'{where}: unknown key {", ".join(hints)}; known: '
                           f'{", ".join(allowed)}')


def open_feature_store(root: str | os.PathLike, source: Mapping | FeatureSource | None = None
                       ) -> FeatureStore | ReleaseFeatureStore:
    """The store reading ``root`` as ``source`` declares (our folder format by default)."""
    source = FeatureSource.from_config(source)
    if source.format == 'ours':
        return FeatureStore(root)
    return ReleaseFeatureStore(root, source)


class ReleaseFeatureStore:
    """Read a published release in place (interface of :class:`FeatureStore`).

    Args:
        root: The release's folder (stream patterns and files are relative to it).
        source: Its :class:`FeatureSource`.

    Examples:
        >>> import tempfile, numpy as np
        >>> root = tempfile.mkdtemp()
        >>> np.save(f'{root}/v_a.npy', np.zeros((5, 3), np.float32))
        >>> store = ReleaseFeatureStore(root, FeatureSource.from_config(dict(
        ...     format='npy', streams=['{video_id}.npy'], grid=dict(fps=10, stride=4))))
        >>> store.video_ids, 'a' in store, store.load('a').centers.tolist()
        (['v_a'], True, [0.05, 0.45, 0.85, 1.25, 1.65])
    """

    def __init__(self, root: str | os.PathLike, source: FeatureSource):
        self.root = Path(root)
        if not self.root.is_dir():
            raise InputError(self.root, 'feature folder not found')
        self.source = source.with_root(self.root)
        self.meta: dict = {'feature_source': self.source.source}
        self._h5: dict[str, Any] = {}
        self._h5_pid = os.getpid()
        self._keys: list[set[str]] | None = None
        self._timing: dict[str, VideoTiming] | None = None
        if source.format == 'hdf5':
            for stream in source.streams:
                present = [f for f in stream if (self.root / f).is_file()]
                if not present:
                    raise InputError(self.root, 'none of the feature files of a stream is '
                                     f'here: {", ".join(stream)}', field='streams')

    # ------------------------------------------------------------------- file access
    def _files(self, stream: tuple[str, ...]) -> list[Any]:
        import h5py  # HDF5 releases only

        if os.getpid() != self._h5_pid:  # a forked data loader worker: reopen
            self._h5, self._h5_pid = {}, os.getpid()
        handles = []
        for name in stream:
            if name not in self._h5 and (self.root / name).is_file():
                try:
                    self._h5[name] = h5py.File(self.root / name, 'r')
                except OSError as exc:
                    raise InputError(self.root / name, f'unreadable HDF5 file ({exc})') from None
            if name in self._h5:
                handles.append(self._h5[name])
        return handles

    def _stream_keys(self) -> list[set[str]]:
        """Per stream, the video names present (prefix and suffix included)."""
        if self._keys is None:
            keys = []
            for stream in self.source.streams:
                if self.source.format == 'hdf5':
                    top = self.source.key.split('/')[0]
                    names: set[str] = set()
                    for handle in self._files(stream):
                        names.update(_unformat(top, k) for k in handle.keys())
                    names.discard(None)
                else:
                    pattern = stream[0]
                    names = {n for n in (_unformat(pattern, str(p.relative_to(self.root)))
                                         for p in self.root.glob(pattern.replace(
                                             '{video_id}', '*'))) if n is not None}
                keys.append(names)
            self._keys = keys
        return self._keys

    def _name(self, video_id: str) -> str | None:
        """The release's name of an annotation id (prefix/suffix; ``v_`` either way)."""
        keys = self._stream_keys()
        for candidate in _id_candidates(video_id):
            name = f'{self.source.id_prefix}{candidate}{self.source.id_suffix}'
            if all(name in k for k in keys):
                return name
        return None

    @property
    def video_ids(self) -> list[str]:
        """Ids present in every stream (prefix and suffix removed)."""
        keys = self._stream_keys()
        common = set.intersection(*keys) if keys else set()
        pre, suf = self.source.id_prefix, self.source.id_suffix
        return sorted(n[len(pre):len(n) - len(suf)] for n in common
                      if n.startswith(pre) and n.endswith(suf))

    def __contains__(self, video_id: str) -> bool:
        return self._name(video_id) is not None

    def raw(self, video_id: str) -> np.ndarray:
        """The video's rows ``[R, C]`` as stored (streams concatenated, no sample stride)."""
        name = self._name(video_id)
        if name is None:
            raise InputError(self.root, 'no features for this video', record=video_id)
        parts = []
        for stream in self.source.streams:
            parts.append(self._read(stream, name, video_id))
        length = min(len(p) for p in parts)
        return np.concatenate([p[:length] for p in parts], axis=1)

    def _read(self, stream: tuple[str, ...], name: str, video_id: str) -> np.ndarray:
        fmt = self.source.format
        if fmt == 'hdf5':
            key = self.source.key.format(video_id=name)
            for handle in self._files(stream):
                if key in handle:
                    return _two_d(np.asarray(handle[key][()], dtype=np.float32),
                                  Path(handle.filename), video_id, key)
            raise InputError(self.root, f'no dataset {key!r} in {", ".join(stream)}',
                             record=video_id, field='key')
        check_video_id(name)
        path = self.root / stream[0].format(video_id=name)
        try:
            if fmt == 'npy':
                array = np.load(path, allow_pickle=False)
            elif fmt == 'npz':
                with np.load(path, allow_pickle=False) as archive:
                    key = self.source.key if self.source.key in archive.files else None
                    if key is None and len(archive.files) == 1:
                        key = archive.files[0]
                    if key is None:
                        raise InputError(path, f'no array {self.source.key!r} (it has '
                                         f'{", ".join(archive.files)})', field='key')
                    array = archive[key]
            else:
                array = _read_csv(path)
        except (OSError, ValueError) as exc:
            if isinstance(exc, InputError):
                raise
            raise InputError(path, f'unreadable feature file ({exc})', record=video_id) from None
        return _two_d(np.asarray(array, dtype=np.float32), path, video_id, None)

    # ---------------------------------------------------------------------- timing
    def _info_timing(self, video_id: str) -> VideoTiming:
        """fps / duration of a video from the source's ``video_info`` files."""
        if self._timing is None:
            from pal_eval.data.annotations import load_actions

            self._timing = {}
            for path in self.source.video_info:
                for vid, info in load_actions(path).videos.items():
                    self._timing.setdefault(vid, VideoTiming(
                        VideoTiming.known(info.duration), VideoTiming.known(info.fps),
                        VideoTiming.known(getattr(info, 'feature_span', None))))
        for candidate in _id_candidates(video_id):
            if candidate in self._timing:
                return self._timing[candidate]
        return VideoTiming()

    def load(self, video_id: str, *, duration: float | None = None, fps: float | None = None,
             feature_span: float | None = None) -> VideoFeatures:
        """The video's features on its time grid.

        Args:
            video_id: The annotation's id.
            duration, fps, feature_span: What the dataset's annotations know (NaN or None:
                unknown); the source's ``video_info`` and grid fill the rest.

        Raises:
            InputError: the video is absent, or its grid needs a frame rate (or a
                duration) that nothing gives.
        """
        rows = self.raw(video_id)
        grid = self.source.grid
        info = self._info_timing(video_id)
        duration = VideoTiming.known(duration) or info.duration
        span = VideoTiming.known(feature_span) or info.feature_span
        rate = VideoTiming.known(fps) or info.fps or VideoTiming.known(grid.fps)
        kept = rows[::grid.sample_stride]
        if grid.uniform:
            if duration is None:
                raise InputError(self.root, 'no duration for this video: its features are on '
                                 'a uniform grid over the video, so the annotations (or the '
                                 "source's video_info) must give it", record=video_id,
                                 field='duration')
            centers = grid.centers(len(kept), duration=duration, span=span)
        else:
            if rate is None:
                raise InputError(self.root, 'no frame rate for this video: the grid counts '
                                 'frames, give grid.fps or annotations with fps (video_info)',
                                 record=video_id, field='fps')
            centers = grid.centers(len(kept), fps=rate)
            if duration is None:
                duration = grid.end_of_features(len(rows), rate)
        return VideoFeatures(video_id, kept, centers, float(duration), rate)

    @property
    def feature_dim(self) -> int | None:
        """Channels of one video (all streams together), ``None`` for an empty release."""
        ids = self.video_ids
        return int(self.raw(ids[0]).shape[1]) if ids else None


def _id_candidates(video_id: str) -> list[str]:
    """``video_id``, then with the ``v_`` prefix added or stripped."""
    other = video_id[2:] if video_id.startswith('v_') else f'v_{video_id}'
    return [video_id, other]


def _unformat(pattern: str, text: str) -> str | None:
    """The ``{video_id}`` part of ``text`` matched against ``pattern`` (None: no match)."""
    head, _, tail = pattern.partition('{video_id}')
    if text.startswith(head) and text.endswith(tail) and len(text) > len(head) + len(tail):
        return text[len(head):len(text) - len(tail)]
    return None


def _two_d(array: np.ndarray, path: Path, video_id: str, key: str | None) -> np.ndarray:
    if array.ndim == 1:  # a one-feature video stored as a vector
        array = array[None, :]
    if array.ndim != 2 or len(array) == 0:
        raise InputError(path, f'expected a [T, C] array, got shape {array.shape}',
                         record=video_id, field=key)
    return array


def _read_csv(path: Path) -> np.ndarray:
    """A feature CSV: rows = features, an optional header line (mmaction2's f0,f1,...)."""
    with open(path, encoding='utf-8') as handle:
        first = handle.readline()
    try:
        [float(x) for x in first.split(',')]
        skip = 0
    except ValueError:
        skip = 1
    return np.loadtxt(path, dtype=np.float32, delimiter=',', skiprows=skip, ndmin=2)

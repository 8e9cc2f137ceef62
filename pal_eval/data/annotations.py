"""Annotation I/O: every supported format into one canonical in-memory form.

Canonical forms (the contract every stage codes against):

* :class:`ActionAnnotations`: temporal action annotations (ActivityNet v1.3, THUMOS14,
  the synthetic benchmark). ``videos`` maps video id to :class:`VideoInfo`;
  ``instances`` is a pandas DataFrame with columns ``video_id`` (str), ``t_start``,
  ``t_end`` (float64 seconds) and ``label`` (str); ``taxonomy`` lists class names.
  ``ambiguous`` holds THUMOS14 'Ambiguous' segments (same columns, label
  ``'Ambiguous'``), kept apart so that only a metric that wants them (the THUMOS matlab
  protocol ignores detections overlapping them) ever sees them; it is empty otherwise.
* :class:`GroundingAnnotations`: (video, sentence, segment) queries; ``queries`` is a
  DataFrame with columns ``query_id`` (str), ``video_id``, ``duration``, ``t_start``,
  ``t_end``, ``sentence`` and ``subset``.

Supported inputs:

=================================  ==========================================
format                             loader
=================================  ==========================================
ActivityNet v1.3 GT JSON           :func:`load_activitynet` (also the bare
                                   ``{vid: {...}}`` form of mmaction2's tests)
THUMOS14 ANet-style JSON (G-TAD)   :func:`load_thumos14` / :func:`load_activitynet`
THUMOS14 G-TAD CSVs                :func:`load_thumos14` (both CSV layouts)
THUMOS14 per-class txt folder      :func:`load_thumos14` (``<Class>_test.txt``)
Charades-STA txt                   :func:`load_charades_sta`
ActivityNet Captions JSON          :func:`load_activitynet_captions`
canonical grounding JSON           :func:`load_grounding_json`
=================================  ==========================================

Writers: :func:`write_activitynet_gt`, :func:`write_grounding_json`,
:func:`write_charades_sta`.

Validation: loaders raise :class:`pal_eval.errors.InputError` naming the file, the
video id and the field on malformed input (missing keys, non-numeric, negative or
reversed segments, segments past the duration beyond a small tolerance, unknown subset,
empty file, invalid JSON). Segments past the duration by no more than the tolerance
(float noise in real files) are clipped to the duration and reported by ONE
:class:`AnnotationWarning` that counts them.

This module is torch-free and fast: DataFrames are built once from column lists (the
~4,900-video ActivityNet Captions file loads in well under 0.1 s).

Examples:
    >>> import json, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / 'gt.json'
    >>> _ = path.write_text(json.dumps({'database': {'v1': {
    ...     'subset': 'validation', 'duration': 10.0,
    ...     'annotations': [{'segment': [1.0, 4.5], 'label': 'Jump'}]}}}))
    >>> ann = load_activitynet(path, subset='validation')
    >>> ann.instances.to_dict('records')
    [{'video_id': 'v1', 't_start': 1.0, 't_end': 4.5, 'label': 'Jump'}]
"""
from __future__ import annotations

import csv
import io
import math
import os
import re
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pal_eval.errors import InputError
from pal_eval.io import atomic_write, read_json, read_text, write_json

INSTANCE_COLUMNS = ('video_id', 't_start', 't_end', 'label')
QUERY_COLUMNS = ('query_id', 'video_id', 'duration', 't_start', 't_end', 'sentence', 'subset')

#: Seconds a segment may end past its video's duration and still be clipped (float
#: noise: ActivityNet Captions val_1 has 134 ends 0.01 s past the duration).
DURATION_TOLERANCE = 0.05
#: Charades_v1 ``length`` is rounded and Charades-STA ends overshoot it by up to 1.5 s.
CHARADES_DURATION_TOLERANCE = 2.0

#: THUMOS14's 20 detection classes; ``label-idx`` in ``thumos14_test_groundtruth.csv``
#: indexes this (alphabetical) list, ``-1`` meaning 'Ambiguous'.
THUMOS14_CLASSES: tuple[str, ...] = (
    'BaseballPitch', 'BasketballDunk', 'Billiards', 'CleanAndJerk', 'CliffDiving',
    'CricketBowling', 'CricketShot', 'Diving', 'FrisbeeCatch', 'GolfSwing', 'HammerThrow',
    'HighJump', 'JavelinThrow', 'LongJump', 'PoleVault', 'Shotput', 'SoccerPenalty',
    'TennisSwing', 'ThrowDiscus', 'VolleyballSpiking')
AMBIGUOUS_LABEL = 'Ambiguous'


class AnnotationWarning(UserWarning):
    """Something in an annotation file was repaired (e.g. float-noise overshoots clipped)."""


@dataclass(frozen=True)
class VideoInfo:
    """One annotated video (``duration`` is NaN when the format does not store it)."""

    video_id: str
    subset: str
    duration: float
    fps: float | None = None
    resolution: str | None = None


def instances_frame(rows: Iterable[tuple[str, float, float, str]] = ()) -> pd.DataFrame:
    """Canonical instance DataFrame from ``(video_id, t_start, t_end, label)`` tuples."""
    rows = list(rows)
    columns = list(zip(*rows)) if rows else [(), (), (), ()]
    return pd.DataFrame({
        'video_id': pd.Series(columns[0], dtype=object),
        't_start': pd.Series(columns[1], dtype='float64'),
        't_end': pd.Series(columns[2], dtype='float64'),
        'label': pd.Series(columns[3], dtype=object)})


def queries_frame(rows: Iterable[tuple] = ()) -> pd.DataFrame:
    """Canonical query DataFrame from tuples ordered as :data:`QUERY_COLUMNS`."""
    rows = list(rows)
    columns = list(zip(*rows)) if rows else [()] * len(QUERY_COLUMNS)
    dtypes = (object, object, 'float64', 'float64', 'float64', object, object)
    return pd.DataFrame({name: pd.Series(values, dtype=dtype)
                         for name, values, dtype in zip(QUERY_COLUMNS, columns, dtypes)})


@dataclass
class ActionAnnotations:
    """Temporal action annotations in canonical form."""

    videos: dict[str, VideoInfo]
    instances: pd.DataFrame
    taxonomy: list[str] = field(default_factory=list)
    source: str = ''
    ambiguous: pd.DataFrame = field(default_factory=instances_frame)

    def select_subset(self, subset: str) -> ActionAnnotations:
        """The videos (and their instances) of one subset."""
        videos = {k: v for k, v in self.videos.items() if v.subset == subset}
        keep = self.instances['video_id'].isin(videos)
        keep_amb = self.ambiguous['video_id'].isin(videos)
        return ActionAnnotations(videos, self.instances[keep].reset_index(drop=True),
                                 list(self.taxonomy), self.source,
                                 self.ambiguous[keep_amb].reset_index(drop=True))


@dataclass
class GroundingAnnotations:
    """Natural-language grounding queries in canonical form."""

    queries: pd.DataFrame
    source: str = ''

    def select_subset(self, subset: str) -> GroundingAnnotations:
        """The queries of one subset."""
        keep = self.queries['subset'] == subset
        return GroundingAnnotations(self.queries[keep].reset_index(drop=True), self.source)


# ------------------------------------------------------------------------- validation


class _SegmentChecker:
    """Validates segments of one file and counts the overshoots it clips.

    One instance per loaded file, so the warning is emitted once with a total count.
    """

    def __init__(self, path: str | os.PathLike, tolerance: float,
                 record_kind: str = 'video', *, keep_overshoots: bool = False):
        self.path = path
        self.tolerance = tolerance
        self.record_kind = record_kind
        self.keep_overshoots = keep_overshoots
        self.clipped = 0
        self.largest_overshoot = 0.0
        self.kept: dict[str, int] = {}

    def error(self, record: str | None, field_name: str | None, message: str) -> InputError:
        return InputError(self.path, message, record=record, field=field_name,
                          record_kind=self.record_kind)

    def number(self, value: Any, record: str, field_name: str) -> float:
        """``value`` as a finite float (numeric strings accepted: G-TAD's THUMOS JSON)."""
        if isinstance(value, bool):
            raise self.error(record, field_name, f'must be a number, got {value!r}')
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise self.error(record, field_name, f'must be a number, got {value!r}') from None
        if not math.isfinite(number):
            raise self.error(record, field_name, f'must be finite, got {value!r}')
        return number

    def duration(self, value: Any, record: str, field_name: str = 'duration') -> float:
        number = self.number(value, record, field_name)
        if number <= 0:
            raise self.error(record, field_name, f'must be positive, got {value!r}')
        return number

    def segment(self, raw: Any, record: str, duration: float,
                field_name: str = 'segment') -> tuple[float, float]:
        """Check a ``[start, end]`` pair; clip float-noise overshoots of ``duration``."""
        if not isinstance(raw, (list, tuple)) or len(raw) != 2:
            raise self.error(record, field_name, f'must be [start, end], got {raw!r}')
        start = self.number(raw[0], record, field_name)
        end = self.number(raw[1], record, field_name)
        return self.times(start, end, record, duration, field_name)

    def times(self, start: float, end: float, record: str, duration: float,
              field_name: str = 'segment') -> tuple[float, float]:
        if start < 0 or end < 0:
            raise self.error(record, field_name, f'negative time in [{start}, {end}]')
        if end < start:
            raise self.error(record, field_name, f'reversed segment [{start}, {end}] '
                             '(end before start)')
        if not math.isnan(duration) and end > duration:
            overshoot = end - duration
            if overshoot > self.tolerance and self.keep_overshoots:
                self.kept[record] = self.kept.get(record, 0) + 1
                return start, end
            if overshoot > self.tolerance:
                raise self.error(record, field_name,
                                 f'segment [{start}, {end}] ends {overshoot:.3f} s past the '
                                 f'duration {duration} (tolerance {self.tolerance} s)')
            self.clipped += 1
            self.largest_overshoot = max(self.largest_overshoot, overshoot)
            end = duration
            start = min(start, duration)
        return start, end

    def report(self) -> None:
        """Emit the single counted warning about clipped (or kept) segments, if any."""
        if self.kept:
            names = ', '.join(sorted(self.kept)[:5]) + (', ...' if len(self.kept) > 5 else '')
            warnings.warn(
                f'{self.path}: kept {sum(self.kept.values())} segments of {len(self.kept)} '
                f'videos that end past their video duration by more than {self.tolerance} s '
                f'({names})', AnnotationWarning, stacklevel=3)
        if self.clipped:
            warnings.warn(
                f'{self.path}: clipped {self.clipped} segments ending past their video '
                f'duration by at most {self.largest_overshoot:.3f} s '
                f'(tolerance {self.tolerance} s)', AnnotationWarning, stacklevel=3)


def _require(checker: _SegmentChecker, entry: Any, key: str, record: str,
             kinds: type | tuple[type, ...] | None = None) -> Any:
    if not isinstance(entry, dict):
        raise checker.error(record, None, f'must be an object, got {type(entry).__name__}')
    if key not in entry:
        raise checker.error(record, key, 'missing key')
    value = entry[key]
    if kinds is not None and not isinstance(value, kinds):
        names = kinds.__name__ if isinstance(kinds, type) else \
            ' or '.join(k.__name__ for k in kinds)
        raise checker.error(record, key, f'must be {names}, got {type(value).__name__}')
    return value


def _check_subset(path: str | os.PathLike, subset: str | None, present: Iterable[str]) -> None:
    present = sorted(set(present))
    if subset is not None and subset not in present:
        raise InputError(path, f'unknown subset {subset!r}; the file has '
                         f'{", ".join(map(repr, present)) or "no subsets"}', field='subset')


def _validated_segments(checker: _SegmentChecker, records: list[str], raw: list[Any],
                        durations: list[float], field_of, field_args: list[Any]
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``[start, end]`` pairs all at once; clip float-noise overshoots.

    The vectorised pass handles the common, valid case. As soon as anything looks wrong
    the pairs are re-checked one by one with :class:`_SegmentChecker`, which raises the
    precise error (file, video, field) for the first bad pair in file order.

    Args:
        checker: The file's checker (counts clipped segments).
        records: Video (or query) id of each pair.
        raw: The pairs as parsed from the file (numbers or numeric strings).
        durations: Duration of each pair's video (NaN: unknown, not checked).
        field_of: ``field_of(field_args[i])`` names the field of pair ``i`` in errors.
        field_args: Per-pair argument of ``field_of``.

    Returns:
        ``(starts, ends)`` float64 arrays.
    """
    count = len(raw)
    duration = np.asarray(durations, dtype=np.float64)
    try:
        values = np.asarray(raw, dtype=np.float64).reshape(count, 2) if count else \
            np.zeros((0, 2))
    except (ValueError, TypeError):
        values = None
    if values is not None:
        start, end = values[:, 0], values[:, 1]
        with np.errstate(invalid='ignore'):
            overshoot = end - duration  # NaN where the duration is unknown
            far = overshoot > checker.tolerance
            bad = (~np.isfinite(values).all(1) | (start < 0) | (end < start)
                   | (far & (not checker.keep_overshoots)))
            # a bool is a number to numpy, not to us; rare enough to check lazily
            if not bad.any() and not any(type(v) is bool for pair in raw for v in pair):
                for index in np.flatnonzero(far):
                    checker.kept[records[index]] = checker.kept.get(records[index], 0) + 1
                clip = (overshoot > 0) & ~far
                if clip.any():
                    checker.clipped += int(clip.sum())
                    checker.largest_overshoot = max(checker.largest_overshoot,
                                                    float(overshoot[clip].max()))
                    end = np.where(clip, duration, end)
                    start = np.where(clip, np.minimum(start, duration), start)
                return start.copy(), end.copy()
    pairs = [checker.segment(pair, record, float(dur), field_of(arg))
             for pair, record, dur, arg in zip(raw, records, duration, field_args)]
    values = np.asarray(pairs, dtype=np.float64).reshape(count, 2)
    return values[:, 0].copy(), values[:, 1].copy()


def _instances_from_columns(video_ids: Any, starts: Any, ends: Any, labels: Any
                            ) -> pd.DataFrame:
    """Canonical instance DataFrame straight from column arrays (no row tuples)."""
    return pd.DataFrame({'video_id': pd.Series(video_ids, dtype=object),
                         't_start': pd.Series(starts, dtype='float64'),
                         't_end': pd.Series(ends, dtype='float64'),
                         'label': pd.Series(labels, dtype=object)})


# ------------------------------------------------------------------ ActivityNet / THUMOS


def _taxonomy_leaves(path: str | os.PathLike, taxonomy: Any) -> list[str]:
    """Leaf class names of an ActivityNet v1.3 taxonomy (nodes nobody's parent)."""
    if not isinstance(taxonomy, list):
        raise InputError(path, 'must be a list of nodes', field='taxonomy')
    parents, names = set(), []
    for number, node in enumerate(taxonomy):
        if not isinstance(node, dict) or 'nodeName' not in node:
            raise InputError(path, f'node {number} has no nodeName', field='taxonomy')
        parents.add(node.get('parentId'))
        names.append((node.get('nodeId'), node['nodeName']))
    return [name for node_id, name in names if node_id not in parents]


def parse_activitynet(path: str | os.PathLike, data: Any, *, subset: str | None = None,
                      tolerance: float = DURATION_TOLERANCE) -> ActionAnnotations:
    """Canonical annotations from already-parsed ActivityNet-style JSON (see loader)."""
    if not isinstance(data, dict) or not data:
        raise InputError(path, 'expected a JSON object with a "database" of videos')
    if 'database' in data:
        database = data['database']
    elif 'version' not in data and all(isinstance(v, dict) for v in data.values()):
        database = data  # mmaction2's test data: the database without its wrapper
    else:
        database = None
    if not isinstance(database, dict):
        raise InputError(path, 'missing or malformed key (expected an object of videos)',
                         field='database')
    checker = _SegmentChecker(path, tolerance)
    subsets = set()
    videos: dict[str, VideoInfo] = {}
    # Column lists, validated together by _validated_segments (one numpy pass, not one
    # Python call per segment: ~5,000-video files load in a few tens of milliseconds).
    records, raw_segments, durations, fields, labels = [], [], [], [], []
    for video_id, entry in database.items():
        if type(entry) is not dict:
            raise checker.error(video_id, None, f'must be an object, got {type(entry).__name__}')
        video_subset = _require(checker, entry, 'subset', video_id, str) \
            if 'subset' in entry or subset is not None else ''
        subsets.add(video_subset)
        if subset is not None and video_subset != subset:
            continue
        duration = (checker.duration(entry['duration'], video_id)
                    if entry.get('duration') is not None else math.nan)
        fps = entry.get('fps')
        if fps is not None:
            fps = checker.duration(fps, video_id, 'fps')
        videos[video_id] = VideoInfo(video_id, video_subset, duration, fps,
                                     entry.get('resolution'))
        annotations = entry.get('annotations')
        if type(annotations) is not list:
            _require(checker, entry, 'annotations', video_id, list)
        for number, item in enumerate(annotations):
            try:
                segment, label = item['segment'], item['label']
            except (KeyError, TypeError):
                _require(checker, item, 'segment', video_id)
                _require(checker, item, 'label', video_id, str)
                raise
            if type(label) is not str:
                _require(checker, item, 'label', video_id, str)
            records.append(video_id)
            raw_segments.append(segment)
            durations.append(duration)
            fields.append(number)
            labels.append(label)
    _check_subset(path, subset, subsets)
    starts, ends = _validated_segments(checker, records, raw_segments, durations,
                                       lambda n: f'annotations[{n}].segment', fields)
    checker.report()
    ambiguous = np.fromiter((label == AMBIGUOUS_LABEL for label in labels), bool, len(labels))
    columns = (np.asarray(records, dtype=object), starts, ends,
               np.asarray(labels, dtype=object))
    instances = _instances_from_columns(*(c[~ambiguous] for c in columns))
    if 'taxonomy' in data:
        taxonomy = _taxonomy_leaves(path, data['taxonomy'])
    else:
        taxonomy = sorted(set(instances['label']))
    return ActionAnnotations(videos, instances, taxonomy, str(path),
                             _instances_from_columns(*(c[ambiguous] for c in columns)))


def load_activitynet(path: str | os.PathLike, subset: str | None = None, *,
                     tolerance: float = DURATION_TOLERANCE) -> ActionAnnotations:
    """Load an ActivityNet v1.3 ground-truth JSON (``version``/``taxonomy``/``database``).

    Also reads the ActivityNet-style THUMOS14 JSON of G-TAD (segments as strings, no
    duration, no taxonomy) and the bare ``{video_id: {...}}`` form of mmaction2's test
    data. ``taxonomy`` is the list of leaf classes when the file has one, else the
    sorted labels.

    Args:
        path: The JSON file.
        subset: Keep only videos of this subset (``'validation'``...); ``None`` keeps all.
        tolerance: Seconds a segment may end past the duration and be clipped.

    Returns:
        :class:`ActionAnnotations`.

    Raises:
        InputError: malformed file (names file, video id and field), unknown subset.
    """
    return parse_activitynet(path, read_json(path), subset=subset, tolerance=tolerance)


def _read_csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    rows = [row for row in csv.reader(io.StringIO(read_text(path), newline='')) if row]
    if not rows:
        raise InputError(path, 'file is empty')
    return [h.strip() for h in rows[0]], rows[1:]


def _load_thumos_csv(path: Path, classes: tuple[str, ...], subset: str,
                     tolerance: float) -> ActionAnnotations:
    header, rows = _read_csv_rows(path)
    if {'video-name', 't-init', 't-end', 'label-idx'} <= set(header):
        layout = 'groundtruth'  # thumos14_test_groundtruth.csv (with durations and fps)
        need = ('video-name', 't-init', 't-end', 'label-idx')
    elif {'video', 'type', 'start', 'end'} <= set(header):
        layout = 'annotation'   # test_Annotation.csv (class names, 'Ambiguous' rows)
        need = ('video', 'type', 'start', 'end')
    else:
        raise InputError(path, 'unknown THUMOS14 CSV header; expected video-name,t-init,'
                         't-end,...,label-idx or video,type,...,start,end', field='header')
    col = {name: header.index(name) for name in header}
    start_name, end_name = need[1:3] if layout == 'groundtruth' else ('start', 'end')
    # The official THUMOS14 test CSV has segments far past its own 'video-duration' for
    # three videos (video_test_0000270, 0000814, 0001081); the official evaluation keeps
    # them, so they are kept and reported by one warning instead of refused.
    checker = _SegmentChecker(path, tolerance, keep_overshoots=True)
    videos: dict[str, VideoInfo] = {}
    instances, ambiguous = [], []
    for line_no, row in enumerate(rows, start=2):
        if len(row) < len(header):
            raise checker.error(f'line {line_no}', None,
                                f'has {len(row)} columns, the header has {len(header)}')
        video_id = row[col[need[0]]].strip()
        if not video_id:
            raise checker.error(f'line {line_no}', need[0], 'empty video id')
        duration, fps = math.nan, None
        if layout == 'groundtruth':
            if 'video-duration' in col:
                duration = checker.duration(row[col['video-duration']], video_id,
                                            'video-duration')
            if 'frame-rate' in col:
                fps = checker.duration(row[col['frame-rate']], video_id, 'frame-rate')
            index = checker.number(row[col['label-idx']], video_id, 'label-idx')
            if index == -1:
                label = AMBIGUOUS_LABEL
            elif index.is_integer() and 0 <= index < len(classes):
                label = classes[int(index)]
            else:
                raise checker.error(video_id, 'label-idx',
                                    f'{row[col["label-idx"]]!r} is not -1 or 0..'
                                    f'{len(classes) - 1}')
        else:
            label = row[col['type']].strip()
            if not label:
                raise checker.error(video_id, 'type', 'empty class name')
        videos.setdefault(video_id, VideoInfo(video_id, subset, duration, fps))
        start = checker.number(row[col[start_name]], video_id, start_name)
        end = checker.number(row[col[end_name]], video_id, end_name)
        start, end = checker.times(start, end, video_id, duration, f'{start_name}/{end_name}')
        (ambiguous if label == AMBIGUOUS_LABEL else instances).append(
            (video_id, start, end, label))
    checker.report()
    return ActionAnnotations(videos, instances_frame(instances), list(classes), str(path),
                             instances_frame(ambiguous))


_THUMOS_TXT = re.compile(r'^(?P<label>.+)_(?P<split>val|test)\.txt$')


def _load_thumos_txt_folder(folder: Path, subset: str | None,
                            tolerance: float) -> ActionAnnotations:
    """The classic THUMOS14 folder: ``<Class>_{val,test}.txt`` with ``video start end``."""
    files = sorted(p for p in folder.iterdir() if _THUMOS_TXT.match(p.name))
    split_names = {'val': 'validation', 'test': 'test'}
    present = {split_names[_THUMOS_TXT.match(p.name)['split']] for p in files}
    if not files:
        raise InputError(folder, 'no <Class>_val.txt / <Class>_test.txt annotation files')
    _check_subset(folder, subset, present)
    videos: dict[str, VideoInfo] = {}
    instances, ambiguous, labels = [], [], []
    for file in files:
        match = _THUMOS_TXT.match(file.name)
        file_subset = split_names[match['split']]
        if subset is not None and file_subset != subset:
            continue
        label = match['label']
        if label != AMBIGUOUS_LABEL and label not in labels:
            labels.append(label)
        checker = _SegmentChecker(file, tolerance)
        for line_no, line in enumerate(file.read_text().splitlines(), start=1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 3:
                raise checker.error(f'line {line_no}', None,
                                    f'expected "video start end", got {line!r}')
            video_id = parts[0]
            start = checker.number(parts[1], video_id, 'start')
            end = checker.number(parts[2], video_id, 'end')
            start, end = checker.times(start, end, video_id, math.nan)
            videos.setdefault(video_id, VideoInfo(video_id, file_subset, math.nan))
            (ambiguous if label == AMBIGUOUS_LABEL else instances).append(
                (video_id, start, end, label))
    return ActionAnnotations(videos, instances_frame(instances), sorted(labels), str(folder),
                             instances_frame(ambiguous))


def load_thumos14(path: str | os.PathLike, subset: str | None = None, *,
                  classes: tuple[str, ...] = THUMOS14_CLASSES,
                  tolerance: float = DURATION_TOLERANCE) -> ActionAnnotations:
    """Load THUMOS14 temporal annotations in any of their published layouts.

    * ``*.json``: ActivityNet-style (G-TAD's ``thumos_gt.json``: subsets ``train`` and
      ``test``, segments as strings); see :func:`load_activitynet`.
    * ``*.csv``: G-TAD's ``test_Annotation.csv`` (``video,type,type_idx,start,end,...``)
      or ``thumos14_test_groundtruth.csv`` (``video-name,t-init,t-end,...,label-idx``,
      ``label-idx`` indexing ``classes``, ``-1`` = Ambiguous). Every row is a ``test``
      video.
    * a folder of ``<Class>_val.txt`` / ``<Class>_test.txt`` (``video start end`` lines,
      including ``Ambiguous_test.txt``); subsets ``validation`` and ``test``.

    'Ambiguous' segments go to :attr:`ActionAnnotations.ambiguous`, not ``instances``.

    Args:
        path: File or folder.
        subset: Keep only this subset; ``None`` keeps all.
        classes: Class list indexed by ``label-idx`` in the groundtruth CSV.
        tolerance: Seconds a segment may end past the duration and be clipped.

    Returns:
        :class:`ActionAnnotations`.
    """
    path = Path(path)
    if path.is_dir():
        return _load_thumos_txt_folder(path, subset, tolerance)
    if path.suffix.lower() == '.csv':
        _check_subset(path, subset, ['test'])
        return _load_thumos_csv(path, tuple(classes), 'test', tolerance)
    return load_activitynet(path, subset, tolerance=tolerance)


# ------------------------------------------------------------------------- grounding


def _load_durations(source: str | os.PathLike | Mapping[str, float] | None
                    ) -> Mapping[str, float]:
    """Video durations from a mapping or a Charades_v1 CSV (``id`` and ``length``)."""
    if source is None:
        return {}
    if isinstance(source, Mapping):
        return source
    path = Path(source)
    header, rows = _read_csv_rows(path)
    if 'id' not in header or 'length' not in header:
        raise InputError(path, 'needs the columns "id" and "length"', field='header')
    id_col, length_col = header.index('id'), header.index('length')
    checker = _SegmentChecker(path, 0.0)
    return {row[id_col]: checker.duration(row[length_col], row[id_col], 'length')
            for row in rows}


def load_charades_sta(path: str | os.PathLike, durations: str | os.PathLike |
                      Mapping[str, float] | None = None, *, subset: str = 'test',
                      tolerance: float = CHARADES_DURATION_TOLERANCE
                      ) -> GroundingAnnotations:
    """Load Charades-STA queries (``vid start end##sentence`` per line).

    Args:
        path: The txt file.
        durations: ``Charades_v1_{train,test}.csv`` (columns ``id``, ``length``) or a
            mapping video id -> seconds. Without it durations are NaN and ends are not
            checked against them.
        subset: Value of the ``subset`` column.
        tolerance: Seconds an end may pass the duration and be clipped (Charades
            ``length`` values are rounded).

    Returns:
        :class:`GroundingAnnotations`; ``query_id`` is ``'<vid>_<k>'``, ``k`` counting
        the video's queries in file order.
    """
    path = Path(path)
    lengths = _load_durations(durations)
    text = read_text(path)
    checker = _SegmentChecker(path, tolerance)
    rows, per_video = [], {}
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        head, sep, sentence = line.partition('##')
        parts = head.split()
        if not sep or len(parts) != 3:
            raise checker.error(f'line {line_no}', None,
                                f'expected "video start end##sentence", got {line!r}')
        video_id = parts[0]
        start = checker.number(parts[1], video_id, 'start')
        end = checker.number(parts[2], video_id, 'end')
        if lengths and video_id not in lengths:
            raise checker.error(video_id, 'duration', 'video missing from the durations')
        duration = float(lengths.get(video_id, math.nan))
        start, end = checker.times(start, end, video_id, duration, 'start/end')
        number = per_video.get(video_id, 0)
        per_video[video_id] = number + 1
        rows.append((f'{video_id}_{number}', video_id, duration, start, end, sentence.strip(),
                     subset))
    checker.report()
    return GroundingAnnotations(queries_frame(rows), str(path))


def load_activitynet_captions(path: str | os.PathLike, *, subset: str = 'validation',
                              tolerance: float = DURATION_TOLERANCE) -> GroundingAnnotations:
    """Load ActivityNet Captions (``{vid: {duration, timestamps, sentences}}``).

    Ends past the duration by float noise (134 in ``val_1``) are clipped with one
    counted :class:`AnnotationWarning`.

    Args:
        path: The JSON file (e.g. ``val_1.json``, 2D-TAN's ``val.json``).
        subset: Value of the ``subset`` column.
        tolerance: Seconds an end may pass the duration and be clipped.

    Returns:
        :class:`GroundingAnnotations`; ``query_id`` is ``'<vid>_<k>'``.
    """
    data = read_json(path)
    if not isinstance(data, dict) or not data:
        raise InputError(path, 'expected a JSON object {video_id: {duration, timestamps, '
                         'sentences}}')
    checker = _SegmentChecker(path, tolerance)
    ids, records, raw, durations, numbers, sentences_col = [], [], [], [], [], []
    for video_id, entry in data.items():
        duration = checker.duration(_require(checker, entry, 'duration', video_id),
                                    video_id)
        stamps = _require(checker, entry, 'timestamps', video_id, list)
        sentences = _require(checker, entry, 'sentences', video_id, list)
        if len(stamps) != len(sentences):
            raise checker.error(video_id, 'sentences', f'{len(sentences)} sentences for '
                                f'{len(stamps)} timestamps')
        for number, (stamp, sentence) in enumerate(zip(stamps, sentences)):
            if type(sentence) is not str:
                raise checker.error(video_id, f'sentences[{number}]', 'must be a string')
            ids.append(f'{video_id}_{number}')
            records.append(video_id)
            raw.append(stamp)
            durations.append(duration)
            numbers.append(number)
            sentences_col.append(sentence.strip())
    starts, ends = _validated_segments(checker, records, raw, durations,
                                       lambda n: f'timestamps[{n}]', numbers)
    checker.report()
    queries = pd.DataFrame({
        'query_id': pd.Series(ids, dtype=object), 'video_id': pd.Series(records, dtype=object),
        'duration': pd.Series(durations, dtype='float64'), 't_start': starts, 't_end': ends,
        'sentence': pd.Series(sentences_col, dtype=object),
        'subset': pd.Series([subset] * len(ids), dtype=object)})
    return GroundingAnnotations(queries, str(path))


def load_grounding_json(path: str | os.PathLike, *, subset: str | None = None,
                        tolerance: float = DURATION_TOLERANCE) -> GroundingAnnotations:
    """Load the canonical grounding JSON written by :func:`write_grounding_json`.

    Format: ``{"queries": [{"query_id", "video", "duration", "segment": [s, e],
    "sentence"[, "subset"]}]}``.

    Args:
        path: The JSON file.
        subset: Keep only queries of this subset (the optional per-query ``subset``).
        tolerance: Seconds an end may pass the duration and be clipped.

    Returns:
        :class:`GroundingAnnotations`.
    """
    data = read_json(path)
    checker = _SegmentChecker(path, tolerance, record_kind='query')
    if not isinstance(data, dict) or not isinstance(data.get('queries'), list):
        raise InputError(path, 'expected {"queries": [...]}', field='queries')
    rows, seen, subsets = [], set(), set()
    for number, entry in enumerate(data['queries']):
        query_id = str(_require(checker, entry, 'query_id', f'#{number}', (str, int)))
        if query_id in seen:
            raise checker.error(query_id, 'query_id', 'duplicate query id')
        seen.add(query_id)
        video_id = _require(checker, entry, 'video', query_id, str)
        duration = checker.duration(_require(checker, entry, 'duration', query_id), query_id)
        start, end = checker.segment(_require(checker, entry, 'segment', query_id), query_id,
                                     duration)
        sentence = _require(checker, entry, 'sentence', query_id, str)
        query_subset = entry.get('subset', '')
        subsets.add(query_subset)
        if subset is not None and query_subset != subset:
            continue
        rows.append((query_id, video_id, duration, start, end, sentence, query_subset))
    _check_subset(path, subset, subsets)
    checker.report()
    return GroundingAnnotations(queries_frame(rows), str(path))


# --------------------------------------------------------------------------- writers


def activitynet_gt_dict(annotations: ActionAnnotations, *,
                        subset_map: Mapping[str, str] | None = None, with_fps: bool = False,
                        version: str = 'VERSION 1.3') -> dict:
    """ActivityNet v1.3 GT JSON content of ``annotations``.

    Args:
        annotations: What to write.
        subset_map: Rename subsets (``{'training': 'validation'}``); when given, videos
            of subsets it does not name are left out.
        with_fps: Store each video's ``fps`` (THUMOS-style files).
        version: The ``version`` field.

    Returns:
        ``{'version', 'taxonomy', 'database'}`` (taxonomy: one root, classes as leaves).
    """
    by_video: dict[str, list[dict]] = {vid: [] for vid in annotations.videos}
    frame = annotations.instances
    for video_id, start, end, label in zip(frame['video_id'], frame['t_start'],
                                           frame['t_end'], frame['label']):
        by_video[video_id].append({'segment': [float(start), float(end)], 'label': label})
    database = {}
    for video_id, info in annotations.videos.items():
        subset = info.subset
        if subset_map is not None:
            if subset not in subset_map:
                continue
            subset = subset_map[subset]
        entry: dict[str, Any] = {'subset': subset}
        if not math.isnan(info.duration):
            entry['duration'] = info.duration
        if info.resolution is not None:
            entry['resolution'] = info.resolution
        if with_fps and info.fps is not None:
            entry['fps'] = info.fps
        entry['annotations'] = by_video[video_id]
        database[video_id] = entry
    taxonomy = [{'nodeId': 0, 'nodeName': 'Root', 'parentId': None, 'parentName': None}]
    taxonomy += [{'nodeId': number, 'nodeName': name, 'parentId': 0, 'parentName': 'Root'}
                 for number, name in enumerate(annotations.taxonomy, start=1)]
    return {'version': version, 'taxonomy': taxonomy, 'database': database}


def write_activitynet_gt(path: str | os.PathLike, annotations: ActionAnnotations,
                         **kwargs: Any) -> None:
    """Atomically write ActivityNet v1.3 GT JSON (keywords: :func:`activitynet_gt_dict`)."""
    write_json(path, activitynet_gt_dict(annotations, **kwargs), indent=1)


def write_grounding_json(path: str | os.PathLike, grounding: GroundingAnnotations) -> None:
    """Atomically write the canonical grounding JSON (see :func:`load_grounding_json`)."""
    q = grounding.queries
    queries = [{'query_id': qid, 'video': vid, 'duration': float(dur),
                'segment': [float(s), float(e)], 'sentence': sentence, 'subset': subset}
               for qid, vid, dur, s, e, sentence, subset in zip(
                   q['query_id'], q['video_id'], q['duration'], q['t_start'], q['t_end'],
                   q['sentence'], q['subset'])]
    write_json(path, {'queries': queries}, indent=1)


def write_charades_sta(path: str | os.PathLike, grounding: GroundingAnnotations) -> None:
    """Atomically write Charades-STA lines ``vid start end##sentence`` (times to 1 ms)."""
    q = grounding.queries
    with atomic_write(path) as handle:
        handle.writelines(f'{vid} {s:.3f} {e:.3f}##{sentence}\n' for vid, s, e, sentence in
                          zip(q['video_id'], q['t_start'], q['t_end'], q['sentence']))

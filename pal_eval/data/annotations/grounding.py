"""Grounding queries: Charades-STA txt, ActivityNet Captions JSON, the canonical JSON."""
from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from pal_eval.data.annotations.canonical import (
    CHARADES_DURATION_TOLERANCE,
    DURATION_TOLERANCE,
    GroundingAnnotations,
    queries_frame,
)
from pal_eval.data.annotations.checks import (
    SegmentChecker,
    check_subset,
    read_csv_rows,
    require,
    validated_segments,
)
from pal_eval.errors import InputError
from pal_eval.io import read_text


def _load_durations(source: str | os.PathLike | Mapping[str, float] | None
                    ) -> Mapping[str, float]:
    """Video durations from a mapping or a Charades_v1 CSV (``id`` and ``length``)."""
    if source is None:
        return {}
    if isinstance(source, Mapping):
        return source
    path = Path(source)
    header, rows = read_csv_rows(path)
    if 'id' not in header or 'length' not in header:
        raise InputError(path, 'needs the columns "id" and "length"', field='header')
    id_col, length_col = header.index('id'), header.index('length')
    checker = SegmentChecker(path, 0.0)
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
    checker = SegmentChecker(path, tolerance)
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


def parse_activitynet_captions(path: str | os.PathLike, data: Any, *,
                               subset: str = 'validation',
                               tolerance: float = DURATION_TOLERANCE) -> GroundingAnnotations:
    """Read parsed ActivityNet Captions JSON (``{vid: {duration, timestamps, sentences}}``).

    Ends past the duration by float noise (134 in ``val_1``) are clipped with one
    counted :class:`AnnotationWarning`.

    Args:
        path: The JSON file (e.g. ``val_1.json``, 2D-TAN's ``val.json``), for messages.
        data: Its parsed content.
        subset: Value of the ``subset`` column.
        tolerance: Seconds an end may pass the duration and be clipped.

    Returns:
        :class:`GroundingAnnotations`; ``query_id`` is ``'<vid>_<k>'``.
    """
    if not isinstance(data, dict) or not data:
        raise InputError(path, 'expected a JSON object {video_id: {duration, timestamps, '
                         'sentences}}')
    checker = SegmentChecker(path, tolerance)
    ids, records, raw, durations, numbers, sentences_col = [], [], [], [], [], []
    for video_id, entry in data.items():
        duration = checker.duration(require(checker, entry, 'duration', video_id),
                                    video_id)
        stamps = require(checker, entry, 'timestamps', video_id, list)
        sentences = require(checker, entry, 'sentences', video_id, list)
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
    starts, ends = validated_segments(checker, records, raw, durations,
                                       lambda n: f'timestamps[{n}]', numbers)
    checker.report()
    queries = pd.DataFrame({
        'query_id': pd.Series(ids, dtype=object), 'video_id': pd.Series(records, dtype=object),
        'duration': pd.Series(durations, dtype='float64'), 't_start': starts, 't_end': ends,
        'sentence': pd.Series(sentences_col, dtype=object),
        'subset': pd.Series([subset] * len(ids), dtype=object)})
    return GroundingAnnotations(queries, str(path))


def parse_grounding_json(path: str | os.PathLike, data: Any, *, subset: str | None = None,
                         tolerance: float = DURATION_TOLERANCE) -> GroundingAnnotations:
    """Read the parsed canonical grounding JSON (written by ``writers.write_grounding_json``).

    Format: ``{"queries": [{"query_id", "video", "duration", "segment": [s, e],
    "sentence"[, "subset"]}]}``.

    Args:
        path: The JSON file, for messages.
        data: Its parsed content.
        subset: Keep only queries of this subset (the optional per-query ``subset``).
        tolerance: Seconds an end may pass the duration and be clipped.

    Returns:
        :class:`GroundingAnnotations`.
    """
    checker = SegmentChecker(path, tolerance, record_kind='query')
    if not isinstance(data, dict) or not isinstance(data.get('queries'), list):
        raise InputError(path, 'expected {"queries": [...]}', field='queries')
    rows, seen, subsets = [], set(), set()
    for number, entry in enumerate(data['queries']):
        query_id = str(require(checker, entry, 'query_id', f'#{number}', (str, int)))
        if query_id in seen:
            raise checker.error(query_id, 'query_id', 'duplicate query id')
        seen.add(query_id)
        video_id = require(checker, entry, 'video', query_id, str)
        duration = checker.duration(require(checker, entry, 'duration', query_id), query_id)
        start, end = checker.segment(require(checker, entry, 'segment', query_id), query_id,
                                     duration)
        sentence = require(checker, entry, 'sentence', query_id, str)
        query_subset = entry.get('subset', '')
        subsets.add(query_subset)
        if subset is not None and query_subset != subset:
            continue
        rows.append((query_id, video_id, duration, start, end, sentence, query_subset))
    check_subset(path, subset, subsets)
    checker.report()
    return GroundingAnnotations(queries_frame(rows), str(path))

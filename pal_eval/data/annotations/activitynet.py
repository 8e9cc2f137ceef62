"""ActivityNet v1.3 ground truth (also G-TAD's THUMOS14 JSON and mmaction2's bare form)."""
from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from pal_eval.data.annotations.canonical import (
    AMBIGUOUS_LABEL,
    DURATION_TOLERANCE,
    ActionAnnotations,
    VideoInfo,
    instances_from_columns,
)
from pal_eval.data.annotations.checks import (
    SegmentChecker,
    check_subset,
    require,
    same_subset,
    validated_segments,
)
from pal_eval.errors import InputError
from pal_eval.io import read_json


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


def _durations(checker: SegmentChecker, entry: dict, video_id: str) -> tuple[float, float | None]:
    """``(duration, feature_span)`` of one entry (NaN / None when the file has none).

    ``duration``, else mmaction2's ``duration_second``. mmaction2 (and BMN) rescale
    annotations to the seconds the features cover, ``feature_frame / duration_frame *
    duration_second``: that is the ``feature_span`` when the three are present.
    """
    key = 'duration' if entry.get('duration') is not None else 'duration_second'
    duration = (checker.duration(entry[key], video_id, key)
                if entry.get(key) is not None else math.nan)
    span = None
    if not math.isnan(duration) and entry.get('feature_frame') is not None \
            and entry.get('duration_frame') is not None:
        frames = checker.duration(entry['duration_frame'], video_id, 'duration_frame')
        covered = checker.duration(entry['feature_frame'], video_id, 'feature_frame')
        span = covered / frames * duration
    return duration, span


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
    checker = SegmentChecker(path, tolerance)
    # mmaction2's anet_anno_{train,val}.json hold one split each and no "subset": the
    # requested subset then labels every video (as one-split grounding files do).
    split_file = not any(type(e) is dict and 'subset' in e for e in database.values())
    subsets = set()
    videos: dict[str, VideoInfo] = {}
    # Column lists, validated together by _validated_segments (one numpy pass, not one
    # Python call per segment: ~5,000-video files load in a few tens of milliseconds).
    records, raw_segments, durations, fields, labels = [], [], [], [], []
    for video_id, entry in database.items():
        if type(entry) is not dict:
            raise checker.error(video_id, None, f'must be an object, got {type(entry).__name__}')
        if split_file:
            video_subset = subset or ''
        else:
            video_subset = require(checker, entry, 'subset', video_id, str) \
                if 'subset' in entry or subset is not None else ''
        subsets.add(video_subset)
        if subset is not None and not same_subset(video_subset, subset):
            continue
        duration, feature_span = _durations(checker, entry, video_id)
        fps = entry.get('fps')
        if fps is not None:
            fps = checker.duration(fps, video_id, 'fps')
        videos[video_id] = VideoInfo(video_id, video_subset, duration, fps,
                                     entry.get('resolution'), feature_span)
        annotations = entry.get('annotations')
        if type(annotations) is not list:
            require(checker, entry, 'annotations', video_id, list)
        for number, item in enumerate(annotations):
            try:
                segment, label = item['segment'], item['label']
            except (KeyError, TypeError):
                require(checker, item, 'segment', video_id)
                require(checker, item, 'label', video_id, str)
                raise
            if type(label) is not str:
                require(checker, item, 'label', video_id, str)
            records.append(video_id)
            raw_segments.append(segment)
            durations.append(duration)
            fields.append(number)
            labels.append(label)
    check_subset(path, subset, subsets)
    starts, ends = validated_segments(checker, records, raw_segments, durations,
                                       lambda n: f'annotations[{n}].segment', fields)
    checker.report()
    ambiguous = np.fromiter((label == AMBIGUOUS_LABEL for label in labels), bool, len(labels))
    columns = (np.asarray(records, dtype=object), starts, ends,
               np.asarray(labels, dtype=object))
    instances = instances_from_columns(*(c[~ambiguous] for c in columns))
    if 'taxonomy' in data:
        taxonomy = _taxonomy_leaves(path, data['taxonomy'])
    else:
        taxonomy = sorted(set(instances['label']))
    return ActionAnnotations(videos, instances, taxonomy, str(path),
                             instances_from_columns(*(c[ambiguous] for c in columns)))


def load_activitynet(path: str | os.PathLike, subset: str | None = None, *,
                     tolerance: float = DURATION_TOLERANCE) -> ActionAnnotations:
    """Load an ActivityNet v1.3 ground-truth JSON (``version``/``taxonomy``/``database``).

    Also reads the ActivityNet-style THUMOS14 JSON of G-TAD (segments as strings, no
    duration, no taxonomy), the bare ``{video_id: {...}}`` form of mmaction2
    (``anet_anno_{train,val}.json``: ``duration_second``, ``feature_frame``, one split per
    file and no ``subset``, so ``subset`` labels every video) and ActionFormer's JSON
    (subsets ``Validation`` / ``Test``: subsets match whatever their case). ``taxonomy``
    is the list of leaf classes when the file has one, else the
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

"""Writers: canonical annotations to ActivityNet v1.3, canonical grounding, Charades-STA."""
from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

from pal_eval.data.annotations.canonical import ActionAnnotations, GroundingAnnotations
from pal_eval.io import atomic_write, write_json


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
    """Atomically write the canonical grounding JSON (read back by ``load_queries``)."""
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

"""The canonical in-memory forms every stage codes against, and their constants.

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
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

INSTANCE_COLUMNS = ('video_id', 't_start', 't_end', 'label')
QUERY_COLUMNS = ('query_id', 'video_id', 'duration', 't_start', 't_end', 'sentence', 'subset')

#: Seconds a segment may end past its video's duration and still be clipped (float
#: noise: ActivityNet Captions val_1 has 134 ends 0.01 s past the duration).
DURATION_TOLERANCE = 0.05
#: Charades_v1 ``length`` is rounded and Charades-STA ends overshoot it by up to 1.5 s.
CHARADES_DURATION_TOLERANCE = 2.0
#: THUMOS14 label of segments the official evaluation ignores (kept apart from instances).
AMBIGUOUS_LABEL = 'Ambiguous'


class AnnotationWarning(UserWarning):
    """Something in an annotation file was repaired (e.g. float-noise overshoots clipped)."""


@dataclass(frozen=True)
class VideoInfo:
    """One annotated video (``duration`` is NaN when the format does not store it).

    ``feature_span``: seconds covered by a release's features when the file says so
    (mmaction2's ``feature_frame / duration_frame * duration_second``), else None.
    """

    video_id: str
    subset: str
    duration: float
    fps: float | None = None
    resolution: str | None = None
    feature_span: float | None = None


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

    def without_videos(self, video_ids) -> ActionAnnotations:
        """These annotations less the given videos (e.g. ActivityNet's blocked list)."""
        drop = set(video_ids)
        videos = {k: v for k, v in self.videos.items() if k not in drop}
        keep = ~self.instances['video_id'].isin(drop)
        keep_amb = ~self.ambiguous['video_id'].isin(drop)
        return ActionAnnotations(videos, self.instances[keep].reset_index(drop=True),
                                 list(self.taxonomy), self.source,
                                 self.ambiguous[keep_amb].reset_index(drop=True))

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



def instances_from_columns(video_ids: Any, starts: Any, ends: Any, labels: Any
                            ) -> pd.DataFrame:
    """Canonical instance DataFrame straight from column arrays (no row tuples)."""
    return pd.DataFrame({'video_id': pd.Series(video_ids, dtype=object),
                         't_start': pd.Series(starts, dtype='float64'),
                         't_end': pd.Series(ends, dtype='float64'),
                         'label': pd.Series(labels, dtype=object)})


"""Annotation I/O: every supported format into one canonical in-memory form.

Canonical forms (the contract every stage codes against):

* :class:`ActionAnnotations`: temporal action annotations (ActivityNet v1.3, THUMOS14,
  the synthetic benchmark). ``videos`` maps video id to :class:`VideoInfo`;
  ``instances`` is a pandas DataFrame with columns ``video_id`` (str), ``t_start``,
  ``t_end`` (float64 seconds) and ``label`` (str); ``taxonomy`` lists class names.
* :class:`GroundingAnnotations`: (video, sentence, segment) queries; ``queries`` is a
  DataFrame with columns ``query_id`` (str), ``video_id``, ``duration``, ``t_start``,
  ``t_end``, ``sentence`` and ``subset``.

Loaders raise :class:`pal_eval.errors.InputError` naming the file, the video id and
the field on malformed input.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

INSTANCE_COLUMNS = ('video_id', 't_start', 't_end', 'label')
QUERY_COLUMNS = ('query_id', 'video_id', 'duration', 't_start', 't_end', 'sentence', 'subset')


@dataclass(frozen=True)
class VideoInfo:
    """One annotated video."""

    video_id: str
    subset: str
    duration: float
    fps: float | None = None
    resolution: str | None = None


@dataclass
class ActionAnnotations:
    """Temporal action annotations in canonical form."""

    videos: dict[str, VideoInfo]
    instances: pd.DataFrame
    taxonomy: list[str] = field(default_factory=list)
    source: str = ''


@dataclass
class GroundingAnnotations:
    """Natural-language grounding queries in canonical form."""

    queries: pd.DataFrame
    source: str = ''

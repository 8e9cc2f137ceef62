"""Ground truth for the evaluators (shared by the CLI and the metrics).

Read through the annotation doors (:func:`pal_eval.data.annotations.load_actions` and
:func:`~pal_eval.data.annotations.load_queries`); "nothing to evaluate" becomes an
:class:`~pal_eval.errors.InputError` naming the file: the metrics are undefined without
ground truth, and a silent 0 would hide a wrong ``--subset``.
"""
from __future__ import annotations

import os

import pandas as pd

from pal_eval.data.annotations import (
    load_actions,
    load_queries,
    read_video_list,
    with_either_prefix,
)
from pal_eval.data.annotations.canonical import ActionAnnotations
from pal_eval.errors import InputError

__all__ = ['blocked_video_ids', 'load_action_ground_truth', 'load_grounding_ground_truth']


def blocked_video_ids(path: str | os.PathLike) -> set[str]:
    """The ids of a blocked-video list, each with and without the ``v_`` prefix."""
    return with_either_prefix(read_video_list(path))


def load_action_ground_truth(path: str | os.PathLike, subset: str | None,
                             blocked_videos: str | os.PathLike | None = None
                             ) -> ActionAnnotations:
    """Temporal action ground truth of one subset (any format ``load_actions`` reads).

    Args:
        path: The ground-truth file.
        subset: Its subset to keep (None: all).
        blocked_videos: A video list (:func:`pal_eval.data.annotations.read_video_list`,
            e.g. OpenTAD's ActivityNet ``blocked.json``): those videos are left out, as
            the official evaluator leaves out its blocked videos (``check_status``).

    Returns:
        :class:`~pal_eval.data.annotations.canonical.ActionAnnotations` of that subset
        (its ``ambiguous`` frame holds THUMOS14 'Ambiguous' segments).

    Raises:
        InputError: unreadable or malformed file, unknown subset, no instance.
    """
    annotations = load_actions(path, subset)
    if blocked_videos is not None:
        annotations = annotations.without_videos(blocked_video_ids(blocked_videos))
    if len(annotations.instances) == 0:
        where = f'subset {subset!r}' if subset is not None else 'the file'
        raise InputError(path, f'no ground-truth instances in {where} (the metric is '
                         'undefined)', field='database')
    return annotations


def load_grounding_ground_truth(path: str | os.PathLike, subset: str | None = None
                                ) -> pd.DataFrame:
    """Grounding queries (``query_id``, ``t_start``, ``t_end``, ...) of any format.

    Returns:
        The ``GroundingAnnotations.queries`` DataFrame.

    Raises:
        InputError: unreadable or malformed file, a prediction file, no query.
    """
    queries = load_queries(path, subset).queries
    if len(queries) == 0:
        raise InputError(path, 'no ground-truth queries (the metric is undefined)',
                         field='queries')
    return queries

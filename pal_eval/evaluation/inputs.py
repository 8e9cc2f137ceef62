"""Ground truth for the evaluators, from any supported file (shared by CLI and metrics).

Thin dispatch over :mod:`pal_eval.data.annotations` that turns "nothing to evaluate"
into an :class:`~pal_eval.errors.InputError` naming the file: the metrics are undefined
without ground truth, and a silent 0 would hide a wrong ``--subset``.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from pal_eval.errors import InputError

__all__ = ['load_action_ground_truth', 'load_grounding_ground_truth']


def load_action_ground_truth(path: str | os.PathLike, subset: str | None):
    """Temporal action ground truth of one subset.

    Args:
        path: ActivityNet-style JSON (also G-TAD's THUMOS14 JSON and mmaction2's bare
            form), a THUMOS14 CSV, or a THUMOS14 per-class txt folder.
        subset: ``'validation'``, ``'test'``... (``None``: every video).

    Returns:
        :class:`~pal_eval.data.annotations.ActionAnnotations` of that subset (its
        ``ambiguous`` frame holds THUMOS14 'Ambiguous' segments).

    Raises:
        InputError: unreadable or malformed file, unknown subset, no instance.
    """
    from pal_eval.data.annotations import load_activitynet, load_thumos14

    path = Path(path)
    if path.is_dir() or path.suffix.lower() == '.csv':
        annotations = load_thumos14(path, subset)
    else:
        annotations = load_activitynet(path, subset)
    if len(annotations.instances) == 0:
        where = f'subset {subset!r}' if subset is not None else 'the file'
        raise InputError(path, f'no ground-truth instances in {where} (the metric is '
                         'undefined)', field='database')
    return annotations


def load_grounding_ground_truth(path: str | os.PathLike, subset: str | None = None
                                ) -> pd.DataFrame:
    """Grounding queries (``query_id``, ``t_start``, ``t_end``, ...) from any format.

    Args:
        path: Canonical grounding JSON (``{"queries": [...]}``), Charades-STA ``.txt``
            or ActivityNet Captions JSON.
        subset: Keep only queries of this subset (``None``: all).

    Returns:
        The ``GroundingAnnotations.queries`` DataFrame.

    Raises:
        InputError: unreadable or malformed file, a prediction file, no query.
    """
    from pal_eval.data.annotations import (
        load_activitynet_captions,
        load_charades_sta,
        load_grounding_json,
    )
    from pal_eval.io import read_json

    path = Path(path)
    if path.suffix.lower() == '.txt':
        queries = load_charades_sta(path).queries
    else:
        data = read_json(path)
        if isinstance(data, dict) and 'queries' in data:
            queries = load_grounding_json(path).queries
        elif isinstance(data, dict) and 'results' in data:
            raise InputError(path, 'this is a prediction file (it has "results"), expected '
                             'grounding ground truth', field='queries')
        else:
            queries = load_activitynet_captions(path).queries
    if subset is not None:
        present = set(queries['subset'])
        if subset not in present:
            raise InputError(path, f'unknown subset {subset!r}; the file has '
                             f'{", ".join(map(repr, sorted(present)))}', field='subset')
        queries = queries[queries['subset'] == subset].reset_index(drop=True)
    if len(queries) == 0:
        raise InputError(path, 'no ground-truth queries (the metric is undefined)',
                         field='queries')
    return queries

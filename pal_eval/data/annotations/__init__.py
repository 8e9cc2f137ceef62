"""Annotation I/O: every supported format into one canonical form, through one door per kind.

Every stage (feature datasets, ``pal-eval evaluate`` and the metrics, the probe, the
leaderboard's layout checks, the video classifiers) reads annotations through
:func:`load_actions` or :func:`load_queries`; the format is recognised here, in one place
(:func:`annotation_format`), never by a caller.

=================================  ===================  ==============================
format                             door                 reader
=================================  ===================  ==============================
ActivityNet v1.3 GT JSON (also     :func:`load_actions`  :mod:`.activitynet`
mmaction2's bare ``{vid: {...}}``
and G-TAD's THUMOS14 JSON)
THUMOS14 CSVs (both layouts)       :func:`load_actions`  :mod:`.thumos`
THUMOS14 per-class txt folder      :func:`load_actions`  :mod:`.thumos`
Charades-STA txt                   :func:`load_queries`  :mod:`.grounding`
ActivityNet Captions JSON          :func:`load_queries`  :mod:`.grounding`
canonical grounding JSON           :func:`load_queries`  :mod:`.grounding`
video lists (blocked videos)       :func:`read_video_list` :mod:`.video_lists`
=================================  ===================  ==============================

The canonical forms (:class:`~.canonical.ActionAnnotations`,
:class:`~.canonical.GroundingAnnotations`) live in :mod:`.canonical`, the validation
rules in :mod:`.checks`, the writers in :mod:`.writers`. Everything is torch-free and
fast: DataFrames are built once from column lists (the ~4,900-video ActivityNet Captions
file loads in well under 0.1 s).

Examples:
    >>> import json, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / 'gt.json'
    >>> _ = path.write_text(json.dumps({'database': {'v1': {
    ...     'subset': 'validation', 'duration': 10.0,
    ...     'annotations': [{'segment': [1.0, 4.5], 'label': 'Jump'}]}}}))
    >>> load_actions(path, subset='validation').instances.to_dict('records')
    [{'video_id': 'v1', 't_start': 1.0, 't_end': 4.5, 'label': 'Jump'}]
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pal_eval.data.annotations import activitynet, grounding, thumos
from pal_eval.data.annotations.canonical import ActionAnnotations, GroundingAnnotations
from pal_eval.data.annotations.video_lists import read_video_list, with_either_prefix
from pal_eval.errors import InputError
from pal_eval.io import read_json

__all__ = ['ACTION_FORMATS', 'QUERY_FORMATS', 'annotation_format', 'load_actions',
           'load_queries', 'read_video_list', 'with_either_prefix']

#: Formats :func:`load_actions` reads (temporal action annotations).
ACTION_FORMATS = ('activitynet', 'thumos14-csv', 'thumos14-txt')
#: Formats :func:`load_queries` reads (natural-language grounding queries).
QUERY_FORMATS = ('charades-sta', 'activitynet-captions', 'grounding-json')


def annotation_format(path: str | os.PathLike) -> str:
    """The format of an annotation file or folder (one of the two tuples above).

    Folder: THUMOS14 per-class txt files; ``.csv``: THUMOS14; ``.txt``: Charades-STA;
    a JSON object with ``queries``: the canonical grounding JSON; one whose videos have
    ``timestamps``: ActivityNet Captions; any other JSON: ActivityNet style.

    Raises:
        InputError: unreadable JSON, or a prediction file (it has ``results``).

    Examples:
        >>> annotation_format('charades_sta_test.txt')
        'charades-sta'
    """
    return _detect(Path(path))[0]


def load_actions(path: str | os.PathLike, subset: str | None = None) -> ActionAnnotations:
    """Temporal action annotations of any supported format (see the module table).

    Args:
        path: ActivityNet-style JSON (also G-TAD's THUMOS14 JSON and mmaction2's bare
            form), a THUMOS14 CSV, or a THUMOS14 per-class txt folder.
        subset: Keep only this subset (``'validation'``, ``'test'``...); ``None`` keeps all.

    Returns:
        :class:`~.canonical.ActionAnnotations` (THUMOS14 'Ambiguous' segments in its
        ``ambiguous`` frame).

    Raises:
        InputError: unreadable or malformed file, unknown subset, a grounding or
            prediction file.
    """
    path, kind, data = _open(path, ACTION_FORMATS)
    if kind == 'thumos14-txt':
        return thumos.load_thumos14_txt_folder(path, subset)
    if kind == 'thumos14-csv':
        return thumos.load_thumos14_csv(path, subset)
    return activitynet.parse_activitynet(path, data, subset=subset)


def load_queries(path: str | os.PathLike, subset: str | None = None, *,
                 durations: str | os.PathLike | Mapping[str, float] | None = None
                 ) -> GroundingAnnotations:
    """Grounding queries of any supported format (see the module table).

    Charades-STA and ActivityNet Captions files hold one split each: ``subset`` labels
    their rows (default ``'test'`` and ``'validation'``). The canonical JSON records each
    query's subset: ``subset`` keeps those queries (an absent subset is an error).

    Args:
        path: Charades-STA ``.txt``, ActivityNet Captions JSON or canonical grounding JSON.
        subset: See above; ``None`` keeps every query.
        durations: Charades-STA only: ``Charades_v1_*.csv`` or ``{video: seconds}``
            (without it durations are NaN and ends are not checked against them).

    Returns:
        :class:`~.canonical.GroundingAnnotations`.

    Raises:
        InputError: unreadable or malformed file, unknown subset, an action or
            prediction file.
    """
    path, kind, data = _open(path, QUERY_FORMATS)
    if kind == 'charades-sta':
        return grounding.load_charades_sta(path, durations, subset=subset or 'test')
    if kind == 'grounding-json':
        return grounding.parse_grounding_json(path, data, subset=subset)
    return grounding.parse_activitynet_captions(path, data, subset=subset or 'validation')


_KINDS = {ACTION_FORMATS: 'temporal action annotations', QUERY_FORMATS: 'grounding queries'}


def _open(path: str | os.PathLike, formats: tuple[str, ...]) -> tuple[Path, str, Any]:
    """``(path, format, parsed JSON or None)`` of a file that one door reads.

    A JSON object that is neither wrapped ActivityNet (``database``) nor recognisably
    anything else goes to the grounding door as ActivityNet Captions, whose reader names
    the malformed field precisely.
    """
    path = Path(path)
    kind, data = _detect(path)
    wrapped = isinstance(data, dict) and 'database' in data
    if formats is QUERY_FORMATS and kind == 'activitynet' and not wrapped:
        kind = 'activitynet-captions'
    if kind not in formats:
        other = QUERY_FORMATS if formats is ACTION_FORMATS else ACTION_FORMATS
        raise InputError(path, f'holds {_KINDS[other]} ({kind}), not {_KINDS[formats]}')
    return path, kind, data


def _detect(path: Path) -> tuple[str, Any]:
    """``(format, parsed JSON or None)``: JSON files are read once, here."""
    if path.is_dir():
        return 'thumos14-txt', None
    suffix = path.suffix.lower()
    if suffix == '.csv':
        return 'thumos14-csv', None
    if suffix == '.txt':
        return 'charades-sta', None
    data = read_json(path)
    if isinstance(data, dict):
        if 'results' in data:
            raise InputError(path, 'this is a prediction file (it has "results"), expected '
                             'ground truth', field='results')
        if 'queries' in data:
            return 'grounding-json', data
        first = next(iter(data.values()), None)
        if 'database' not in data and isinstance(first, dict) and 'timestamps' in first:
            return 'activitynet-captions', data
    return 'activitynet', data

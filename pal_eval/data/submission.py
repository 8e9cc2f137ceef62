"""Prediction files: ActivityNet detection / proposal submissions and grounding predictions.

The one reader/writer every stage uses (heads dump them, ``pal-eval evaluate`` reads
them, the leaderboard compares them).

Formats:

* ActivityNet detection submission (``Evaluation/eval_detection.py``)::

      {"version": "VERSION 1.3", "external_data": {...},
       "results": {"<video_id>": [{"label": str, "score": x, "segment": [s, e]}, ...]}}

  Proposal submissions are the same without ``label`` (a label, if present, is ignored).
* Grounding predictions::

      {"results": {"<query_id>": [{"segment": [s, e], "score": x}, ...]}}

In memory a submission is a pandas DataFrame, one row per prediction in file order
(the order breaks score ties): columns ``video_id``, ``t_start``, ``t_end``, ``score``
and, for detection, ``label``; grounding uses ``query_id`` instead of ``video_id``.

Reading is vectorised (one pass to gather the columns, numpy checks); only when a check
fails does a slow scan look for the first offending record, so the error names the
file, the video/query and the field. Times must be finite numbers and scores finite.
Reversed segments (end < start) and segments ending before 0 are accepted, as the
official evaluators accept them, and counted in one warning line each.

Examples:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / 'det.json'
    >>> frame = pd.DataFrame({'video_id': ['v1'], 't_start': [1.0], 't_end': [4.5],
    ...                       'score': [0.9], 'label': ['Jump']})
    >>> write_action_submission(path, frame)
    >>> read_action_submission(path).to_dict('records')
    [{'video_id': 'v1', 't_start': 1.0, 't_end': 4.5, 'score': 0.9, 'label': 'Jump'}]
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pal_eval.errors import InputError, PalEvalError
from pal_eval.io import read_json, write_json

__all__ = ['DETECTION_COLUMNS', 'PROPOSAL_COLUMNS', 'GROUNDING_COLUMNS',
           'read_action_submission', 'parse_action_submission', 'action_submission_dict',
           'write_action_submission', 'read_grounding_predictions',
           'parse_grounding_predictions', 'grounding_predictions_dict',
           'write_grounding_predictions', 'reconcile_video_prefix']

DETECTION_COLUMNS = ('video_id', 't_start', 't_end', 'score', 'label')
PROPOSAL_COLUMNS = ('video_id', 't_start', 't_end', 'score')
GROUNDING_COLUMNS = ('query_id', 't_start', 't_end', 'score')


def _results_mapping(path: str | os.PathLike, data: Any, what: str) -> Mapping:
    """The ``results`` object, with a clear error for ground-truth files and typos."""
    if isinstance(data, dict) and 'results' not in data:
        if 'database' in data or 'queries' in data:
            raise InputError(path, f'this is a ground-truth file (it has '
                             f'"{"database" if "database" in data else "queries"}"), '
                             f'expected {what} with a "results" object', field='results')
        if data and all(isinstance(v, dict) and 'annotations' in v for v in data.values()):
            raise InputError(path, f'this is a ground-truth file, expected {what} with a '
                             '"results" object', field='results')
    if not isinstance(data, dict) or not isinstance(data.get('results'), dict):
        raise InputError(path, f'missing or malformed key (expected {what}: '
                         '{"results": {id: [...]}})', field='results')
    results = data['results']
    if not results:
        raise InputError(path, 'contains no predictions', field='results')
    return results


def _gather(results: Mapping, keys: tuple[str, ...]) -> tuple[list, list[int], dict]:
    """Columns of all records (fast path); raises KeyError/TypeError on malformed ones."""
    ids, counts = [], []
    columns: dict[str, list] = {key: [] for key in keys}
    for record_id, items in results.items():
        if not isinstance(items, list):
            raise TypeError
        ids.append(record_id)
        counts.append(len(items))
        for key in keys:
            columns[key].extend([item[key] for item in items])
    return ids, counts, columns


def _find_bad_record(path, results: Mapping, keys: tuple[str, ...], record_kind: str):
    """Slow scan for the first malformed record: returns the InputError to raise."""
    for record_id, items in results.items():
        if not isinstance(items, list):
            return InputError(path, f'must be a list of predictions, got '
                              f'{type(items).__name__}', record=record_id,
                              field='results', record_kind=record_kind)
        for number, item in enumerate(items):
            where = f'results[{number}]'
            if not isinstance(item, dict):
                return InputError(path, f'must be an object, got {type(item).__name__}',
                                  record=record_id, field=where, record_kind=record_kind)
            for key in keys:
                if key not in item:
                    return InputError(path, 'missing key', record=record_id,
                                      field=f'{where}.{key}', record_kind=record_kind)
            problem = _value_problem(item, keys)
            if problem is not None:
                key, message = problem
                return InputError(path, message, record=record_id, field=f'{where}.{key}',
                                  record_kind=record_kind)
    return InputError(path, 'malformed predictions', field='results')


def _number_problem(value: Any) -> str | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return f'must be a number, got {value!r}'
    if not math.isfinite(number):
        return f'must be finite, got {value!r}'
    return None


def _value_problem(item: dict, keys: tuple[str, ...]) -> tuple[str, str] | None:
    segment = item['segment']
    if not isinstance(segment, (list, tuple)) or len(segment) != 2:
        return 'segment', f'must be [start, end], got {segment!r}'
    for value in segment:
        problem = _number_problem(value)
        if problem:
            return 'segment', problem
    problem = _number_problem(item['score'])
    if problem:
        return 'score', problem
    if 'label' in keys and not isinstance(item['label'], str):
        return 'label', f'must be a string, got {item["label"]!r}'
    return None


def _segments_array(segments: list) -> np.ndarray:
    """``[N, 2]`` float64 from a list of ``[start, end]`` lists, fast for plain numbers."""
    if set(map(type, segments)) - {list, tuple} or set(map(len, segments)) - {2}:
        raise ValueError  # the slow scan reports which record
    try:
        flat = np.fromiter(chain.from_iterable(segments), dtype=np.float64,
                           count=2 * len(segments))
    except (TypeError, ValueError):
        # numeric strings are accepted, like the official float(...) calls
        flat = np.asarray(segments, dtype=np.float64).reshape(-1)
    return flat.reshape(-1, 2)


def _scores_array(scores: list) -> np.ndarray:
    try:
        return np.fromiter(scores, dtype=np.float64, count=len(scores))
    except (TypeError, ValueError):
        return np.asarray(scores, dtype=np.float64)


def _parse(path, data: Any, keys: tuple[str, ...], id_column: str, what: str,
           record_kind: str) -> pd.DataFrame:
    results = _results_mapping(path, data, what)
    try:
        ids, counts, columns = _gather(results, keys)
        segments = _segments_array(columns['segment'])
        scores = _scores_array(columns['score'])
        labels = columns.get('label')
        if labels is not None and labels and set(map(type, labels)) != {str}:
            raise TypeError
        if not (np.isfinite(segments).all() and np.isfinite(scores).all()):
            raise ValueError
    except (KeyError, TypeError, ValueError, IndexError):
        raise _find_bad_record(path, results, keys, record_kind) from None
    if segments.shape[0] == 0:
        raise InputError(path, 'contains no predictions', field='results')
    _warn_unusual_segments(path, segments, np.repeat(np.asarray(ids, dtype=object), counts),
                           record_kind)
    frame = {id_column: np.repeat(np.asarray(ids, dtype=object), counts),
             't_start': segments[:, 0], 't_end': segments[:, 1], 'score': scores}
    if labels is not None:
        frame['label'] = np.asarray(labels, dtype=object)
    return pd.DataFrame(frame)


def _warn_unusual_segments(path, segments: np.ndarray, record_ids: np.ndarray,
                           record_kind: str) -> None:
    """One warning line per kind of prediction the official evaluators accept but that
    is probably a bug upstream: reversed segments (end < start) and segments that end
    before 0 s. They are kept and scored as officially (a reversed segment overlaps
    nothing, see :mod:`pal_eval.core.tiou`), so the numbers stay comparable."""
    import warnings

    for mask, what in ((segments[:, 1] < segments[:, 0], 'have end < start'),
                       (segments[:, 1] < 0, 'end before 0 s')):
        count = int(mask.sum())
        if count:
            first = int(np.flatnonzero(mask)[0])
            warnings.warn(
                f'{path}: {count} of {len(segments)} predictions {what} (first: '
                f'{record_kind} {record_ids[first]!r}, segment '
                f'{segments[first].tolist()}); kept and scored as the official '
                'evaluator does', stacklevel=3)


def parse_action_submission(path: str | os.PathLike, data: Any, *,
                            with_labels: bool = True) -> pd.DataFrame:
    """Predictions from already-parsed ActivityNet submission JSON (see the module doc).

    Args:
        path: Where ``data`` came from (for error messages).
        data: The parsed JSON.
        with_labels: Detection (``label`` required) or proposals (``label`` ignored).

    Returns:
        DataFrame with :data:`DETECTION_COLUMNS` or :data:`PROPOSAL_COLUMNS`.

    Raises:
        InputError: ground-truth file given, missing ``results``, no prediction, missing
            keys, non-numeric/NaN/inf values, non-string labels.
    """
    keys = ('segment', 'score', 'label') if with_labels else ('segment', 'score')
    what = 'a detection submission' if with_labels else 'a proposal submission'
    return _parse(path, data, keys, 'video_id', what, 'video')


def read_action_submission(path: str | os.PathLike, *, with_labels: bool = True
                           ) -> pd.DataFrame:
    """Read an ActivityNet detection (``with_labels``) or proposal submission JSON.

    Args:
        path: The JSON file.
        with_labels: Detection (``label`` required) or proposals (``label`` ignored).

    Returns:
        DataFrame with :data:`DETECTION_COLUMNS` or :data:`PROPOSAL_COLUMNS`.
    """
    return parse_action_submission(path, read_json(path), with_labels=with_labels)


def action_submission_dict(predictions: pd.DataFrame, *, version: str = 'VERSION 1.3',
                           external_data: Mapping | None = None) -> dict:
    """The ActivityNet submission JSON content of ``predictions`` (label kept if present).

    Videos appear in order of first appearance; predictions keep their row order.
    """
    with_labels = 'label' in predictions.columns
    results: dict[str, list[dict]] = {}
    columns = [predictions['video_id'], predictions['t_start'], predictions['t_end'],
               predictions['score']]
    if with_labels:
        columns.append(predictions['label'])
    for row in zip(*columns):
        record = {'segment': [float(row[1]), float(row[2])], 'score': float(row[3])}
        if with_labels:
            record['label'] = str(row[4])
        results.setdefault(str(row[0]), []).append(record)
    return {'version': version, 'external_data': dict(external_data or {'used': False}),
            'results': results}


def _refuse_overwrite(path: str | os.PathLike, overwrite: bool) -> None:
    if not overwrite and Path(path).exists():
        raise PalEvalError(f'{path}: already exists (refusing to overwrite; remove it or '
                           'choose another path)')


def write_action_submission(path: str | os.PathLike, predictions: pd.DataFrame, *,
                            overwrite: bool = False, **kwargs: Any) -> None:
    """Atomically write an ActivityNet detection/proposal submission.

    Args:
        path: Destination.
        predictions: DataFrame with :data:`PROPOSAL_COLUMNS` (+ ``label``).
        overwrite: Replace an existing file (otherwise refuse).
        **kwargs: ``version``, ``external_data`` for :func:`action_submission_dict`.
    """
    _refuse_overwrite(path, overwrite)
    write_json(path, action_submission_dict(predictions, **kwargs), indent=None)


def parse_grounding_predictions(path: str | os.PathLike, data: Any) -> pd.DataFrame:
    """Grounding predictions from parsed JSON ``{"results": {query_id: [...]}}``.

    Returns:
        DataFrame with :data:`GROUNDING_COLUMNS` (query ids as strings).
    """
    frame = _parse(path, data, ('segment', 'score'), 'query_id', 'grounding predictions',
                   'query')
    frame['query_id'] = frame['query_id'].astype(str)
    return frame


def read_grounding_predictions(path: str | os.PathLike) -> pd.DataFrame:
    """Read grounding predictions JSON; see :func:`parse_grounding_predictions`."""
    return parse_grounding_predictions(path, read_json(path))


def grounding_predictions_dict(predictions: pd.DataFrame) -> dict:
    """The grounding predictions JSON content of ``predictions`` (row order kept)."""
    results: dict[str, list[dict]] = {}
    for query_id, start, end, score in zip(predictions['query_id'], predictions['t_start'],
                                           predictions['t_end'], predictions['score']):
        results.setdefault(str(query_id), []).append(
            {'segment': [float(start), float(end)], 'score': float(score)})
    return {'results': results}


def write_grounding_predictions(path: str | os.PathLike, predictions: pd.DataFrame, *,
                                overwrite: bool = False) -> None:
    """Atomically write grounding predictions (refuses to overwrite unless asked)."""
    _refuse_overwrite(path, overwrite)
    write_json(path, grounding_predictions_dict(predictions), indent=None)


def reconcile_video_prefix(predictions: pd.DataFrame, gt_video_ids) -> tuple[pd.DataFrame, str]:
    """Add or strip the ``v_`` prefix of prediction video ids when that alone makes them match.

    ActivityNet ids are written both ways (``v_<youtube id>`` in mmaction2's and the
    feature files' conventions, bare in the official JSON). Only when *no* prediction
    video matches the ground truth as is and the other convention matches some, the ids
    are rewritten; the returned note says so (empty when nothing changed).

    Examples:
        >>> frame = pd.DataFrame({'video_id': ['abc'], 't_start': [0.], 't_end': [1.],
        ...                       'score': [1.]})
        >>> reconcile_video_prefix(frame, ['v_abc'])[0]['video_id'].tolist()
        ['v_abc']
    """
    gt = set(map(str, gt_video_ids))
    ids = predictions['video_id'].astype(str)
    unique = pd.unique(ids)
    if any(v in gt for v in unique):
        return predictions, ''
    for name, convert in (('added', lambda v: 'v_' + v),
                          ('stripped', lambda v: v[2:] if v.startswith('v_') else v)):
        mapping = {v: convert(v) for v in unique}
        if any(m in gt for m in mapping.values()):
            fixed = predictions.copy()
            fixed['video_id'] = ids.map(mapping).to_numpy(dtype=object)
            return fixed, (f'no prediction video id matched the ground truth; {name} the '
                           '"v_" prefix')
    return predictions, ''

"""Published reference numbers (``benchmarks/reference_results.yaml``) and their schema.

Each row carries the published metrics *and* where they were printed, so a leaderboard
never shows a number without its source. The schema is documented at the top of the YAML
file; :func:`load_reference` checks it and names the file, the row and the field of any
problem.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pal_eval.errors import InputError
from pal_eval.io import read_yaml

TASKS = ('detection', 'proposal', 'grounding', 'pretrain_ablation')
#: metrics that are not fractions and are therefore never rescaled to percent
UNSCALED_METRICS = ('GMACs_per_video', 'GFLOPs_per_video')
DEFAULT_REFERENCE = Path(__file__).resolve().parents[2] / 'benchmarks' / 'reference_results.yaml'


@dataclass(frozen=True)
class ReferenceRow:
    """One published result.

    Attributes:
        id: Unique id; results of our runs are matched to rows by this id.
        task: One of :data:`TASKS`.
        dataset: Data set name (``activitynet-1.3``, ``thumos14``, ...).
        subset: The evaluated split.
        method: Head and encoder as published.
        features: The features the head consumed.
        metrics: Metric name -> published value, in the file's unit.
        source: ``title``, ``url``, ``where``.
        verified: Whether the value was read in the source.
        tolerance: Allowed absolute difference, in the file's unit.
        extra: Any other field of the row (e.g. ``clips_per_video``).
    """

    id: str
    task: str
    dataset: str
    subset: str
    method: str
    features: str
    metrics: dict[str, float]
    source: dict[str, str]
    verified: bool
    tolerance: float
    extra: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ReferenceTable:
    """All rows of a reference file, plus the file's unit."""

    rows: list[ReferenceRow]
    unit: str = 'percent'

    def row(self, row_id: str) -> ReferenceRow:
        """The row with id ``row_id`` (``KeyError`` when absent)."""
        for row in self.rows:
            if row.id == row_id:
                return row
        raise KeyError(row_id)

    def to_frame(self) -> pd.DataFrame:
        """Long table: one line per (row, metric), with the source."""
        records = [{'id': r.id, 'task': r.task, 'dataset': r.dataset, 'method': r.method,
                    'features': r.features, 'metric': name, 'published': value,
                    'verified': r.verified, 'source': r.source.get('url', '')}
                   for r in self.rows for name, value in r.metrics.items()]
        return pd.DataFrame.from_records(records)


_REQUIRED = ('id', 'task', 'dataset', 'subset', 'method', 'features', 'metrics', 'source',
             'verified')


def load_reference(path: str | os.PathLike = DEFAULT_REFERENCE) -> ReferenceTable:
    """Load and validate a reference-results YAML file.

    Args:
        path: The YAML file (default: the project's ``benchmarks/reference_results.yaml``).

    Returns:
        The rows, in file order.

    Raises:
        InputError: unreadable YAML, a missing or malformed field, a duplicated id.

    Examples:
        >>> table = load_reference()
        >>> table.row('gtad_tsp_anet_opentad').metrics['average_mAP']
        36.2
    """
    data = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get('rows'), list):
        raise InputError(path, 'expected a mapping with a "rows" list', field='rows')
    unit = data.get('unit', 'percent')
    if unit not in ('percent', 'fraction'):
        raise InputError(path, f'unit must be "percent" or "fraction", got {unit!r}',
                         field='unit')
    default_tolerance = _number(data.get('default_tolerance', 1.0), path, None,
                                'default_tolerance')
    rows, seen = [], set()
    for index, raw in enumerate(data['rows']):
        record = str(raw.get('id', f'#{index}')) if isinstance(raw, dict) else f'#{index}'
        if not isinstance(raw, dict):
            raise InputError(path, 'each row must be a mapping', record=record,
                             record_kind='row')
        for key in _REQUIRED:
            if key not in raw:
                raise InputError(path, 'missing', record=record, field=key, record_kind='row')
        if raw['id'] in seen:
            raise InputError(path, 'duplicated id', record=record, field='id',
                             record_kind='row')
        seen.add(raw['id'])
        if raw['task'] not in TASKS:
            raise InputError(path, f'must be one of {", ".join(TASKS)}', record=record,
                             field='task', record_kind='row')
        if not isinstance(raw['metrics'], dict) or not raw['metrics']:
            raise InputError(path, 'must be a non-empty mapping name -> value', record=record,
                             field='metrics', record_kind='row')
        metrics = {str(k): _number(v, path, record, f'metrics.{k}')
                   for k, v in raw['metrics'].items()}
        source = raw['source']
        if not isinstance(source, dict) or not source.get('url') or not source.get('where'):
            raise InputError(path, 'needs "url" and "where" (a table, section or line)',
                             record=record, field='source', record_kind='row')
        if not isinstance(raw['verified'], bool):
            raise InputError(path, 'must be true or false', record=record, field='verified',
                             record_kind='row')
        tolerance = _number(raw.get('tolerance', default_tolerance), path, record, 'tolerance')
        extra = {k: v for k, v in raw.items() if k not in _REQUIRED and k != 'tolerance'}
        rows.append(ReferenceRow(
            id=str(raw['id']), task=raw['task'], dataset=str(raw['dataset']),
            subset=str(raw['subset']), method=str(raw['method']),
            features=str(raw['features']), metrics=metrics,
            source={k: str(v) for k, v in source.items()}, verified=raw['verified'],
            tolerance=tolerance, extra=extra))
    return ReferenceTable(rows=rows, unit=unit)



def _number(value, path, record, field_name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value):
        raise InputError(path, f'expected a finite number, got {value!r}', record=record,
                         field=field_name, record_kind='row')
    return float(value)

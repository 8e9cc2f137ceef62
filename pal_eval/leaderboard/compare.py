"""Our metrics next to the published ones: deltas, tolerance, markdown."""
from __future__ import annotations

import math
import os
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from pal_eval.errors import InputError
from pal_eval.io import read_json
from pal_eval.leaderboard.metrics_io import load_metrics
from pal_eval.leaderboard.reference import UNSCALED_METRICS, ReferenceTable

#: file names looked for under ``<results dir>/<row id>/`` (what ``leaderboard run`` writes)
RESULT_FILES = ('metrics.json', 'results.json')
#: written by ``leaderboard run`` next to the results: our row id -> reference row ids
REFERENCES_FILE = 'references.json'


def compare_with_reference(table: ReferenceTable,
                           results: Mapping[str | tuple[str, str], Mapping[str, float]],
                           *, tolerance: float | None = None,
                           intervals: Mapping | None = None) -> pd.DataFrame:
    """Put our metrics next to the published ones, one line per (row, metric).

    Args:
        table: The published rows.
        results: Reference row id, or ``(our row id, reference row id)`` when several of
            our rows (PAL, MoCoV2, random init) face the same published row -> our flat
            metrics (fractions in [0, 1], as written by ``pal-eval evaluate``;
            ``GMACs_per_video`` and other
            :data:`~pal_eval.leaderboard.reference.UNSCALED_METRICS` as they are).
        tolerance: Overrides every row's tolerance (in the table's unit).
        intervals: Same keys as ``results`` -> ``{metric: (low, high)}`` 95 % bootstrap
            intervals of our values (fractions; :func:`collect_intervals`).

    Returns:
        Columns ``ours_row, id, dataset, method, features, metric, published, ours,
        ours_ci, delta, tolerance, status, verified`` (``ours_row`` empty for plain
        reference keys; ``ours_ci`` ``'[low, high]'`` or empty);
        ``status`` is ``within`` (|delta| <= tolerance), ``above``, ``below`` or
        ``missing`` (the metric is not in our results).

    Raises:
        KeyError: a results id that is not a row of ``table``.

    Examples:
        >>> from pal_eval.leaderboard.reference import load_reference
        >>> table = load_reference()
        >>> frame = compare_with_reference(table, {'gtad_tsp_anet_opentad':
        ...                                        {'average_mAP': 0.3500}})
        >>> row = frame.set_index('metric').loc['average_mAP']
        >>> float(round(row['delta'], 2)), row['status']
        (-1.2, 'below')
    """
    scale = 100.0 if table.unit == 'percent' else 1.0
    records = []
    for key, ours in results.items():
        ours_row, row_id = key if isinstance(key, tuple) else ('', key)
        row = table.row(row_id)
        limit = row.tolerance if tolerance is None else float(tolerance)
        bounds = (intervals or {}).get(key, {})
        for name, published in row.metrics.items():
            value = ours.get(name)
            ci = ''
            if name in bounds and name not in UNSCALED_METRICS:
                ci = f'[{bounds[name][0] * scale:.2f}, {bounds[name][1] * scale:.2f}]'
            if value is None:
                mine, delta, status = math.nan, math.nan, 'missing'
            else:
                mine = value if name in UNSCALED_METRICS else value * scale
                delta = mine - published
                status = ('within' if abs(delta) <= limit + 1e-9  # float noise of x100
                          else 'above' if delta > 0 else 'below')
            records.append({'ours_row': ours_row, 'id': row.id, 'dataset': row.dataset,
                            'method': row.method, 'features': row.features, 'metric': name,
                            'published': published,
                            'ours': mine, 'ours_ci': ci, 'delta': delta, 'tolerance': limit,
                            'status': status, 'verified': row.verified})
    columns = ['ours_row', 'id', 'dataset', 'method', 'features', 'metric', 'published',
               'ours', 'ours_ci', 'delta', 'tolerance', 'status', 'verified']
    return pd.DataFrame.from_records(records, columns=columns)


def comparison_markdown(frame: pd.DataFrame, *, unit: str = 'percent') -> str:
    """Render :func:`compare_with_reference`'s table as GitHub markdown.

    Args:
        frame: The comparison table.
        unit: Printed in the header note.

    Returns:
        A markdown table (pandas + tabulate) followed by a one-line legend.
    """
    shown = frame.copy()
    for column in ('ours_row', 'ours_ci'):
        if column in shown and not shown[column].astype(bool).any():
            shown = shown.drop(columns=column)
    shown['verified'] = shown['verified'].map({True: 'yes', False: 'no'})
    shown = shown.astype(object).where(shown.notna(), None)  # tabulate prints None as '-'
    table = shown.to_markdown(index=False, floatfmt='.2f', missingval='-')
    legend = (f'\nValues in {unit} (G for GMACs_per_video / GFLOPs_per_video); ours_ci: '
              '95 % bootstrap interval over the evaluation videos / queries. status: '
              '"within" when |ours - published| <= tolerance; "verified" says whether the '
              'published value was read in its source (benchmarks/reference_results.yaml).\n')
    return table + '\n' + legend


def collect_results(table: ReferenceTable, *, results_dir: str | os.PathLike | None = None,
                    pairs: list[str] = ()) -> dict:
    """Find our metric files for reference rows.

    Args:
        table: The published rows (ids are validated against it).
        results_dir: A folder holding ``<reference id>/metrics.json`` or
            ``<reference id>.json``, or the layout ``pal-eval leaderboard run`` writes:
            ``<our row id>/metrics.json`` plus ``references.json`` (our row id -> reference
            ids). Rows without a file are skipped.
        pairs: Explicit ``ROW_ID=FILE`` strings; several files for one row are merged.

    Returns:
        Reference id, or ``(our row id, reference id)``, -> flat metrics.

    Raises:
        InputError: a pair without ``=``, an unknown row id, an unreadable metric file.
    """
    known = {row.id for row in table.rows}
    found: dict = {}
    if results_dir is not None:
        root = Path(results_dir)
        if not root.is_dir():
            raise InputError(root, 'results folder not found')
        mapping = read_json(root / REFERENCES_FILE) if (root / REFERENCES_FILE).is_file() \
            else {}
        for ours_row, references in mapping.items():
            metrics_file = root / ours_row / RESULT_FILES[0]
            if not metrics_file.is_file():
                continue
            metrics = load_metrics(metrics_file)
            for reference in references:
                if reference not in known:
                    raise InputError(root / REFERENCES_FILE, f'unknown reference row '
                                     f'{reference!r}', record=ours_row, record_kind='row')
                found[(ours_row, reference)] = metrics
        for row_id in sorted(known):
            for candidate in [root / row_id / name for name in RESULT_FILES] + \
                    [root / f'{row_id}.json']:
                if candidate.is_file():
                    found.setdefault(row_id, {}).update(load_metrics(candidate))
                    break
    for pair in pairs:
        row_id, sep, file_name = pair.partition('=')
        if not sep or not row_id or not file_name:
            raise InputError(pair, 'expected ROW_ID=METRICS_JSON', field='--result')
        if row_id not in known:
            raise InputError(file_name, f'unknown reference row {row_id!r} (see '
                             '`pal-eval leaderboard compare --list`)', field='--result')
        found.setdefault(row_id, {}).update(load_metrics(file_name))
    return found


#: written beside a row's metrics by the calibrated tables (pal_eval.leaderboard.calibrated)
BOOTSTRAP_FILE = 'bootstrap.json'


def collect_intervals(results_dir: str | os.PathLike, keys) -> dict:
    """95 % intervals of our rows, for the keys :func:`collect_results` returned.

    Read from ``<row>/bootstrap.json`` (the calibrated tables' resamples) or, failing
    that, the ``ci`` section of ``<row>/metrics.json`` (``pal-eval evaluate --ci``).

    Returns:
        Key -> ``{metric: (low, high)}`` (fractions); keys without intervals are absent.
    """
    from pal_eval.evaluation.bootstrap import percentile_interval

    root = Path(results_dir)
    found = {}
    for key in keys:
        row = key[0] if isinstance(key, tuple) else key
        samples, metrics = root / row / BOOTSTRAP_FILE, root / row / RESULT_FILES[0]
        if samples.is_file():
            stored = read_json(samples).get('samples', {})
            found[key] = {name: percentile_interval(values) for name, values in stored.items()}
        elif metrics.is_file():
            ci = read_json(metrics).get('ci', {})
            if isinstance(ci, Mapping) and isinstance(ci.get('intervals'), Mapping):
                found[key] = {name: tuple(v) for name, v in ci['intervals'].items()}
    return found

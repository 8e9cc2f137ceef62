"""Calibrated leaderboards: floor, encoders and ceiling, with intervals and honest verdicts.

For every (data set, head) of a plan, one table: the *floor* row (the best fixed
prediction, :mod:`pal_eval.calibration.floor`), one row per encoder, the *oracle* row
(the head trained on oracle features, :mod:`pal_eval.calibration.oracle`), each number
with its 95 % bootstrap interval over the evaluation videos (queries for grounding,
:mod:`pal_eval.evaluation.bootstrap`). Every row of a head is resampled with the *same*
draws, so differences are paired; the verdicts under the table say "A > B" only when the
paired interval of ``A - B`` excludes 0, and flag a head whose oracle row is not far
above its floor (:data:`MIN_CALIBRATION_GAP` points on the head's primary metric): such
a head cannot tell good features from none.

The bootstrap values of each row are cached next to its metrics
(``results/<row>/bootstrap.json``, keyed by the predictions' sha256, the draws' seed and
count), so a rerun only resamples new rows.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pal_eval.leaderboard.plan import FLOOR, ORACLE, Plan

__all__ = ['COLUMNS', 'PRIMARY', 'MIN_CALIBRATION_GAP', 'RowResult', 'HeadTable',
           'row_result', 'head_tables', 'tables_markdown', 'tables_frame', 'head_name']

#: metrics shown per task, the first one is the head's primary metric
COLUMNS: dict[str, tuple[str, ...]] = {
    'proposal': ('AUC', 'AR@10', 'AR@100'),
    'detection': ('mAP@0.5', 'average_mAP'),
    'grounding': ('R@1,IoU=0.5', 'R@5,IoU=0.5', 'mIoU'),
}
PRIMARY = {task: columns[0] for task, columns in COLUMNS.items()}
#: titles of the metrics in the tables
TITLES = {'average_mAP': 'mAP@AVG'}
#: the oracle row must beat the floor by this many points on the primary metric
MIN_CALIBRATION_GAP = 15.0
#: the heads, by the first word of their config file name
HEADS = {'bmn': 'BMN', 'gtad': 'G-TAD', 'tan2d': '2D-TAN'}
#: bootstrap draws of the calibrated tables (a percentile interval from 25 values per tail)
DEFAULT_RESAMPLES = 1000


def head_name(config: str) -> str:
    """The head of a config (``bmn_feat_...py`` -> ``BMN``).

    Examples:
        >>> head_name('configs/detection/gtad_feat_1xb4-t64-16e_synthetic.py')
        'G-TAD'
    """
    word = Path(str(config)).name.split('_', 1)[0]
    return HEADS.get(word, word)


@dataclass
class RowResult:
    """One row: its values on the whole evaluation set and its bootstrap values."""

    row_id: str
    encoder: str
    values: dict[str, float]
    samples: dict[str, np.ndarray]
    units: int

    def interval(self, name: str, level: float = 0.95) -> tuple[float, float]:
        """Percentile interval of one metric."""
        from pal_eval.evaluation.bootstrap import percentile_interval

        return percentile_interval(self.samples[name], level)


@dataclass
class HeadTable:
    """The calibrated table of one head on one data set."""

    dataset: str
    head: str
    task: str
    rows: list[RowResult]
    unit: str
    verdicts: list[str] = field(default_factory=list)
    calibrated: bool = True

    @property
    def primary(self) -> str:
        return PRIMARY[self.task]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def row_result(row_id: str, info: Mapping, *, results_dir: str | os.PathLike,
               resamples: int = DEFAULT_RESAMPLES, seed: int = 0) -> RowResult | None:
    """The values and bootstrap values of one plan row (``None`` before it has run).

    Args:
        row_id: The row.
        info: Its :attr:`Plan.info` entry (task, predictions, annotations, subset).
        results_dir: ``<work_dir>/results`` (the cache lives in ``<row>/bootstrap.json``).
        resamples: Bootstrap draws.
        seed: Seed of the draws; rows with the same ground truth and seed get the same
            draws (paired comparisons).
    """
    from pal_eval.evaluation.bootstrap import resample_indices
    from pal_eval.io import read_json, write_json

    predictions = Path(info['predictions'])
    if not predictions.is_file():
        return None
    from pal_eval.leaderboard.compare import BOOTSTRAP_FILE

    cache = Path(results_dir) / row_id / BOOTSTRAP_FILE
    key = {'predictions_sha256': _sha256(predictions), 'resamples': int(resamples),
           'seed': int(seed), 'annotations': str(info['annotations']),
           'subset': info.get('subset')}
    if cache.is_file():
        stored = read_json(cache)
        if stored.get('key') == key:
            return RowResult(row_id, info['encoder'], stored['values'],
                             {k: np.asarray(v) for k, v in stored['samples'].items()},
                             stored['units'])
    metric, count = _row_metric(info)
    values = {k: float(v) for k, v in metric(np.arange(count)).items()}
    samples: dict[str, list[float]] = {name: [] for name in values}
    for draw in resample_indices(count, resamples, seed):
        for name, value in metric(draw).items():
            samples[name].append(float(value))
    write_json(cache, {'key': key, 'values': values, 'units': count,
                       'samples': samples},
               indent=None)
    return RowResult(row_id, info['encoder'], values,
                     {k: np.asarray(v) for k, v in samples.items()}, count)


def _row_metric(info: Mapping):
    """The bootstrap metric of a row's predictions against its ground truth."""
    from pal_eval.data.submission import read_action_submission, read_grounding_predictions
    from pal_eval.evaluation.bootstrap import grounding_metric, metric_for_task
    from pal_eval.evaluation.inputs import load_action_ground_truth, load_grounding_ground_truth

    task = info['task']
    if task == 'grounding':
        queries = load_grounding_ground_truth(info['annotations'])
        return grounding_metric(queries, read_grounding_predictions(info['predictions']))
    truth = load_action_ground_truth(info['annotations'], info.get('subset'))
    predictions = read_action_submission(info['predictions'],
                                         with_labels=task == 'detection')
    options = {}
    if 'thumos' in str(info.get('dataset', '')):
        from pal_eval.evaluation.detection import THUMOS14_TIOU_THRESHOLDS

        options['tiou_thresholds'] = THUMOS14_TIOU_THRESHOLDS
    return metric_for_task(task, truth.instances, predictions, videos=list(truth.videos),
                           **options)


def _order(encoder: str) -> tuple[int, str]:
    return (0 if encoder == FLOOR else 2 if encoder == ORACLE else 1, '')


def head_tables(plan: Plan, results_dir: str | os.PathLike, *,
                resamples: int = DEFAULT_RESAMPLES, seed: int = 0,
                level: float = 0.95) -> list[HeadTable]:
    """One calibrated table per (data set, head config) of the plan's rows that have run."""
    groups: dict[tuple[str, str], list[str]] = {}
    for row_id, info in plan.info.items():
        groups.setdefault((info['dataset'], info['head_config']), []).append(row_id)
    tables = []
    for (dataset, config), row_ids in groups.items():
        task = plan.info[row_ids[0]]['task']
        rows = [r for r in (row_result(row_id, plan.info[row_id], results_dir=results_dir,
                                       resamples=resamples, seed=seed)
                            for row_id in row_ids) if r is not None]
        if not rows:
            continue
        rows.sort(key=lambda r: _order(r.encoder)[0])  # floor, encoders (spec order), oracle
        table = HeadTable(dataset, head_name(config), task, rows,
                          'queries' if task == 'grounding' else 'videos')
        table.verdicts, table.calibrated = verdicts(table, level)
        tables.append(table)
    return tables


def _difference(a: RowResult, b: RowResult, name: str, level: float
                ) -> tuple[float, float, float]:
    """``a - b`` on the full data and its paired percentile interval (points)."""
    from pal_eval.evaluation.bootstrap import difference_interval

    low, high = difference_interval(a.samples[name], b.samples[name], level)
    return 100 * (a.values[name] - b.values[name]), 100 * low, 100 * high


def verdicts(table: HeadTable, level: float = 0.95) -> tuple[list[str], bool]:
    """What the intervals allow one to say about the primary metric, and the calibration.

    Returns:
        ``(lines, calibrated)``; ``calibrated`` is False when the oracle row is missing
        or less than :data:`MIN_CALIBRATION_GAP` points (or not resolvably) above the
        floor.
    """
    name = table.primary
    title = TITLES.get(name, name)
    by_encoder = {r.encoder: r for r in table.rows}
    floor, oracle = by_encoder.get(FLOOR), by_encoder.get(ORACLE)
    encoders = [r for r in table.rows if r.encoder not in (FLOOR, ORACLE)]
    lines, calibrated = [], True
    if floor is not None and oracle is not None:
        gap, low, high = _difference(oracle, floor, name, level)
        if gap < MIN_CALIBRATION_GAP or low <= 0:
            calibrated = False
            lines.append(f'NOT CALIBRATED: on {title} oracle minus floor is {gap:+.1f} '
                         f'[{low:+.1f}, {high:+.1f}] points (needs >= '
                         f'{MIN_CALIBRATION_GAP:g}, resolvably): this head and config cannot '
                         'tell good features from none; its encoder rows say nothing.')
        else:
            lines.append(f'calibrated: on {title} the oracle row is {gap:+.1f} [{low:+.1f}, '
                         f'{high:+.1f}] points above the floor.')
    else:
        calibrated = False
        lines.append('no floor or no oracle row: the head is not calibrated here.')
    if floor is not None:
        for row in encoders:
            diff, low, high = _difference(row, floor, name, level)
            where = ('above the floor' if low > 0 else 'below the floor' if high < 0
                     else 'not resolvably different from the floor')
            lines.append(f'{row.encoder}: {where} ({diff:+.1f} [{low:+.1f}, {high:+.1f}]).')
    ranked = sorted(encoders, key=lambda r: -r.values[name])
    for i, better in enumerate(ranked):
        for worse in ranked[i + 1:]:
            diff, low, high = _difference(better, worse, name, level)
            if low > 0:
                lines.append(f'{better.encoder} > {worse.encoder} ({diff:+.1f} '
                             f'[{low:+.1f}, {high:+.1f}]).')
            else:
                lines.append(f'{better.encoder} vs {worse.encoder}: no resolvable difference '
                             f'({diff:+.1f} [{low:+.1f}, {high:+.1f}]).')
    return lines, calibrated


def _cell(row: RowResult, name: str, level: float) -> str:
    if name not in row.values:
        return '-'
    low, high = row.interval(name, level)
    return f'{100 * row.values[name]:.1f} [{100 * low:.1f}, {100 * high:.1f}]'


def _label(encoder: str) -> str:
    return {FLOOR: 'floor (fixed prior, no features)',
            ORACLE: 'oracle features (ceiling)'}.get(encoder, encoder)


def tables_markdown(tables: Sequence[HeadTable], *, level: float = 0.95,
                    resamples: int = DEFAULT_RESAMPLES) -> str:
    """All tables as markdown: per head a table (value [95 % interval]) and its verdicts."""
    import pandas as pd

    parts = []
    for table in tables:
        columns = list(COLUMNS[table.task])
        floor = next((r for r in table.rows if r.encoder == FLOOR), None)
        oracle = next((r for r in table.rows if r.encoder == ORACLE), None)
        records = []
        for row in table.rows:
            record = {'row': _label(row.encoder)}
            record.update({f'{table.head} {TITLES.get(c, c)}': _cell(row, c, level)
                           for c in columns})
            if floor is not None and oracle is not None:
                span = oracle.values[table.primary] - floor.values[table.primary]
                share = (row.values[table.primary] - floor.values[table.primary]) / span \
                    if span > 0 else 0.0
                record['floor -> ceiling'] = f'{100 * share:.0f} %' if span > 0 else '-'
            records.append(record)
        flag = '' if table.calibrated else '  **NOT CALIBRATED**'
        units = table.rows[0].units
        parts.append(f'### {table.head} on {table.dataset} ({units} {table.unit}){flag}\n\n'
                     + pd.DataFrame(records).to_markdown(index=False) + '\n\n'
                     + '\n'.join(f'- {line}' for line in table.verdicts) + '\n')
    legend = (f'Percent; [low, high] is the {100 * level:g} % bootstrap interval over the '
              f'evaluation {"/".join(sorted({t.unit for t in tables}))} ({resamples} '
              'resamples, the same draws for every row of a head, so differences are '
              'paired). "floor -> ceiling" places the primary metric (first column) '
              'between the floor (0 %) and the oracle row (100 %). "A > B" is written only '
              'when the paired interval of A - B excludes 0.\n')
    return '\n'.join(parts) + '\n' + legend


def tables_frame(tables: Sequence[HeadTable], level: float = 0.95):
    """Long-form DataFrame: dataset, head, row, metric, value, low, high (percent)."""
    import pandas as pd

    records = []
    for table in tables:
        for row in table.rows:
            for name in row.values:
                low, high = row.interval(name, level)
                records.append({'dataset': table.dataset, 'head': table.head,
                                'row': row.encoder, 'metric': name,
                                'value': 100 * row.values[name], 'low': 100 * low,
                                'high': 100 * high, 'calibrated': table.calibrated})
    return pd.DataFrame.from_records(records)

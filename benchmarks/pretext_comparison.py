"""PAL vs MoCo-v2 vs random init on the synthetic benchmark, over several seeds.

The scientific claim of the project, measured: each seed reruns every training stage
of the demo's plan (pretraining, random init, the three heads) with
``randomness.seed=<seed>`` on the same synthetic benchmark, then reports mean ± std
(sample std over seeds) of BMN AR@100/AUC, G-TAD mAP@AVG, 2D-TAN R@1,IoU=0.5 and mIoU,
and the features' own quality: the linear probe (``pal_eval.extraction.probe``, the
reported feature measure: action-class accuracy and foreground AP, cross-validated by
video over every annotated video) and the standardised feature localization score (mean
over validation instances of the self-similarity inside the action minus
action-vs-background, x100).

Seed 0 is the demo itself (``<out>``, reused when ``make demo`` already ran); seed s > 0
runs under ``<out>/seed<s>``. Every stage is resumable.

    python benchmarks/pretext_comparison.py --out work_dirs/demo --seeds 0,1,2
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import pandas as pd

from pal_eval.data.annotations import load_actions
from pal_eval.data.features import FeatureStore
from pal_eval.demo import leaderboard_table
from pal_eval.extraction.probe import gather, linear_probe
from pal_eval.io import atomic_write
from pal_eval.leaderboard.plan import build_plan, synthetic_spec
from pal_eval.leaderboard.runner import run_plan
from pal_eval.visualization.similarity import mean_localization_score

COLUMNS = ['BMN AR@100', 'BMN AUC', 'G-TAD mAP@AVG', '2D-TAN R@1,IoU=0.5', '2D-TAN mIoU',
           'probe class acc', 'probe fg AP', 'feature localization score']


def run_seed(out: Path, data: Path, seed: int) -> pd.DataFrame:
    """Run (or resume) the plan of one seed and return its leaderboard (percent)."""
    work = out if seed == 0 else out / f'seed{seed}'
    spec = synthetic_spec(data, seed=seed)
    plan = build_plan(spec, work_dir=work, spec_path=f'<seed {seed}>')
    start = time.monotonic()
    # two stages at a time, as the demo; each stage's output goes to <work>/logs/
    run_plan(plan, work, log=lambda line: print(f'[seed {seed}] {line}', flush=True), jobs=2,
             stage_logs=True)
    print(f'[seed {seed}] done in {(time.monotonic() - start) / 60:.1f} min', flush=True)
    table = leaderboard_table(spec['rows'], plan.results)
    # How distinct validation actions are from their background in each encoder's
    # features (x100, like the percentages): the property PAL's pretext targets.
    annotations = load_actions(data / 'annotations' / 'activitynet.json')
    validation = load_actions(data / 'annotations' / 'activitynet.json',
                              'validation').instances
    for stage in plan.stages:
        if stage.kind == 'extract':
            encoder = stage.id.split('/')[1]
            store = FeatureStore(stage.outputs[0])
            probe = linear_probe(gather(store, annotations.instances))
            table.loc[encoder, 'probe class acc'] = 100 * probe['class']['accuracy']
            table.loc[encoder, 'probe fg AP'] = 100 * probe['foreground']['ap']
            table.loc[encoder, 'feature localization score'] = 100 * mean_localization_score(
                store, validation)
    return table


def summarise(tables: dict[int, pd.DataFrame]) -> pd.DataFrame:
    """``mean ± std`` per encoder and metric over the seeds' tables."""
    stacked = pd.concat(tables, names=['seed']).reset_index()
    grouped = stacked.groupby('encoder')[COLUMNS]
    mean, std = grouped.mean(), grouped.std(ddof=1).fillna(0.0)
    cells = mean.map(lambda v: f'{v:.2f}') + ' ± ' + std.map(lambda v: f'{v:.2f}')
    order = [e for e in ('pal', 'mocov2', 'tac', 'random') if e in cells.index]
    return cells.loc[order]


def paired_differences(tables: dict[int, pd.DataFrame], encoder: str = 'pal',
                       against: tuple[str, ...] = ('random', 'mocov2')) -> pd.DataFrame:
    """Per metric, ``encoder - other`` over the seeds: mean ± std and how many seeds > 0.

    Seeds pair naturally (one seed reruns every stage of every row), so the difference
    is taken seed by seed before averaging.
    """
    rows = {}
    for other in against:
        diffs = pd.DataFrame({seed: table.loc[encoder, COLUMNS] - table.loc[other, COLUMNS]
                              for seed, table in tables.items()
                              if {encoder, other} <= set(table.index)}).T
        if diffs.empty:
            continue
        std = diffs.std(ddof=1).fillna(0.0)
        rows[f'{encoder} - {other}'] = {
            column: f'{diffs[column].mean():+.2f} ± {std[column]:.2f} '
                    f'({int((diffs[column] > 0).sum())}/{len(diffs)} > 0)'
            for column in COLUMNS}
    return pd.DataFrame.from_dict(rows, orient='index')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', default='work_dirs/demo', type=Path)
    parser.add_argument('--seeds', default='0,1,2')
    parser.add_argument('--preset', default='small')
    args = parser.parse_args(argv)
    os.environ.setdefault('OMP_NUM_THREADS', '1')  # small models: one thread per stage
    data = args.out / 'data'
    if not (data / 'meta.json').is_file():
        from pal_eval.data.synthetic import generate

        generate(args.preset, 0, data)
    seeds = [int(s) for s in args.seeds.split(',')]
    tables = {seed: run_seed(args.out, data, seed) for seed in seeds}
    per_seed = pd.concat(tables, names=['seed'])
    summary = summarise(tables)
    paired = paired_differences(tables)
    text = (f'Seeds {seeds}, synthetic `{args.preset}` preset (seed 0), percent, '
            f'mean ± std over seeds:\n\n{summary.to_markdown()}\n\n'
            f'Paired by seed (mean ± std, seeds with a positive difference):\n\n'
            f'{paired.to_markdown()}\n\nPer seed:\n\n'
            f'{per_seed[COLUMNS].round(2).to_markdown()}\n')
    with atomic_write(args.out / 'pretext_comparison.md') as handle:
        handle.write(text)
    print(text)
    return 0


if __name__ == '__main__':
    sys.exit(main())

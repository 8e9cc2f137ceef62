"""The demo's product path on oracle features must reach the metric floors of ``floors.yaml``.

``pal-eval synth --preset small`` (fixed seed) -> the synthetic leaderboard plan's
``oracle_bmn_synthetic`` and ``floor_bmn_synthetic`` rows (``pal-eval calibrate oracle``
on the extraction config's time grid, ``mim train`` + ``mim test`` of the CPU BMN config
with the checkpoint chosen on ``validation``, ``pal-eval calibrate floor``, ``pal-eval
evaluate proposal`` on ``testing``) -> ``check_regression`` against the floors. The
fixed-prior floor row of the same run and uniformly random proposals must fail the same
floors, so the floors say something about the pipeline. Oracle features, not an encoder:
the floors then hold whatever the pretraining and extraction settings become.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pal_eval.data.annotations import load_actions
from pal_eval.evaluation.proposal import evaluate_proposals
from pal_eval.leaderboard.metrics_io import load_metrics
from pal_eval.leaderboard.plan import build_plan, synthetic_spec
from pal_eval.leaderboard.regression import check_regression, load_baseline
from pal_eval.leaderboard.runner import run_plan

pytestmark = pytest.mark.slow
FLOORS = Path(__file__).with_name('floors.yaml')
ROWS = ('oracle_bmn_synthetic', 'floor_bmn_synthetic')


@pytest.fixture(scope='module')
def small_run(tmp_path_factory, repo_root):
    work = tmp_path_factory.mktemp('e2e')
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')
    subprocess.run([sys.executable, '-m', 'pal_eval.cli', 'synth', '--preset', 'small',
                    '--seed', '0', '--out', str(work / 'data'), '--quiet'], check=True,
                   env=env, capture_output=True)
    plan = build_plan(synthetic_spec(work / 'data'), work_dir=work / 'run', rows=list(ROWS))
    cwd = os.getcwd()
    os.chdir(repo_root)  # the plan names configs relative to the repository
    try:
        run_plan(plan, work / 'run', log=lambda line: None, stage_logs=True)
    finally:
        os.chdir(cwd)
    return work, {row: load_metrics(plan.results[row]) for row in ROWS}


def _failures(metrics: dict) -> list[str]:
    return [failure.message() for failure in check_regression(metrics, load_baseline(FLOORS))]


def test_oracle_row_reaches_the_floors(small_run):
    _, metrics = small_run
    failures = _failures(metrics['oracle_bmn_synthetic'])
    assert not failures, '; '.join(failures)


def test_fixed_prior_and_random_proposals_fail_the_floors(small_run):
    work, metrics = small_run
    assert _failures(metrics['floor_bmn_synthetic'])
    gt = load_actions(work / 'data' / 'annotations' / 'activitynet.json', 'testing')
    rng = np.random.default_rng(0)
    rows = []
    for video_id, info in gt.videos.items():
        bounds = np.sort(rng.uniform(0, info.duration, size=(100, 2)), axis=1)
        rows += [(video_id, s, e, score) for (s, e), score in zip(bounds, rng.random(100))]
    random = pd.DataFrame(rows, columns=['video_id', 't_start', 't_end', 'score'])
    result = evaluate_proposals(gt.instances, random)
    flat = {f'AR@{n}': v for n, v in result.ar_at.items()} | {'AUC': result.auc}
    assert _failures(flat), f'random proposals pass every floor: {flat}'

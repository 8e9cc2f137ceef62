"""A tiny end-to-end run must reach the metric floors of ``floors.yaml``.

The product path, unchanged: ``pal-eval synth --preset tiny`` (fixed seed) -> the
synthetic leaderboard plan's ``random_bmn_synthetic`` row (random-init encoder,
``pal-eval extract``, ``mim train`` + ``mim test`` of the CPU BMN config,
``pal-eval evaluate proposal``) -> ``check_regression`` against the floors. Uniformly
random proposals on the same ground truth must fail the same floors, so the floors say
something about the pipeline.
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
ROW = 'random_bmn_synthetic'


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory, repo_root):
    work = tmp_path_factory.mktemp('e2e')
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')
    subprocess.run([sys.executable, '-m', 'pal_eval.cli', 'synth', '--preset', 'tiny',
                    '--seed', '0', '--out', str(work / 'data')], check=True, env=env,
                   capture_output=True)
    plan = build_plan(synthetic_spec(work / 'data'), work_dir=work / 'run', rows=[ROW])
    cwd = os.getcwd()
    os.chdir(repo_root)  # the plan names configs relative to the repository
    try:
        run_plan(plan, work / 'run', log=lambda line: None)
    finally:
        os.chdir(cwd)
    return work, load_metrics(plan.results[ROW])


def test_tiny_end_to_end_run_reaches_the_floors(tiny_run):
    _, metrics = tiny_run
    failures = check_regression(metrics, load_baseline(FLOORS))
    assert not failures, '; '.join(f.message() for f in failures)


def test_random_proposals_fail_the_floors(tiny_run):
    work, _ = tiny_run
    gt = load_actions(work / 'data' / 'annotations' / 'activitynet.json', 'validation')
    rng = np.random.default_rng(0)
    rows = []
    for video_id, info in gt.videos.items():
        bounds = np.sort(rng.uniform(0, info.duration, size=(100, 2)), axis=1)
        rows += [(video_id, s, e, score) for (s, e), score in zip(bounds, rng.random(100))]
    random = pd.DataFrame(rows, columns=['video_id', 't_start', 't_end', 'score'])
    result = evaluate_proposals(gt.instances, random)
    flat = {f'AR@{n}': v for n, v in result.ar_at.items()} | {'AUC': result.auc}
    failed = {f.bound.metric for f in check_regression(flat, load_baseline(FLOORS))}
    assert failed, f'random proposals pass every floor: {flat}'

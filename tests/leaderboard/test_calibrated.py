"""Calibrated leaderboards: floor and oracle rows in every plan, paired verdicts, flags."""
from __future__ import annotations

import json
import shlex
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from pal_eval.errors import PalEvalError
from pal_eval.leaderboard import calibrated
from pal_eval.leaderboard.plan import (
    FLOOR,
    FULL_SCALE_SPEC,
    ORACLE,
    Plan,
    Stage,
    add_calibration_rows,
    build_plan,
    synthetic_spec,
)
from pal_eval.leaderboard.runner import log_path, run_plan


# ---- plans ------------------------------------------------------------------------------
def test_every_head_of_every_leaderboard_gets_a_floor_and_an_oracle_row(tmp_path):
    for spec in (FULL_SCALE_SPEC, synthetic_spec(tmp_path)):
        plan = build_plan(spec, work_dir='w')
        heads = {(i['dataset'], i['head_config']) for i in plan.info.values()}
        for dataset, config in heads:
            encoders = {i['encoder'] for i in plan.info.values()
                        if (i['dataset'], i['head_config']) == (dataset, config)}
            assert {FLOOR, ORACLE} <= encoders, (dataset, config)
    plan = build_plan(FULL_SCALE_SPEC, work_dir='w', data_root='/d')
    floor = plan.stage('head/floor_gtad_thumos14').command
    assert floor.startswith('pal-eval calibrate floor detection')
    assert '--train-subset validation' in floor and '--subset test' in floor
    assert plan.rows['floor_gtad_thumos14'] == ['head/floor_gtad_thumos14',
                                                'evaluate/floor_gtad_thumos14']
    oracle = plan.stage('oracle/activitynet').command
    # the ActivityNet videos carry both the action and the captions annotations
    assert '--gt /d/activitynet/annotations/activity_net.v1-3.min.json' in oracle
    assert '--grounding /d/activitynet_captions/val_1.json' in oracle
    assert plan.rows['oracle_tan2d_anet_captions'][0] == 'oracle/activitynet'
    # Charades-STA txt has no durations: the floor reads them from the oracle grid
    charades = plan.stage('head/floor_tan2d_charades')
    assert '--durations-from w/features/oracle/charades_sta' in charades.command
    assert charades.needs == ('oracle/charades_sta',)
    no_calibration = build_plan({**FULL_SCALE_SPEC, 'calibration': False}, work_dir='w')
    assert not any(i['encoder'] in (FLOOR, ORACLE) for i in no_calibration.info.values())


def test_synthetic_plan_selects_on_validation_and_reports_on_testing(tmp_path):
    plan = build_plan(synthetic_spec(tmp_path), work_dir='w')
    head = plan.stage('head/pal_tan2d_synthetic').command
    assert 'val_dataloader.dataset.ann_file=' + str(tmp_path / 'annotations/grounding_val.json') \
        in head
    assert 'test_dataloader.dataset.ann_file=' + str(tmp_path / 'annotations/grounding_test.json') \
        in head
    assert 'best_*.pth' in head  # the checkpoint chosen on `val`
    evaluate = plan.stage('evaluate/pal_bmn_synthetic').command
    assert '--subset testing' in evaluate
    assert plan.info['oracle_bmn_synthetic']['subset'] == 'testing'
    oracle = shlex.split(plan.stage('oracle/synthetic_anet').command)
    assert oracle[:3] == ['pal-eval', 'calibrate', 'oracle']
    assert oracle.count('--grounding') == 3 and '--videos' in oracle


def test_spec_rows_are_kept_and_calibration_rows_follow_their_head():
    spec = {'data': {'d': {'annotations': 'a.json', 'features': 'f'}},
            'encoders': {'x': {'features_only': True}},
            'rows': [{'id': 'x_bmn_d', 'encoder': 'x', 'dataset': 'd', 'task': 'proposal',
                      'head_config': 'bmn.py', 'reference': ['r']},
                     {'id': 'floor_bmn_d', 'encoder': 'floor', 'dataset': 'd',
                      'task': 'proposal', 'head_config': 'bmn.py', 'mine': True}]}
    rows = add_calibration_rows(spec)['rows']
    assert [r['id'] for r in rows] == ['x_bmn_d', 'floor_bmn_d', 'oracle_bmn_d']
    assert rows[1].get('mine') and 'reference' not in rows[2]


# ---- verdicts -----------------------------------------------------------------------------
def _row(encoder, values, spread=0.01, seed=0, shared=None):
    """A row whose bootstrap values are its value plus (shared) noise."""
    noise = shared if shared is not None else np.random.default_rng(seed).normal(0, spread, 500)
    return calibrated.RowResult(encoder, encoder, dict(values),
                                {k: v + noise for k, v in values.items()}, 100)


def test_verdicts_say_a_beats_b_only_when_the_paired_interval_excludes_zero():
    common = np.random.default_rng(1).normal(0, 0.05, 500)  # what every row shares

    def own(seed):
        return common + np.random.default_rng(seed).normal(0, 0.005, 500)
    table = calibrated.HeadTable('synthetic', 'BMN', 'proposal', [
        _row(FLOOR, {'AUC': 0.38}, shared=common),
        _row('random', {'AUC': 0.52}, shared=common),
        _row('pal', {'AUC': 0.55}, shared=own(2)),
        _row('mocov2', {'AUC': 0.551}, shared=own(3)),
        _row(ORACLE, {'AUC': 0.74}, shared=common)], 'videos')
    lines, ok = calibrated.verdicts(table)
    assert ok and lines[0].startswith('calibrated: on AUC the oracle row is +36.0')
    assert 'random: above the floor (+14.0' in '\n'.join(lines)
    assert any(line.startswith('pal > random (+3.0') for line in lines)
    assert any(line.startswith('mocov2 vs pal: no resolvable difference (+0.1') for line in lines)
    # wide unpaired intervals (each row +-10 points) would overlap; paired ones do not
    assert table.rows[2].interval('AUC')[0] < table.rows[1].interval('AUC')[1]


def test_a_head_whose_oracle_is_near_its_floor_is_flagged():
    table = calibrated.HeadTable('synthetic', 'G-TAD', 'detection', [
        _row(FLOOR, {'mAP@0.5': 0.30, 'average_mAP': 0.1}, seed=1),
        _row('pal', {'mAP@0.5': 0.31, 'average_mAP': 0.1}, seed=2),
        _row(ORACLE, {'mAP@0.5': 0.36, 'average_mAP': 0.2}, seed=3)], 'videos')
    lines, ok = calibrated.verdicts(table)
    assert not ok and lines[0].startswith('NOT CALIBRATED: on mAP@0.5 oracle minus floor is +6.0')
    table.verdicts, table.calibrated = lines, ok
    markdown = calibrated.tables_markdown([table], resamples=500)
    assert '### G-TAD on synthetic (100 videos)  **NOT CALIBRATED**' in markdown
    assert '| floor (fixed prior, no features) | 30.0 [' in markdown
    assert 'oracle features (ceiling)' in markdown and '100 %' in markdown


def test_head_tables_from_a_plan_resample_every_row_with_the_same_draws(tmp_path):
    gt = tmp_path / 'gt.json'
    gt.write_text(json.dumps({'version': 'VERSION 1.3', 'database': {
        f'v{i}': {'subset': 'testing', 'duration': 10.0,
                  'annotations': [{'segment': [1.0 + i % 4, 6.0], 'label': 'x'}]}
        for i in range(20)}}))
    plan = Plan(stages=[])
    for encoder, shift in ((FLOOR, 0.9), ('pal', 0.5), (ORACLE, 0.0)):
        predictions = tmp_path / encoder / 'predictions.json'
        predictions.parent.mkdir()
        predictions.write_text(json.dumps({'results': {
            f'v{i}': [{'segment': [1.0 + i % 4 + shift * (i % 2), 6.0], 'score': 1.0}]
            for i in range(20)}}))
        plan.info[f'{encoder}_bmn'] = {'encoder': encoder, 'dataset': 'd', 'task': 'proposal',
                                       'head_config': 'bmn_x.py', 'subset': 'testing',
                                       'predictions': str(predictions), 'annotations': str(gt)}
    (table,) = calibrated.head_tables(plan, tmp_path / 'results', resamples=200)
    assert [r.encoder for r in table.rows] == [FLOOR, 'pal', ORACLE]
    assert table.rows[2].values['AR@1'] == 1.0 and table.rows[2].interval('AR@1') == (1.0, 1.0)
    cached = json.loads((tmp_path / 'results' / 'pal_bmn' / 'bootstrap.json').read_text())
    assert cached['key']['resamples'] == 200 and len(cached['samples']['AUC']) == 200
    again = calibrated.row_result('pal_bmn', plan.info['pal_bmn'],
                                  results_dir=tmp_path / 'results', resamples=200)
    np.testing.assert_array_equal(again.samples['AUC'], table.rows[1].samples['AUC'])


# ---- runner: parallel stages, logs in files ----------------------------------------------
def _plan(tmp_path):
    def stage(name, needs=()):
        out = tmp_path / 'out' / name
        return Stage(id=name, kind='head', command=f'touch {out}', outputs=(str(out),),
                     needs=tuple(needs))
    return Plan(stages=[stage('a'), stage('b', ['a']), stage('c'), stage('d', ['b', 'c'])])


def test_parallel_runner_respects_needs_and_runs_two_at_once(tmp_path):
    plan = _plan(tmp_path)
    (tmp_path / 'out').mkdir()
    finished, running, peak, lock = [], [0], [0], threading.Lock()

    def execute(command):
        name = Path(command.split()[-1]).name
        with lock:
            need = {s.id: s.needs for s in plan.stages}[name]
            assert all(n in finished for n in need), (name, finished)
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        Path(command.split()[-1]).touch()
        with lock:
            running[0] -= 1
            finished.append(name)
        return 0

    outcomes = run_plan(plan, tmp_path / 'w', execute=execute, log=lambda _: None, jobs=2)
    assert [o.stage.id for o in outcomes] == ['a', 'b', 'c', 'd']
    assert peak[0] == 2 and finished[-1] == 'd'


def test_stage_output_goes_to_log_files_and_a_failure_shows_its_tail(tmp_path):
    (tmp_path / 'out').mkdir()
    plan = Plan(stages=[
        Stage(id='ok', kind='head', command=f'echo chatty; touch {tmp_path}/out/ok',
              outputs=(str(tmp_path / 'out' / 'ok'),)),
        Stage(id='bad', kind='head', command='echo something broke >&2; exit 3',
              outputs=(str(tmp_path / 'out' / 'bad'),), needs=('ok',))])
    lines = []
    with pytest.raises(PalEvalError, match='stage bad failed .exit status 3'):
        run_plan(plan, tmp_path / 'w', log=lines.append, stage_logs=True)
    assert 'chatty' in log_path(tmp_path / 'w', plan.stages[0]).read_text()
    assert not any('chatty' in line for line in lines)
    assert any('FAILED' in line and 'something broke' in line for line in lines)


def test_comparison_with_published_numbers_shows_our_interval(tmp_path):
    from pal_eval.leaderboard.compare import (
        collect_intervals,
        compare_with_reference,
        comparison_markdown,
    )
    from pal_eval.leaderboard.reference import load_reference

    table = load_reference()
    (tmp_path / 'pal_bmn').mkdir()
    (tmp_path / 'pal_bmn' / 'bootstrap.json').write_text(json.dumps(
        {'samples': {'AUC': list(np.linspace(0.60, 0.70, 1001))}}))
    (tmp_path / 'tsp_bmn').mkdir()
    (tmp_path / 'tsp_bmn' / 'metrics.json').write_text(json.dumps(
        {'AUC': 0.6, 'ci': {'intervals': {'AUC': [0.58, 0.62]}}}))
    keys = [('pal_bmn', 'bmn_tsp_anet_proposal_opentad'), 'tsp_bmn']
    intervals = collect_intervals(tmp_path, keys)
    assert intervals['pal_bmn', 'bmn_tsp_anet_proposal_opentad']['AUC'] == \
        pytest.approx((0.6025, 0.6975))
    assert intervals['tsp_bmn']['AUC'] == (0.58, 0.62)
    frame = compare_with_reference(
        table, {keys[0]: {'AUC': 0.65}}, intervals={keys[0]: intervals[keys[0]]})
    line = frame.set_index('metric').loc['AUC']
    assert line['ours_ci'] == '[60.25, 69.75]'
    assert '[60.25, 69.75]' in comparison_markdown(frame)

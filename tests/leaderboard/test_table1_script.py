"""``benchmarks/table1_clip_number.py``: the plan it runs and the table it writes."""
from __future__ import annotations

import importlib.util
import json
import shlex

import pytest

from pal_eval.errors import PalEvalError


@pytest.fixture(scope='module')
def table1(repo_root):
    spec = importlib.util.spec_from_file_location(
        'table1_clip_number', repo_root / 'benchmarks' / 'table1_clip_number.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_one_pretraining_per_clip_number_same_budget(table1, tmp_path):
    plan = table1.build_table1_plan(str(tmp_path / 'synth'), str(tmp_path / 'w'), (4, 8, 12))
    pretrain = [s for s in plan.stages if s.kind == 'pretrain']
    assert [s.id for s in pretrain] == ['pretrain/pal_j4', 'pretrain/pal_j8', 'pretrain/pal_j12']
    commands = []
    for stage, j in zip(pretrain, (4, 8, 12)):
        words = shlex.split(stage.command)
        options = set(words[words.index('--cfg-options') + 1:])
        assert {f'model.clips_per_video={j}',
                f'train_dataloader.dataset.clips_per_video={j}'} <= options
        # same budget: apart from J and the work dir, the commands are identical
        commands.append(stage.command.replace(f'pal_j{j}', 'pal_jX')
                        .replace(f'clips_per_video={j}', 'clips_per_video=X'))
    assert len(set(commands)) == 1
    assert plan.references['pal_j8_gtad_synthetic'] == ['pal_table1_j8']
    assert all(plan.rows[f'pal_j{j}_gtad_synthetic'][-1] == f'evaluate/pal_j{j}_gtad_synthetic'
               for j in (4, 8, 12))


def test_cost_file_is_validated(table1, tmp_path):
    # count_cost itself is pal_eval.pretrain.flops (tested there); here only its file format.
    (tmp_path / 'flops.json').write_text(json.dumps({'per_video': {
        '4': {'gmacs_per_video': 1.0, 'gflops_per_video': 2.0}, 'note': 'x'}}))
    assert table1.cost_by_clips(tmp_path / 'flops.json') == {
        4: {'gmacs_per_video': 1.0, 'gflops_per_video': 2.0}}
    (tmp_path / 'bad.json').write_text(json.dumps({'total': 3}))
    with pytest.raises(PalEvalError, match='no per-video cost'):
        table1.cost_by_clips(tmp_path / 'bad.json')


def test_summary_puts_paper_row_next_to_ours(table1, tmp_path):
    work = tmp_path / 'w'
    plan = table1.build_table1_plan(str(tmp_path / 'synth'), str(work), (4, 8))
    (work).mkdir()
    (work / 'flops.json').write_text(json.dumps({'per_video': {
        '4': {'gmacs_per_video': 1.5, 'gflops_per_video': 3.0},
        '8': {'gmacs_per_video': 3.0, 'gflops_per_video': 6.0}}}))
    for j, value in ((4, 0.25), (8, 0.3)):
        path = tmp_path / 'w' / 'results' / f'pal_j{j}_gtad_synthetic' / 'metrics.json'
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({'tiou_thresholds': [0.5], 'mAP': [value],
                                    'average_mAP': value}))
    frame = table1.summarise(plan, str(work), (4, 8))
    assert frame['J'].tolist() == [4, 8]
    assert frame['mAP@AVG % (ours, synthetic)'].tolist() == pytest.approx([25.0, 30.0])
    assert frame['mAP@AVG % (paper, ActivityNet)'].tolist() == [31.2, 32.8]
    assert frame['G "FLOPs"/video (paper, = MACs)'].tolist() == [14.4, 28.6]
    assert frame['GMACs/video (ours)'].tolist() == [1.5, 3.0]
    # the metrics file now carries the FLOPs, for `leaderboard compare`
    written = json.loads((work / 'results' / 'pal_j8_gtad_synthetic' / 'metrics.json')
                         .read_text())
    assert (written['GMACs_per_video'], written['GFLOPs_per_video']) == (3.0, 6.0)
    assert written['average_mAP'] == 0.3


def test_floor_and_ceiling_stand_under_the_table(table1, tmp_path):
    work = tmp_path / 'w'
    plan = table1.build_table1_plan(str(tmp_path / 'synth'), str(work), (4,))
    assert table1.calibration_line(plan) == ''   # not run yet: nothing claimed
    for name, value in (('floor', 0.0064), ('oracle', 0.4664)):
        path = work / 'results' / f'{name}_gtad_synthetic' / 'metrics.json'
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({'tiou_thresholds': [0.5], 'mAP': [value],
                                    'average_mAP': value}))
    assert table1.calibration_line(plan) == (
        'Same head and split, mAP@AVG %: floor (no features) 0.64, '
        'oracle features (ceiling) 46.64.\n')

"""Leaderboard plans, dry-run layout checks and the resumable runner."""
from __future__ import annotations

import json
import os
import shlex
from pathlib import Path

import numpy as np
import pytest

from pal_eval.cli import main
from pal_eval.data.features import dump_meta, write_video_features
from pal_eval.errors import InputError, PalEvalError
from pal_eval.leaderboard import runner
from pal_eval.leaderboard.layout import (
    annotated_video_ids,
    check_config_keys,
    check_feature_folder,
    check_plan,
)
from pal_eval.leaderboard.plan import FULL_SCALE_SPEC, build_plan, format_plan, synthetic_spec
from pal_eval.leaderboard.runner import is_done, run_plan

# ---- plans -------------------------------------------------------------------------------

def test_full_scale_plan_order_and_sharing():
    plan = build_plan(FULL_SCALE_SPEC, work_dir='w', data_root='/data')
    ids = [s.id for s in plan.stages]
    assert len(ids) == len(set(ids))
    # 8 encoders (PAL, MoCoV2, random, TAC, CoCLR, XDC, VideoMoCo, RSPNet) x 5 rows, plus 7
    # heads on published feature releases, plus a floor and an oracle row per (data set,
    # head config): 12 of each (5 on our features, 7 on the releases). PAL, MoCoV2 and TAC
    # pretrain once each, PAL and MoCoV2 export (TAC's recognizer checkpoint is extracted
    # as it is); one extraction per (encoder, video set: ActivityNet Captions reuses the
    # ActivityNet features); one oracle per feature grid (our 3 video sets, 5 releases);
    # one head per encoder, published and oracle row, one floor per floor row, one
    # evaluation per row.
    kinds = [s.kind for s in plan.stages]
    assert (kinds.count('pretrain'), kinds.count('export'), kinds.count('extract'),
            kinds.count('oracle'), kinds.count('head'), kinds.count('floor'),
            kinds.count('evaluate')) == (3, 2, 24, 8, 40 + 7 + 12, 12, 71)
    assert len(plan.rows) == 40 + 7 + 12 + 12
    assert '/data/weights/CoCLR-k400-rgb-128-s3d.pth.tar' in \
        plan.stage('extract/coclr/activitynet').inputs
    assert plan.rows['pal_tan2d_anet_captions'][2] == 'extract/pal/activitynet'
    for row_id, stage_ids in plan.rows.items():
        positions = [ids.index(s) for s in stage_ids]
        assert positions == sorted(positions), row_id  # dependencies run first
        for stage_id in stage_ids:
            for need in plan.stage(stage_id).needs:
                assert ids.index(need) < ids.index(stage_id)
    assert plan.rows['random_gtad_anet'][0] == 'extract/random/activitynet'
    assert '--checkpoint random' in plan.stage('extract/random/activitynet').command
    pal_rows = [r for r in plan.rows if r.startswith('pal_')]
    assert all(plan.rows[r][0] == 'pretrain/pal' for r in pal_rows)
    assert plan.results['pal_gtad_thumos14'] == 'w/results/pal_gtad_thumos14/metrics.json'
    evaluate = plan.stage('evaluate/pal_gtad_thumos14').command
    assert '--preset thumos14' in evaluate and '--subset test' in evaluate
    assert '/data/kinetics400/videos_train' in plan.stage('pretrain/pal').inputs


def test_plan_commands_are_valid_shell_with_odd_paths():
    plan = build_plan(FULL_SCALE_SPEC, work_dir='my work', data_root='/mnt/data sets',
                      rows=['pal_gtad_anet'])
    for stage in plan.stages:
        words = shlex.split(stage.command)
        assert words[0] in ('mim', 'pal-eval'), stage.id
    extract = shlex.split(plan.stage('extract/pal/activitynet').command)
    assert extract[extract.index('--videos') + 1] == '/mnt/data sets/activitynet/videos'
    script = format_plan(plan)
    assert script.startswith('#!/usr/bin/env bash') and script.count('# [') == 5


def test_plan_rejects_unknown_rows_and_bad_specs():
    with pytest.raises(InputError, match='unknown row'):
        build_plan(FULL_SCALE_SPEC, work_dir='w', rows=['nope'])
    spec = {'data': {}, 'encoders': {'pal': {}},
            'rows': [{'id': 'r', 'encoder': 'pal', 'dataset': 'x', 'task': 'detection',
                      'head_config': 'c.py'}]}
    with pytest.raises(InputError, match="row 'r', field 'dataset'"):
        build_plan(spec, work_dir='w')
    spec['rows'][0]['task'] = 'dancing'
    with pytest.raises(InputError, match="field 'task'"):
        build_plan(spec, work_dir='w')


def test_given_features_skip_pretraining_and_extraction():
    spec = {'data': {'anet': {'annotations': 'gt.json', 'subset': 'validation',
                              'features': '/feats/tsp', 'blocked_videos': 'blocked.json'}},
            'encoders': {'tsp': {'features_only': True}},
            'rows': [{'id': 'tsp_gtad', 'encoder': 'tsp', 'dataset': 'anet',
                      'task': 'detection', 'head_config': 'c.py',
                      'reference': ['gtad_tsp_anet_opentad']}]}
    plan = build_plan(spec, work_dir='w', rows=['tsp_gtad'])
    assert [s.kind for s in plan.stages] == ['head', 'evaluate']
    # its oracle row follows the given features' own time grid
    oracle = build_plan(spec, work_dir='w', rows=['oracle_gtad']).stage('oracle/anet')
    assert '--like /feats/tsp' in oracle.command and '/feats/tsp' in oracle.inputs
    assert '/feats/tsp' in plan.stage('head/tsp_gtad').command
    assert '/feats/tsp' in plan.stage('head/tsp_gtad').inputs
    assert plan.annotations == {'/feats/tsp': ('gt.json', 'validation')}
    # the reference scored OpenTAD's 4,728 videos: so is the row, with the given list
    assert '--blocked-videos blocked.json' in plan.stage('evaluate/tsp_gtad').command
    assert 'blocked.json' in plan.stage('evaluate/tsp_gtad').inputs
    del spec['data']['anet']['blocked_videos']
    with pytest.raises(InputError, match="row 'tsp_gtad', field 'blocked_videos'.*"
                                         "data.anet.blocked_videos"):
        build_plan(spec, work_dir='w')


def test_synthetic_spec_grounding_reuses_detection_features(tmp_path):
    plan = build_plan(synthetic_spec(tmp_path), work_dir=str(tmp_path / 'w'))
    extracts = [s.id for s in plan.stages if s.kind == 'extract']
    assert extracts == ['extract/pal/synthetic_anet', 'extract/mocov2/synthetic_anet',
                        'extract/random/synthetic_anet']
    assert plan.rows['pal_tan2d_synthetic'][:3] == ['pretrain/pal', 'export/pal',
                                                    'extract/pal/synthetic_anet']


def _train_options(command: str) -> tuple[str, dict[str, str]]:
    """The config and ``--cfg-options`` of the ``mim train`` part of a head command."""
    words = shlex.split(command.split(' && ')[0])
    options = words[words.index('--cfg-options') + 1:]
    return words[3], dict(option.split('=', 1) for option in options)


def _read_path(dataset, key: str) -> str:
    """The path a feature dataset opens for ``key``: 2D-TAN's join ``data_root`` (as
    MMEngine's ``BaseDataset`` does for ``ann_file``), the localization ones do not."""
    root = dataset.get('data_root') or ''
    if dataset.type == 'GroundingFeatureDataset' or key == 'ann_file':
        return os.path.normpath(os.path.join(root, dataset[key]))
    return os.path.normpath(dataset[key])


@pytest.mark.parametrize('work_dir', ['work_dirs/demo', '/abs/work'])
def test_synthetic_heads_read_the_plans_paths_from_any_work_dir(work_dir, repo_root,
                                                                 monkeypatch):
    """Every head dataset opens the features and annotations the plan names, also with a
    relative work dir (``make demo``: 2D-TAN's configs join a ``data_root``)."""
    from mmengine.config import Config

    monkeypatch.chdir(repo_root)
    synth = f'{work_dir}/data'
    plan = build_plan(synthetic_spec(synth), work_dir=work_dir)
    heads = [stage for stage in plan.stages if stage.kind == 'head'
             and 'mim train' in stage.command]
    assert {stage.id.rsplit('_', 2)[-2] for stage in heads} >= {'bmn', 'gtad', 'tan2d'}
    for stage in heads:
        config, options = _train_options(stage.command)
        cfg = Config.fromfile(config)
        cfg.merge_from_dict(options)
        for split in ('train', 'val', 'test'):
            dataset = cfg[f'{split}_dataloader'].dataset
            expected = options[f'{split}_dataloader.dataset.feature_dir']
            assert _read_path(dataset, 'feature_dir') == os.path.normpath(expected), stage.id
            expected = options[f'{split}_dataloader.dataset.ann_file']
            assert _read_path(dataset, 'ann_file') == os.path.normpath(expected), stage.id
            assert _read_path(dataset, 'ann_file').startswith(os.path.normpath(synth))


# ---- layout checks ---------------------------------------------------------------------

def _anet_gt(path: Path, videos: dict[str, str]) -> Path:
    path.write_text(json.dumps({'version': 'VERSION 1.3', 'database': {
        v: {'subset': subset, 'duration': 10.0,
            'annotations': [{'segment': [1.0, 4.0], 'label': 'Jump'}]}
        for v, subset in videos.items()}}))
    return path


def _features(root: Path, video: str, length: int = 4, dim: int = 3, centers=None) -> None:
    centers = np.linspace(0.5, 9.5, length) if centers is None else np.asarray(centers)
    write_video_features(root, video, np.zeros((length, dim), np.float32), centers,
                         duration=10.0)


def test_complete_folder_has_no_problems(tmp_path):
    gt = _anet_gt(tmp_path / 'gt.json', {'a': 'validation', 'v_b': 'validation',
                                         'c': 'training'})
    feats = tmp_path / 'f'
    for video in ('a', 'v_b'):
        _features(feats, video)
    dump_meta(feats, {'feature_dim': 3, 'sampling': {'policy': 'resample', 'num': 4}})
    assert check_feature_folder(feats, gt, 'validation') == []
    # 'c' is annotated in another subset: required only when every subset is checked
    problems = check_feature_folder(feats, gt, None)
    assert [(p.record, str(p).split(': ')[-1]) for p in problems] == \
        [('c', 'annotated video has no features')]


def test_every_problem_is_reported_once_with_file_and_video(tmp_path):
    gt = _anet_gt(tmp_path / 'gt.json', {v: 'validation' for v in 'abcdef'})
    feats = tmp_path / 'f'
    _features(feats, 'a')                                  # fine
    _features(feats, 'b', dim=5)                           # wrong feature_dim
    _features(feats, 'c', length=6)                        # other length, resampled folder
    _features(feats, 'd', centers=[0.5, 0.4, 3.0, 9.0])    # centre times not increasing
    _features(feats, 'e')
    (feats / 'e.json').write_text(json.dumps({'centers': [1.0, 2.0], 'duration': 10.0}))
    # 'f' has no features at all
    dump_meta(feats, {'feature_dim': 3, 'sampling': 'resample'})
    problems = check_feature_folder(feats, gt, 'validation')
    by_video = {(p.record, p.field) for p in problems if p.record}
    assert by_video == {('f', None), ('b', 'feature_dim'), ('d', 'centers'), ('e', 'centers')}
    (resampled,) = [p for p in problems if p.field == 'sampling']
    assert '4 features: ' in str(resampled) and '6 features: 1 videos' in str(resampled)
    assert all(str(p).startswith(str(feats)) for p in problems)


def test_missing_meta_and_capped_listing(tmp_path):
    gt = _anet_gt(tmp_path / 'gt.json', {f'v{i:02d}': 'validation' for i in range(30)})
    feats = tmp_path / 'f'
    _features(feats, 'v00')
    problems = check_feature_folder(feats, gt, 'validation')
    assert 'meta.json' in str(problems[0])
    missing = [p for p in problems if p.record and 'no features' in str(p)]
    assert len(missing) == 20 and '... and 9 annotated videos' in str(problems[-1])


def test_annotated_ids_in_grounding_formats(tmp_path):
    canonical = tmp_path / 'g.json'
    canonical.write_text(json.dumps({'queries': [
        {'query_id': 'q1', 'video': 'x', 'duration': 10.0, 'segment': [1, 2], 'sentence': 's'},
        {'query_id': 'q2', 'video': 'y', 'duration': 10.0, 'segment': [1, 2], 'sentence': 's'},
        {'query_id': 'q3', 'video': 'x', 'duration': 10.0, 'segment': [2, 3], 'sentence': 's'}]}))
    assert annotated_video_ids(canonical) == ['x', 'y']
    charades = tmp_path / 'sta.txt'
    charades.write_text('AO8RW 0.0 6.9##a person is putting a book on a shelf.\n'
                        'Y6R7T 1.2 8.0##person opens the door.\n')
    assert annotated_video_ids(charades) == ['AO8RW', 'Y6R7T']


def test_check_plan_reports_configs_inputs_and_cfg_keys(tmp_path):
    config = tmp_path / 'head.py'
    config.write_text("train_dataloader = dict(dataset=dict(type='X'))\n"
                      "test_dataloader = dict(dataset=dict(type='X'))\n")
    gt = _anet_gt(tmp_path / 'gt.json', {'a': 'validation'})
    spec = {'data': {'anet': {'annotations': str(gt), 'subset': 'validation',
                              'features': str(tmp_path / 'feats'), 'videos': 'nowhere'}},
            'encoders': {'given': {'features_only': True}},
            'rows': [{'id': 'r', 'encoder': 'given', 'dataset': 'anet', 'task': 'detection',
                      'head_config': str(config)},
                     {'id': 'r2', 'encoder': 'given', 'dataset': 'anet', 'task': 'proposal',
                      'head_config': str(tmp_path / 'absent.py')}]}
    problems = [str(p) for p in check_plan(build_plan(spec, work_dir=str(tmp_path / 'w')))]
    assert any("has no section 'val_dataloader'" in p for p in problems)
    assert any("has no section 'test_evaluator'" in p for p in problems)
    assert not any("'train_dataloader.dataset" in p and 'no section' in p for p in problems)
    assert any(p.startswith(str(tmp_path / 'absent.py')) and 'config not found' in p
               for p in problems)
    assert any(p.startswith(str(tmp_path / 'feats')) and 'not found' in p for p in problems)
    assert check_config_keys(config, ['train_dataloader.dataset.feature_dir']) == []


def test_dry_run_cli_exit_status(tmp_path, capsys):
    code = main(['leaderboard', 'plan', '--dry-run', '--no-config-parse', '--rows',
                 'pal_gtad_anet', '--data-root', str(tmp_path / 'data'),
                 '--work-dir', str(tmp_path / 'w')])
    err = capsys.readouterr().err.splitlines()
    assert code == 2
    assert all(line.startswith('error: ') for line in err[:-1])
    assert any(str(tmp_path / 'data' / 'activitynet' / 'videos') in line for line in err)
    assert 'nothing was run' in err[-1]
    assert not (tmp_path / 'w').exists()


# ---- runner --------------------------------------------------------------------------

def _fake_executor(calls: list[str], fail_on: str | None = None):
    """Pretend to run a stage: record it and create the outputs its plan promises."""
    def execute(command: str, log_path=None, usage=None) -> int:
        calls.append(command)
        if fail_on and fail_on in command:
            return 3
        words = shlex.split(command.split('&&')[-1])
        for flag in ('--out', '--work-dir'):
            if flag in words:
                target = Path(words[words.index(flag) + 1])
                if target.suffix == '.json':
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_text(json.dumps({'average_mAP': 0.3, 'AR@100': 0.7,
                                                  'AUC': 0.6}))
                elif target.suffix == '.pth':
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(b'x')
                else:
                    target.mkdir(parents=True, exist_ok=True)
                    (target / 'last_checkpoint').write_text('ckpt')
                    (target / 'predictions.json').write_text('{}')
        return 0
    return execute


def test_runner_resumes_and_reruns_changed_stages(tmp_path):
    work = tmp_path / 'w'
    plan = build_plan(synthetic_spec(tmp_path / 'synth'), work_dir=str(work),
                      rows=['pal_gtad_synthetic', 'random_gtad_synthetic'])
    calls: list[str] = []
    with pytest.raises(PalEvalError, match='stage head/pal_gtad_synthetic failed'):
        run_plan(plan, work, execute=_fake_executor(calls, fail_on='heads/pal_gtad'),
                 log=lambda _: None)
    # the longest chains first (pretrain -> export -> extract), then the heads; the run
    # stops at the failing head: nothing starts after it
    assert 'pretrain' in calls[0] and 'heads/pal_gtad' in calls[-1] and len(calls) == 5
    assert not is_done(work, plan.stage('head/pal_gtad_synthetic'))
    calls.clear()
    outcomes = run_plan(plan, work, execute=_fake_executor(calls), log=lambda _: None)
    ran = {o.stage.id for o in outcomes if o.status == 'ran'}
    assert ran == {'head/pal_gtad_synthetic', 'evaluate/pal_gtad_synthetic',
                   'head/random_gtad_synthetic', 'evaluate/random_gtad_synthetic'}
    assert len(outcomes) == len(plan.stages)
    calls.clear()
    assert {o.status for o in run_plan(plan, work, execute=_fake_executor(calls),
                                       log=lambda _: None)} == {'skipped'}
    assert calls == []
    # another work dir for features changes the extract command: that stage reruns
    spec = synthetic_spec(tmp_path / 'synth')
    spec['data']['synthetic_anet']['videos'] = str(tmp_path / 'other_videos')
    changed = build_plan(spec, work_dir=str(work), rows=['pal_gtad_synthetic'])
    statuses = {o.stage.id: o.status for o in run_plan(
        changed, work, execute=_fake_executor(calls), log=lambda _: None)}
    assert statuses['pretrain/pal'] == 'skipped' and statuses['extract/pal/synthetic_anet'] == 'ran'


def test_runner_needs_outputs_not_just_exit_status(tmp_path):
    plan = build_plan(synthetic_spec(tmp_path), work_dir=str(tmp_path / 'w'),
                      rows=['random_gtad_synthetic'])
    with pytest.raises(PalEvalError, match='extract/random/synthetic_anet failed .no output'):
        run_plan(plan, tmp_path / 'w', execute=lambda command: 0, log=lambda _: None)


def test_run_cli_compares_with_reference(tmp_path, monkeypatch, capsys):
    spec = tmp_path / 'spec.yaml'
    spec.write_text(json.dumps({  # no floor / oracle rows: the fake stages write no data
        'data': {'anet': {'annotations': 'gt.json', 'subset': 'validation',
                          'features': str(tmp_path / 'feats'),
                          'blocked_videos': str(tmp_path / 'blocked.json')}},
        'encoders': {'tsp': {'features_only': True}}, 'calibration': False,
        'rows': [{'id': 'tsp_bmn', 'encoder': 'tsp', 'dataset': 'anet', 'task': 'proposal',
                  'head_config': 'c.py', 'reference': ['bmn_tsp_anet_proposal_opentad']}]}))
    calls: list[str] = []
    monkeypatch.setattr(runner, '_shell', _fake_executor(calls))
    code = main(['leaderboard', 'run', '--spec', str(spec), '--work-dir', str(tmp_path / 'w')])
    out = capsys.readouterr().out
    assert code == 0 and len(calls) == 2
    assert '| tsp_bmn    | bmn_tsp_anet_proposal_opentad' in out
    line = next(x for x in out.splitlines() if '| AR@100' in x)
    assert '76.24' in line and '70.00' in line and '-6.24' in line and 'below' in line
    # compare later from the results folder alone, without the spec
    mapping = json.loads((tmp_path / 'w' / 'results' / 'references.json').read_text())
    assert mapping == {'tsp_bmn': ['bmn_tsp_anet_proposal_opentad']}
    assert main(['leaderboard', 'compare', '--results-dir', str(tmp_path / 'w' / 'results'),
                 '--fail-outside-tolerance']) == 1
    captured = capsys.readouterr()
    assert captured.out.count('| tsp_bmn') == 5  # AR@1, 5, 10, 100, AUC
    assert 'outside tolerance: tsp_bmn vs bmn_tsp_anet_proposal_opentad AR@100 (below)' in \
        captured.err


def test_sliding_features_may_differ_in_length(tmp_path):
    # What `pal-eval extract` writes for sliding windows: lengths follow the durations.
    gt = _anet_gt(tmp_path / 'gt.json', {'a': 'validation', 'b': 'validation'})
    feats = tmp_path / 'f'
    _features(feats, 'a', length=4)
    _features(feats, 'b', length=7)
    dump_meta(feats, {'feature_dim': 3, 'sampling': {'policy': 'sliding', 'stride': 4,
                                                     'num_snippets': None,
                                                     'resample': 'linear'}})
    assert check_feature_folder(feats, gt, 'validation') == []
    dump_meta(feats, {'feature_dim': 3, 'sampling': {'policy': 'sliding', 'num_snippets': 4}})
    assert [p.field for p in check_feature_folder(feats, gt, 'validation')] == ['sampling']


def test_project_configs_are_found_by_their_stable_name_part(repo_root, monkeypatch):
    from pal_eval.leaderboard.plan import project_config

    monkeypatch.chdir(repo_root)
    found = project_config('pretrain/pal_*_synthetic.py')
    assert found.startswith('configs/pretrain/pal_') and (repo_root / found).is_file()
    assert project_config('detection/nothing_*.py') == 'configs/detection/nothing_*.py'


def test_detection_rows_read_class_scores():
    plan = build_plan(FULL_SCALE_SPEC, work_dir='w', data_root='/d', rows=['pal_gtad_anet',
                                                                          'pal_bmn_anet'])
    gtad = plan.stage('head/pal_gtad_anet')
    assert '/d/activitynet/annotations/cuhk_val_simp_share.json' in gtad.inputs
    assert 'model.class_fusion.score_file' in gtad.cfg_options
    bmn = plan.stage('head/pal_bmn_anet')
    assert not any('cuhk' in path for path in bmn.inputs)


def test_annotated_ids_of_real_files(shared_annotations):
    # Counts from ../shared/annotations/SOURCES.md (410 THUMOS14 videos: 200 train, 210 test;
    # ActivityNet Captions val_1: 4917 videos).
    thumos = shared_annotations / 'frostinassiky_gtad' / 'thumos_gt.json'
    assert len(annotated_video_ids(thumos, 'test')) == 210
    assert len(annotated_video_ids(thumos)) == 410
    captions = shared_annotations / 'microsoft_2D-TAN' / 'ActivityNet_val.json'
    assert len(annotated_video_ids(captions)) == 4917


def test_parallel_runs_prime_yapfs_cache_before_the_stages_start(tmp_path, monkeypatch):
    """Stages that import MMEngine side by side need yapf's grammar cache built first
    (pal_eval.compat.prime_yapf_grammar_cache); one job at a time needs nothing."""
    from pal_eval import compat

    events: list[str] = []
    monkeypatch.setattr(compat, 'prime_yapf_grammar_cache', lambda: events.append('prime'))
    plan = build_plan(synthetic_spec(tmp_path), work_dir=str(tmp_path / 'w'),
                      rows=['random_gtad_synthetic'])
    calls: list[str] = []
    fake = _fake_executor(calls)
    run_plan(plan, tmp_path / 'w', execute=lambda c: events.append('stage') or fake(c),
             log=lambda _: None, jobs=2)
    assert events[0] == 'prime' and events.count('prime') == 1 and 'stage' in events
    events.clear()
    serial = build_plan(synthetic_spec(tmp_path), work_dir=str(tmp_path / 'w2'),
                        rows=['random_gtad_synthetic'])
    run_plan(serial, tmp_path / 'w2', execute=lambda c: events.append('stage') or fake(c),
             log=lambda _: None, jobs=1)
    assert 'stage' in events and 'prime' not in events

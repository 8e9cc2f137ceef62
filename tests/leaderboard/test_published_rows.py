"""Leaderboard rows on published feature releases: plans, and what --dry-run names."""
from __future__ import annotations

import pytest

from pal_eval.leaderboard.layout import check_plan
from pal_eval.leaderboard.plan import FULL_SCALE_SPEC, PUBLISHED_FEATURE_ROWS, build_plan
from tests.data import published_layouts as layouts

ROWS = [row['id'] for row in PUBLISHED_FEATURE_ROWS]


def test_no_command_copies_or_computes_feat_dim():
    plan = build_plan(FULL_SCALE_SPEC, work_dir='w', data_root='d')
    for stage in plan.stages:
        assert 'feat_dim' not in stage.command and '$(python3' not in stage.command, stage.id
    assert 'charades-sta.py' in plan.stage('extract/pal/charades_sta').command


def test_published_rows_use_the_release_configs_and_their_protocols():
    plan = build_plan(FULL_SCALE_SPEC, work_dir='w', data_root='d', rows=ROWS)
    assert [s.kind for s in plan.stages] == ['head', 'evaluate'] * len(ROWS)
    head = plan.stage('head/published_gtad_tsn_thumos14').command
    assert 'gtad_tsn-gtad_1xb8-t256d64-10e_thumos14.py' in head
    assert 'model.class_fusion.score_file=d/thumos14/annotations/uNet_test.npy' in head
    # OpenTAD's rows scored 4,728 validation videos: so are ours
    assert '--blocked-videos d/activitynet/annotations/blocked.json' in \
        plan.stage('evaluate/published_gtad_tsp_anet').command
    assert '--blocked-videos' not in plan.stage('evaluate/published_gtad_tsn_anet').command
    assert 'durations_file=d/charades/annotations/Charades_v1_train.csv' in \
        plan.stage('head/published_tan2d_vgg_charades').command


def test_dry_run_names_every_file_a_user_still_has_to_provide(tmp_path):
    plan = build_plan(FULL_SCALE_SPEC, work_dir=str(tmp_path / 'w'),
                      data_root=str(tmp_path / 'data'), rows=ROWS)
    missing = {p.path.removeprefix(str(tmp_path / 'data') + '/') for p in
               check_plan(plan, check_configs=False)}
    for expected in ('activitynet/features/tsn_bsn', 'activitynet/features/tsp',
                     'activitynet/annotations/anet_anno_train.json',
                     'activitynet/annotations/cuhk_val_simp_share.json',
                     'activitynet/annotations/blocked.json',
                     'thumos14/features/tsn_gtad', 'thumos14/annotations/uNet_test.npy',
                     'thumos14/annotations/val_Annotation.csv',
                     'charades/features/tan2d_vgg', 'charades/annotations/Charades_v1_train.csv',
                     'activitynet_captions/features/c3d'):
        assert expected in missing, expected


@pytest.mark.parametrize('drop', [None, 'v_ccc'])
def test_dry_run_checks_a_release_folder_in_its_own_layout(tmp_path, drop):
    layout = layouts.bsn_csv_mean_100(tmp_path / 'data' / 'activitynet')
    if drop:
        (layout.features / 'csv_mean_100' / f'{drop}.csv').unlink()
    plan = build_plan(FULL_SCALE_SPEC, work_dir=str(tmp_path / 'w'),
                      data_root=str(tmp_path / 'data'), rows=['published_bmn_tsn_anet'])
    problems = [p for p in check_plan(plan) if 'tsn_bsn' in p.path]
    if drop is None:
        assert problems == []   # no meta.json asked of a release read in place
    else:
        assert [(p.record, str(p).split(': ')[-1]) for p in problems] == [
            ('v_ccc', 'annotated video has no features')]

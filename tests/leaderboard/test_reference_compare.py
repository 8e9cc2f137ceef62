"""Reference YAML loading, metric flattening and the published-vs-ours comparison."""
from __future__ import annotations

import json
import math

import pytest
import yaml

from pal_eval.errors import InputError
from pal_eval.leaderboard.compare import (
    collect_results,
    compare_with_reference,
    comparison_markdown,
)
from pal_eval.leaderboard.metrics_io import flatten_metrics, load_metrics
from pal_eval.leaderboard.reference import DEFAULT_REFERENCE, load_reference


def test_project_reference_file_is_valid_and_sourced():
    table = load_reference(DEFAULT_REFERENCE)
    ids = [row.id for row in table.rows]
    assert len(ids) == len(set(ids))
    for row in table.rows:
        assert row.source['url'].startswith('https://')
        assert row.extra.get('checked'), row.id  # how it was verified, or what was found
    # The numbers, checked against the text of the issue (not our code).
    clip_rows = sorted((r for r in table.rows if r.task == 'pretrain_ablation'),
                       key=lambda r: r.extra['clips_per_video'])
    assert [r.extra['clips_per_video'] for r in clip_rows] == [4, 6, 8, 10, 12]
    assert [r.metrics['GMACs_per_video'] for r in clip_rows] == [14.4, 21.4, 28.6, 35.8, 43]
    assert [r.metrics['average_mAP'] for r in clip_rows] == [31.2, 32.2, 32.8, 33.0, 33.1]
    assert table.row('gtad_tsn_anet_paper').metrics == {'average_mAP': 34.09}
    assert table.row('bmn_tsp_anet_opentad').metrics['average_mAP'] == 36.40
    assert table.row('bmn_tsn_anet_proposal_paper').metrics == {'AR@100': 75.01, 'AUC': 67.10}


def _write_yaml(tmp_path, data) -> str:
    path = tmp_path / 'ref.yaml'
    path.write_text(yaml.safe_dump(data))
    return str(path)


def _row(**changes):
    row = {'id': 'r1', 'task': 'detection', 'dataset': 'd', 'subset': 's', 'method': 'm',
           'features': 'f', 'metrics': {'average_mAP': 30.0, 'mAP@0.5': 50.0},
           'source': {'url': 'https://x', 'where': 'Table 1'}, 'verified': True,
           'checked': 'read'}
    row.update(changes)
    return row


@pytest.mark.parametrize('change, field', [
    ({'task': 'dancing'}, 'task'),
    ({'metrics': {'average_mAP': 'high'}}, 'metrics.average_mAP'),
    ({'metrics': {}}, 'metrics'),
    ({'source': {'url': 'https://x'}}, 'source'),
    ({'verified': 'yes'}, 'verified'),
])
def test_reference_errors_name_row_and_field(tmp_path, change, field):
    path = _write_yaml(tmp_path, {'rows': [_row(**change)]})
    with pytest.raises(InputError) as info:
        load_reference(path)
    assert "row 'r1'" in str(info.value) and f"field '{field}'" in str(info.value)
    assert str(info.value).startswith(path)


def test_reference_duplicate_and_missing_fields(tmp_path):
    with pytest.raises(InputError, match="field 'id': duplicated"):
        load_reference(_write_yaml(tmp_path, {'rows': [_row(), _row()]}))
    row = _row()
    del row['source']
    with pytest.raises(InputError, match="field 'source': missing"):
        load_reference(_write_yaml(tmp_path, {'rows': [row]}))
    (tmp_path / 'broken.yaml').write_text('rows: [a, b\n')
    with pytest.raises(InputError, match='not valid YAML'):
        load_reference(tmp_path / 'broken.yaml')


def test_flatten_all_three_formats():
    detection = {'tiou_thresholds': [0.5, 0.55, 0.95], 'mAP': [0.6, 0.5, 0.1],
                 'average_mAP': 0.4, 'ap_per_class': {'a': [1, 2, 3]}}
    assert flatten_metrics(detection) == {'average_mAP': 0.4, 'mAP@0.5': 0.6,
                                          'mAP@0.55': 0.5, 'mAP@0.95': 0.1}
    proposals = {'tiou_thresholds': [0.5], 'AR@1': 0.1, 'AR@100': 0.7, 'AUC': 0.6,
                 'curve': {'avg_proposals': [1], 'average_recall': [0.1]}}
    assert flatten_metrics(proposals) == {'AR@1': 0.1, 'AR@100': 0.7, 'AUC': 0.6}
    grounding = {'R@1,IoU=0.5': 0.3, 'mIoU': 0.25}
    assert flatten_metrics(grounding) == grounding
    # linspace-style thresholds with float noise still get short names
    assert 'mAP@0.75' in flatten_metrics({'tiou_thresholds': [0.5 + 0.05 * 5], 'mAP': [0.1]})


@pytest.mark.parametrize('bad, field', [
    ({'average_mAP': float('nan')}, 'average_mAP'),
    ({'AUC': 'x'}, 'AUC'),
    ({'tiou_thresholds': [0.5, 0.6], 'mAP': [0.1]}, 'mAP'),
])
def test_flatten_rejects_bad_values(bad, field):
    with pytest.raises(InputError, match=f"field '{field}'"):
        flatten_metrics(bad, 'm.json')


def test_compare_deltas_and_status_by_hand(tmp_path):
    table = load_reference(_write_yaml(tmp_path, {'default_tolerance': 1.0, 'rows': [
        _row(metrics={'average_mAP': 30.0, 'mAP@0.5': 50.0, 'mAP@0.95': 8.0}),
        _row(id='r2', task='pretrain_ablation', tolerance=0.5,
             metrics={'average_mAP': 33.0, 'GMACs_per_video': 28.6})]}))
    frame = compare_with_reference(table, {
        'r1': {'average_mAP': 0.3095, 'mAP@0.5': 0.48},       # +0.95 pp, -2 pp
        'r2': {'average_mAP': 0.336, 'GMACs_per_video': 28.6}})  # +0.6 pp, FLOPs unscaled
    got = {(r.id, r.metric): (r.ours, r.delta, r.status) for r in frame.itertuples()}
    assert got[('r1', 'average_mAP')][1] == pytest.approx(0.95)
    assert got[('r1', 'average_mAP')][2] == 'within'
    assert got[('r1', 'mAP@0.5')][1:] == (pytest.approx(-2.0), 'below')
    assert math.isnan(got[('r1', 'mAP@0.95')][0]) and got[('r1', 'mAP@0.95')][2] == 'missing'
    assert got[('r2', 'average_mAP')][1:] == (pytest.approx(0.6), 'above')  # tolerance 0.5
    assert got[('r2', 'GMACs_per_video')] == (28.6, pytest.approx(0.0), 'within')
    # a global tolerance overrides the rows'
    wide = compare_with_reference(table, {'r1': {'mAP@0.5': 0.48}}, tolerance=3)
    assert wide.set_index('metric').loc['mAP@0.5', 'status'] == 'within'
    markdown = comparison_markdown(frame)
    assert markdown.splitlines()[0].startswith('| id')
    assert '| missing' in markdown and 'nan' not in markdown


def test_collect_results_from_dir_and_pairs(tmp_path):
    table = load_reference(_write_yaml(tmp_path, {'rows': [_row(), _row(id='r2')]}))
    (tmp_path / 'res' / 'r1').mkdir(parents=True)
    (tmp_path / 'res' / 'r1' / 'metrics.json').write_text(json.dumps({'average_mAP': 0.3}))
    extra = tmp_path / 'extra.json'
    extra.write_text(json.dumps({'tiou_thresholds': [0.5], 'mAP': [0.5]}))
    found = collect_results(table, results_dir=tmp_path / 'res', pairs=[f'r2={extra}'])
    assert found == {'r1': {'average_mAP': 0.3}, 'r2': {'mAP@0.5': 0.5}}
    with pytest.raises(InputError, match="unknown reference row 'nope'"):
        collect_results(table, pairs=[f'nope={extra}'])
    with pytest.raises(InputError, match='ROW_ID=METRICS_JSON'):
        collect_results(table, pairs=['just-a-file.json'])
    assert load_metrics(extra) == {'mAP@0.5': 0.5}


def test_several_of_our_rows_against_one_published_row(tmp_path):
    table = load_reference(_write_yaml(tmp_path, {'rows': [_row()]}))
    results = tmp_path / 'res'
    for ours, value in (('pal_x', 0.31), ('random_x', 0.2)):
        (results / ours).mkdir(parents=True)
        (results / ours / 'metrics.json').write_text(json.dumps({'average_mAP': value}))
    (results / 'references.json').write_text(json.dumps({'pal_x': ['r1'], 'random_x': ['r1'],
                                                         'absent': ['r1']}))
    found = collect_results(table, results_dir=results)
    assert found == {('pal_x', 'r1'): {'average_mAP': 0.31},
                     ('random_x', 'r1'): {'average_mAP': 0.2}}
    frame = compare_with_reference(table, found).set_index(['ours_row', 'metric'])
    assert frame.loc[('pal_x', 'average_mAP'), 'status'] == 'within'     # +1.0 pp
    assert frame.loc[('random_x', 'average_mAP'), 'delta'] == pytest.approx(-10.0)
    (results / 'references.json').write_text(json.dumps({'pal_x': ['nope']}))
    with pytest.raises(InputError, match="row 'pal_x': unknown reference row 'nope'"):
        collect_results(table, results_dir=results)

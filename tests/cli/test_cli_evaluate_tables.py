"""``pal-eval evaluate --format md|csv|json`` and ``--per-class``."""
from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from pal_eval.cli import main

GT = {'database': {
    'a': {'subset': 'validation', 'duration': 40.0,
          'annotations': [{'segment': [0, 10], 'label': 'jump'},
                          {'segment': [20, 30], 'label': 'jump'}]},
    'b': {'subset': 'validation', 'duration': 10.0,
          'annotations': [{'segment': [0, 5], 'label': 'run'}]}}}
PRED = {'results': {
    'a': [{'label': 'jump', 'score': 0.9, 'segment': [0, 9]},
          {'label': 'jump', 'score': 0.8, 'segment': [0, 10]},
          {'label': 'jump', 'score': 0.6, 'segment': [20, 30]}]}}


def _files(tmp_path, gt, pred):
    paths = tmp_path / 'gt.json', tmp_path / 'pred.json'
    for path, content in zip(paths, (gt, pred)):
        path.write_text(json.dumps(content))
    return paths


def _evaluate(capsys, *argv):
    code = main(['evaluate', *map(str, argv)])
    out, err = capsys.readouterr()
    assert code == 0, err
    return out


def _csv_tables(text: str) -> list[pd.DataFrame]:
    blocks = [b for b in text.strip().split('\n\n') if b.strip()]
    return [pd.read_csv(io.StringIO(b), comment='#') for b in blocks]


def test_per_class_table_is_the_hand_worked_ap_and_averages_to_the_map(tmp_path, capsys):
    gt, pred = _files(tmp_path, GT, PRED)
    out = _evaluate(capsys, 'detection', '--gt', gt, '--pred', pred, '--tiou-thresholds',
                    '0.5,0.95', '--per-class', '--format', 'csv')
    summary, per_class = _csv_tables(out)
    # By hand, 'jump' ranked by score: [0, 9] tIoU .9, [0, 10] tIoU 1 (same instance),
    # [20, 30] tIoU 1. At 0.5: TP FP TP, precision 1, 1/2, 2/3 at recall 1/2, 1/2, 1:
    # AP = 1/2 * 1 + 1/2 * 2/3. At 0.95: FP TP TP: AP = 1/2 * 2/3 + 1/2 * 2/3. 'run': 0.
    assert per_class.set_index('class').loc['jump', ['0.50', '0.95']].tolist() == [83.33, 66.67]
    assert per_class.set_index('class').loc['run', ['0.50', '0.95']].tolist() == [0.0, 0.0]
    column_means = per_class[['0.50', '0.95', 'average']].mean().tolist()
    # the table rounds to 0.01: a mean of rounded values is within 0.005 of the mAP
    assert column_means == pytest.approx(summary['mAP (%)'].tolist(), abs=0.006)


def test_per_class_means_equal_the_map_on_a_random_case(tmp_path, capsys):
    rng = np.random.default_rng(3)
    classes = [f'c{k}' for k in range(5)]
    database, results = {}, {}
    for v in range(12):
        starts = rng.uniform(0, 80, 4)
        database[f'v{v}'] = {'subset': 'validation', 'duration': 100.0, 'annotations': [
            {'segment': [s, s + rng.uniform(2, 15)], 'label': str(rng.choice(classes))}
            for s in starts]}
        results[f'v{v}'] = [{'segment': [s, s + rng.uniform(1, 20)], 'score': rng.random(),
                             'label': str(rng.choice(classes))}
                            for s in rng.uniform(0, 80, 30)]
    gt, pred = _files(tmp_path, {'database': database}, {'results': results})
    out = _evaluate(capsys, 'detection', '--gt', gt, '--pred', pred, '--per-class',
                    '--format', 'json', '--out', tmp_path / 'm.json')
    tables = json.loads(out)['tables']  # stdout is one JSON document despite --out
    summary = pd.DataFrame(tables[0]['rows']).set_index('tIoU')['mAP (%)']
    per_class = pd.DataFrame(tables[1]['rows']).set_index('class')
    assert len(per_class) == 5 and per_class.to_numpy().max() > 0
    means = per_class.mean()
    for column in per_class.columns:
        key = 'average' if column == 'average' else column
        # the table rounds to 0.01: a mean of rounded values is within 0.005 of the truth
        assert means[column] == pytest.approx(summary[key], abs=0.006)
    metrics = json.loads((tmp_path / 'm.json').read_text())
    exact = np.mean(list(metrics['ap_per_class'].values()), axis=0)
    np.testing.assert_allclose(exact, metrics['mAP'], rtol=1e-12)


def test_markdown_tables(tmp_path, capsys):
    gt, pred = _files(tmp_path, GT, PRED)
    out = _evaluate(capsys, 'proposal', '--gt', gt, '--pred', pred, '--format', 'md')
    assert out.startswith('**proposal AR@AN') and 'AR@100' in out
    lines = [line for line in out.splitlines() if line.startswith('|')]
    assert len(lines) == 3 and all(line.count('|') == lines[0].count('|') for line in lines)


def test_grounding_csv_has_recall_and_miou(tmp_path, capsys):
    gt = tmp_path / 'g.json'
    gt.write_text(json.dumps({'queries': [
        {'query_id': 'q1', 'video': 'v', 'duration': 20, 'segment': [0, 10], 'sentence': 's'},
        {'query_id': 'q2', 'video': 'v', 'duration': 20, 'segment': [5, 6], 'sentence': 't'}]}))
    pred = tmp_path / 'p.json'
    pred.write_text(json.dumps({'results': {'q1': [{'segment': [0, 8], 'score': 1.0}]}}))
    recall, miou = _csv_tables(_evaluate(capsys, 'grounding', '--gt', gt, '--pred', pred,
                                         '--format', 'csv'))
    # q1: tIoU 0.8 (> 0.3, 0.5, 0.7); q2 has no prediction: R@1 = 50 % at every IoU
    assert recall.iloc[0, 1:].tolist() == [50.0, 50.0, 50.0]
    assert miou['mIoU'].tolist() == [40.0]  # (0.8 + 0) / 2


def test_per_class_is_for_detection_only(tmp_path, capsys):
    gt, pred = _files(tmp_path, GT, PRED)
    assert main(['evaluate', 'proposal', '--gt', str(gt), '--pred', str(pred),
                 '--per-class']) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and err.startswith('error: --per-class')

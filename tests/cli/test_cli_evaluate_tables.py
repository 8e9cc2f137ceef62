"""``pal-eval evaluate --format md|csv|json`` and ``--per-class``."""
from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from pal_eval.cli import main

# The hand-worked case of test_cli_evaluate.py (AP worked out in test_detection_map.py).
from tests.cli.test_cli_evaluate import GT, PRED  # noqa: E402


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
    # hand-worked (tests/evaluation/test_detection_map.py): jump 75 / 50, run 0 / 0
    assert per_class.set_index('class').loc['jump', ['0.50', '0.95']].tolist() == [75.0, 50.0]
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
    queries = [(f'q{n}', [2.0 * n, 2.0 * n + 4]) for n in range(3)]
    gt = tmp_path / 'g.json'
    gt.write_text(json.dumps({'queries': [
        {'query_id': q, 'video': 'v', 'duration': 30, 'segment': s, 'sentence': f'sentence {q}'}
        for q, s in queries]}))
    pred = tmp_path / 'p.json'  # q0 exact, q1 shifted by 2 s of 4, q2 not predicted
    pred.write_text(json.dumps({'results': {'q0': [{'segment': [0, 4], 'score': 1.0}],
                                            'q1': [{'segment': [4, 8], 'score': 1.0}]}}))
    recall, miou = _csv_tables(_evaluate(capsys, 'grounding', '--gt', gt, '--pred', pred,
                                         '--format', 'csv'))
    # tIoU by hand: q0 1, q1 [4, 8] vs [2, 6] = 2 / 6, q2 0
    assert recall.iloc[0, 1:].tolist() == pytest.approx([200 / 3, 100 / 3, 100 / 3], abs=0.01)
    assert miou['mIoU'].tolist() == pytest.approx([100 * (1 + 1 / 3) / 3], abs=0.01)


def test_per_class_is_for_detection_only(tmp_path, capsys):
    gt, pred = _files(tmp_path, GT, PRED)
    assert main(['evaluate', 'proposal', '--gt', str(gt), '--pred', str(pred),
                 '--per-class']) == 2
    err = capsys.readouterr().err
    assert err.count('\n') == 1 and err.startswith('error: --per-class')

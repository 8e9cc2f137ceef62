"""Floors: ``pal-eval calibrate floor`` scores what an independent fixed-prior predictor scores.

The independent predictor below is written from the definition in
``pal_eval/calibration/floor.py`` with plain Python loops (every candidate, every
target, every threshold), and scored with the brute-force reference evaluators of
``tests/evaluation/metric_reference.py``; the suite's floor goes through the CLI
(``pal-eval calibrate floor`` then ``pal-eval evaluate``), as the leaderboard runs it.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from pal_eval.calibration import floor
from pal_eval.cli import main
from tests.evaluation import metric_reference as ref

GRID = 8
THRESHOLDS = list(np.linspace(0.5, 0.95, 10))


def _candidates(grid):
    return [(i / grid, j / grid) for i in range(grid + 1) for j in range(i + 1, grid + 1)]


def brute_force_greedy(targets, grid, count, thresholds, *, strict=False, nms=None):
    """Greedy max coverage, loop by loop (ties: first candidate; no gain: most coverage)."""
    candidates = _candidates(grid)
    overlap = ref.hull_tiou if strict else ref.tiou

    def value(c, g):
        hits = [(overlap(c, g) > t) if strict else (overlap(c, g) >= t) for t in thresholds]
        return sum(hits) / len(thresholds)

    covered = [0.0] * len(targets)
    available = [True] * len(candidates)
    chosen = []
    while len(chosen) < count and any(available):
        best, best_gain = None, -1.0
        for k, c in enumerate(candidates):
            if not available[k]:
                continue
            gain = sum(max(value(c, g) - covered[m], 0.0) for m, g in enumerate(targets))
            if gain > best_gain:
                best, best_gain = k, gain
        if best_gain <= 0:
            best, most = None, -1.0
            for k, c in enumerate(candidates):
                total = sum(value(c, g) for g in targets)
                if available[k] and total > most:
                    best, most = k, total
        chosen.append(candidates[best])
        covered = [max(covered[m], value(candidates[best], g)) for m, g in enumerate(targets)]
        available[best] = False
        if nms is not None:
            for k, c in enumerate(candidates):
                if ref.tiou(c, candidates[best]) > nms:
                    available[k] = False
    return chosen


@pytest.fixture(scope='module')
def benchmark(tmp_path_factory):
    """An ActivityNet-style file (training / testing) and grounding train / test files."""
    rng = np.random.default_rng(7)
    root = tmp_path_factory.mktemp('floor')
    database, queries = {}, {'train': [], 'test': []}
    for index in range(16):
        subset = 'training' if index < 10 else 'testing'
        duration = float(rng.uniform(20, 60))
        annotations = []
        for number in range(int(rng.integers(1, 4))):
            length = rng.uniform(0.05, 0.6) * duration
            start = rng.uniform(0, duration - length)
            segment = [round(start, 3), round(start + length, 3)]
            label = ['jump', 'run', 'swim'][int(rng.integers(3))]
            annotations.append({'segment': segment, 'label': label})
            split = 'train' if subset == 'training' else 'test'
            queries[split].append({'query_id': f'v{index}_{number}', 'video': f'v{index}',
                                   'duration': duration, 'segment': segment,
                                   'sentence': f'a person does {label}'})
        database[f'v{index}'] = {'subset': subset, 'duration': duration,
                                 'annotations': annotations}
    (root / 'anet.json').write_text(json.dumps({'version': 'VERSION 1.3',
                                                'database': database}))
    for split, rows in queries.items():
        (root / f'g_{split}.json').write_text(json.dumps({'queries': rows}))
    return root, database, queries


def _relative(database, subset):
    return [(a['segment'][0] / v['duration'], a['segment'][1] / v['duration'], a['label'])
            for v in database.values() if v['subset'] == subset for a in v['annotations']]


def _evaluate(task, gt, pred, out, *extra):
    assert main(['evaluate', task, '--gt', str(gt), '--pred', str(pred), '--out', str(out),
                 *extra]) == 0
    return json.loads(out.read_text())


def test_proposal_floor_is_the_independent_fixed_prior(benchmark, tmp_path):
    root, database, _ = benchmark
    pred = tmp_path / 'floor.json'
    assert main(['calibrate', 'floor', 'proposal', '--train-gt', str(root / 'anet.json'),
                 '--gt', str(root / 'anet.json'), '--subset', 'testing', '--grid', str(GRID),
                 '--count', '10', '--out', str(pred)]) == 0
    ours = _evaluate('proposal', root / 'anet.json', pred, tmp_path / 'm.json',
                     '--subset', 'testing', '--max-avg-proposals', '10')
    targets = [(s, e) for s, e, _ in _relative(database, 'training')]
    chosen = brute_force_greedy(targets, GRID, 10, THRESHOLDS)
    gt, proposals = [], []
    for video, info in database.items():
        if info['subset'] != 'testing':
            continue
        gt += [(video, *a['segment']) for a in info['annotations']]
        proposals += [(video, s * info['duration'], e * info['duration'], (10 - r) / 10)
                      for r, (s, e) in enumerate(chosen)]
    _, _, _, auc = ref.average_recall(gt, proposals, 10, THRESHOLDS)
    assert ours['AUC'] == pytest.approx(auc, abs=1e-12)
    assert ours['AUC'] > 0.05  # a fixed prior is not nothing


def test_detection_floor_is_the_independent_fixed_prior(benchmark, tmp_path):
    root, database, _ = benchmark
    pred = tmp_path / 'floor.json'
    assert main(['calibrate', 'floor', 'detection', '--train-gt', str(root / 'anet.json'),
                 '--gt', str(root / 'anet.json'), '--subset', 'testing', '--grid', str(GRID),
                 '--count', '6', '--out', str(pred)]) == 0
    ours = _evaluate('detection', root / 'anet.json', pred, tmp_path / 'm.json',
                     '--subset', 'testing')
    train = _relative(database, 'training')
    gt, predictions = [], []
    for label in dict.fromkeys(label for _, _, label in train):
        chosen = brute_force_greedy([(s, e) for s, e, c in train if c == label], GRID, 6,
                                    THRESHOLDS)
        for video, info in database.items():
            if info['subset'] == 'testing':
                predictions += [(video, s * info['duration'], e * info['duration'], label,
                                 (6 - r) / 6) for r, (s, e) in enumerate(chosen)]
    for video, info in database.items():
        if info['subset'] == 'testing':
            gt += [(video, *a['segment'], a['label']) for a in info['annotations']]
    # the official file order: videos, then predictions in submission order
    _, ap = ref.detection_ap(gt, sorted(predictions, key=lambda p: p[0]), THRESHOLDS)
    expected = float(np.mean([np.mean(row) for row in ap]))
    assert ours['average_mAP'] == pytest.approx(expected, abs=1e-12)


def test_grounding_floor_is_the_independent_fixed_prior(benchmark, tmp_path):
    root, _, queries = benchmark
    pred = tmp_path / 'floor.json'
    assert main(['calibrate', 'floor', 'grounding', '--train-gt', str(root / 'g_train.json'),
                 '--gt', str(root / 'g_test.json'), '--grid', str(GRID), '--out',
                 str(pred)]) == 0
    ours = _evaluate('grounding', root / 'g_test.json', pred, tmp_path / 'm.json')
    targets = [(q['segment'][0] / q['duration'], q['segment'][1] / q['duration'])
               for q in queries['train']]
    chosen = brute_force_greedy(targets, GRID, 5, [0.5], strict=True, nms=0.5)
    gt = {q['query_id']: tuple(q['segment']) for q in queries['test']}
    preds = {q['query_id']: [(s * q['duration'], e * q['duration'], (5 - r) / 5)
                             for r, (s, e) in enumerate(chosen)] for q in queries['test']}
    recall, miou = ref.grounding(gt, preds, (1, 5), (0.3, 0.5, 0.7), 0.5)
    assert ours['R@1,IoU=0.5'] == pytest.approx(recall[(1, 0.5)], abs=1e-12)
    assert ours['R@5,IoU=0.5'] == pytest.approx(recall[(5, 0.5)], abs=1e-12)
    assert ours['mIoU'] == pytest.approx(miou, abs=1e-12)


def test_greedy_coverage_by_hand():
    # candidate 1 half-covers both targets: the best single choice at threshold 0.5
    tiou = np.array([[1.0, 0.0], [0.6, 0.6], [0.0, 1.0]])
    assert floor.greedy_coverage(tiou, [0.5], 1) == [1]
    assert floor.greedy_coverage(tiou, [0.5, 0.9], 2) == [0, 2]
    # nothing left to gain: the remaining ones by total coverage
    assert floor.greedy_coverage(tiou, [0.5], 3) == [1, 0, 2]
    exclusive = np.eye(3, dtype=bool) | np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]], bool)
    assert floor.greedy_coverage(tiou, [0.5], 3, exclusive=exclusive) == [1, 2]


def test_floor_cli_refuses_to_overwrite_and_bad_counts(benchmark, tmp_path, capsys):
    root, _, _ = benchmark
    pred = tmp_path / 'p.json'
    pred.write_text('{}')
    args = ['calibrate', 'floor', 'proposal', '--train-gt', str(root / 'anet.json'),
            '--gt', str(root / 'anet.json'), '--out', str(pred)]
    assert main(args) == 2 and 'already exists' in capsys.readouterr().err
    assert pred.read_text() == '{}'
    assert main([*args, '--force', '--count', '0']) == 2
    assert '--count must be positive' in capsys.readouterr().err

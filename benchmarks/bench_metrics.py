"""Benchmark ``pal-eval evaluate`` against mmaction2's evaluators, side by side in one run.

Cases (seeded, written under ``--work-dir``):

* ``anet``: ActivityNet scale: 4,900 validation videos, 200 classes, ~7,300 ground
  truths, 100 predictions per video (490,000); times on a 0.5 s grid and scores rounded
  to 0.01, so tIoUs equal to thresholds and score ties are frequent (the cases where
  float32 and unstable sorts go wrong).
* ``thumos``: THUMOS14 scale: the real THUMOS14 test ground truth from
  ``../shared/annotations`` when present (213 videos, 20 classes), else a synthetic
  one of the same size; 200 predictions per video on a 0.1 s grid; tIoU 0.3..0.7.

For each case and task (detection mAP, proposal AR@AN) it times

* ours: the whole ``pal-eval evaluate`` process (interpreter start-up, imports, JSON
  reading, evaluation, writing ``--out``), run as a subprocess;
* mmaction2: ``ActivityNetLocalization`` / ``average_recall_at_avg_proposals`` from
  reading the JSON files to the result, in a subprocess, *excluding* its imports
  (which favours mmaction2);

and prints CPU seconds (robust on a shared machine; the ratio the targets are checked
on) and wall seconds with their ratios, mmaction2's whole-process CPU (with its
imports) for reference, the peak memory (VmHWM) (max RSS) of each process, and the largest
absolute difference of each side's numbers (mAP per threshold and average; AR curve
and AUC) from the brute-force reference of ``tests/evaluation/metric_reference.py``
(the official loops, float64, stable sorts).

Usage::

    OMP_NUM_THREADS=1 nice python benchmarks/bench_metrics.py [--cases anet thumos]
        [--skip-reference]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED_THUMOS = REPO.parent / 'shared' / 'annotations' / 'frostinassiky_gtad' / 'thumos_gt.json'
ANET_TIOU = np.linspace(0.5, 0.95, 10).tolist()
THUMOS_TIOU = [0.3, 0.4, 0.5, 0.6, 0.7]

# Peak memory from /proc/self/status VmHWM: unlike ru_maxrss it is not inherited from the
# forking parent (which holds the generated case in memory).
PEAK_MB = """
def peak_mb():
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) / 1024
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""

OURS = PEAK_MB + """
import json, resource, sys
from pal_eval.cli import main
code = main(sys.argv[1:])
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({'maxrss_mb': peak_mb(),
                  'cpu_seconds': usage.ru_utime + usage.ru_stime}), file=sys.stderr)
sys.exit(code)
"""

MMACTION = PEAK_MB + """
import json, resource, sys, time
import numpy as np
from mmaction.evaluation.functional import (ActivityNetLocalization,
                                            average_recall_at_avg_proposals)
task, gt_file, pred_file, tious = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
start, cpu_start = time.perf_counter(), time.process_time()
if task == 'detection':
    evaluator = ActivityNetLocalization(gt_file, pred_file, tiou_thresholds=np.array(tious))
    mean_ap, average_map = evaluator.evaluate()
    out = {'mAP': [float(v) for v in mean_ap], 'average_mAP': float(average_map)}
else:  # as mmaction2's ANetMetric (AR@AN): dicts of arrays built from the files
    with open(gt_file) as f:
        gt_json = json.load(f)
    with open(pred_file) as f:
        results = json.load(f)['results']
    ground_truth = {vid[2:]: np.array([a['segment'] for a in info['annotations']], float)
                    for vid, info in gt_json.items() if info['annotations']}
    proposals = {vid: np.array([[*p['segment'], p['score']] for p in items], float)
                 for vid, items in results.items()}
    total = sum(len(items) for items in results.values())
    recall, avg_recall, per_video, auc = average_recall_at_avg_proposals(
        ground_truth, proposals, total, max_avg_proposals=100,
        temporal_iou_thresholds=np.array(tious))
    out = {'average_recall': [float(v) for v in avg_recall], 'AUC': float(auc) / 100}
out['seconds'] = time.perf_counter() - start
out['cpu_seconds'] = time.process_time() - cpu_start
out['maxrss_mb'] = peak_mb()
usage = resource.getrusage(resource.RUSAGE_SELF)
out['process_cpu_seconds'] = usage.ru_utime + usage.ru_stime  # incl. importing mmaction
print(json.dumps(out))
"""


def _grid(values: np.ndarray, step: float) -> np.ndarray:
    return np.round(values / step) * step


def make_anet_case(rng: np.random.Generator) -> tuple[dict, dict]:
    """(ground truth database, detection results) at ActivityNet scale (vectorised)."""
    num_videos, num_classes, per_video = 4900, 200, 100
    duration = _grid(rng.uniform(20, 240, num_videos), 0.5)
    gt_per_video = rng.choice([1, 1, 2, 2, 3], num_videos)
    gt_video = np.repeat(np.arange(num_videos), gt_per_video)
    length = rng.uniform(0.05, 0.6, gt_video.size) * duration[gt_video]
    start = rng.uniform(0, 1, gt_video.size) * (duration[gt_video] - length)
    gt_start, gt_end = _grid(start, 0.5), _grid(start + length, 0.5)
    video_label = np.arange(num_videos) % num_classes

    # 60 predictions jittered around the video's instances, 40 uniform; 70 % right label
    pred_video = np.repeat(np.arange(num_videos), per_video)
    rank = np.tile(np.arange(per_video), num_videos)
    first_gt = np.cumsum(gt_per_video) - gt_per_video
    around = first_gt[pred_video] + rank % gt_per_video[pred_video]
    width = gt_end[around] - gt_start[around]
    jittered = np.stack([gt_start[around], gt_end[around]], 1) + rng.normal(
        0, 1, (pred_video.size, 2)) * (0.15 * width)[:, None]
    uniform = rng.uniform(0, 1, (pred_video.size, 2)) * duration[pred_video][:, None]
    segments = np.sort(np.where((rank < 60)[:, None], jittered, uniform), axis=1)
    seg_start = _grid(np.maximum(segments[:, 0], 0), 0.5)
    seg_end = _grid(np.minimum(segments[:, 1], duration[pred_video]), 0.5)
    seg_end = np.maximum(seg_start, seg_end)
    labels = np.where(rng.random(pred_video.size) < 0.7, video_label[pred_video],
                      rng.integers(0, num_classes, pred_video.size))
    scores = np.round(rng.random(pred_video.size), 2)

    names = [f'class{c:03d}' for c in range(num_classes)]
    database, results = {}, {}
    seg_start, seg_end, scores = seg_start.tolist(), seg_end.tolist(), scores.tolist()
    gt_start, gt_end = gt_start.tolist(), gt_end.tolist()
    for v in range(num_videos):
        vid, label = f'vid{v:05d}', names[video_label[v]]
        gts = range(first_gt[v], first_gt[v] + gt_per_video[v])
        database[vid] = {'subset': 'validation', 'duration': float(duration[v]),
                         'annotations': [{'segment': [gt_start[j], gt_end[j]], 'label': label}
                                         for j in gts]}
        results[vid] = [{'label': names[labels[i]], 'score': scores[i],
                         'segment': [seg_start[i], seg_end[i]]}
                        for i in range(v * per_video, (v + 1) * per_video)]
    return database, results


def make_thumos_case(rng: np.random.Generator) -> tuple[dict, dict]:
    """(ground truth database, detection results) at THUMOS14 scale."""
    if SHARED_THUMOS.is_file():
        source = json.loads(SHARED_THUMOS.read_text())['database']
        database = {}
        for vid, info in source.items():
            if info['subset'] != 'test' or not info['annotations']:
                continue
            database[vid] = {'subset': 'test', 'annotations': [
                {'segment': [float(x) for x in a['segment']], 'label': a['label']}
                for a in info['annotations']]}
    else:
        database = {}
        for v in range(213):
            anns = []
            for _ in range(15):
                s = float(_grid(rng.uniform(0, 200), 0.1))
                anns.append({'segment': [s, float(_grid(s + rng.uniform(1, 10), 0.1))],
                             'label': f'class{rng.integers(20):02d}'})
            database[f'video_test_{v:07d}'] = {'subset': 'test', 'annotations': anns}
    labels = sorted({a['label'] for info in database.values() for a in info['annotations']})
    results = {}
    for vid, info in database.items():
        anns = info['annotations']
        end = max(a['segment'][1] for a in anns) + 10
        preds = []
        for k in range(200):
            if k < 120:
                a = anns[k % len(anns)]
                s, e = a['segment']
                jitter = rng.normal(0, 0.2 * (e - s), 2)
                s, e = sorted((s + jitter[0], e + jitter[1]))
                label = a['label'] if rng.random() < 0.8 else labels[rng.integers(len(labels))]
            else:
                s, e = sorted(rng.uniform(0, end, 2))
                label = labels[rng.integers(len(labels))]
            s = float(_grid(max(s, 0), 0.1))
            e = float(_grid(max(e, s), 0.1))
            preds.append({'label': label, 'score': float(np.round(rng.random(), 2)),
                          'segment': [s, e]})
        results[vid] = preds
    return database, results


def write_case(folder: Path, database: dict, results: dict, subset: str) -> dict:
    """Files for both sides: ANet GT (ours), mmaction2-style GT ('v_' keys), submissions."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {'gt': folder / 'gt.json', 'gt_mmaction': folder / 'gt_mmaction.json',
             'det': folder / 'detection.json', 'prop': folder / 'proposal.json'}
    paths['gt'].write_text(json.dumps({'version': 'VERSION 1.3', 'taxonomy': [],
                                       'database': database}))
    # mmaction2's ActivityNetLocalization reads {'v_<id>': {...}} and strips 2 characters
    paths['gt_mmaction'].write_text(json.dumps({f'v_{vid}': info
                                                for vid, info in database.items()
                                                if info['subset'] == subset}))
    paths['det'].write_text(json.dumps({'version': 'VERSION 1.3', 'external_data': {},
                                        'results': results}))
    proposals = {vid: [{'score': p['score'], 'segment': p['segment']} for p in items]
                 for vid, items in results.items()}
    paths['prop'].write_text(json.dumps({'version': 'VERSION 1.3', 'external_data': {},
                                         'results': proposals}))
    return paths


def run_ours(task: str, paths: dict, subset: str, tious: list[float], out: Path) -> dict:
    tiou_arg = ','.join(repr(t) for t in tious)
    argv = ['evaluate', task, '--gt', str(paths['gt']),
            '--pred', str(paths['det' if task == 'detection' else 'prop']),
            '--subset', subset, '--tiou-thresholds', tiou_arg, '--out', str(out), '--force']
    start = time.perf_counter()
    done = subprocess.run([sys.executable, '-c', OURS, *argv], capture_output=True, text=True,
                          cwd=REPO)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f'pal-eval evaluate failed:\n{done.stderr}')
    stats = json.loads(done.stderr.strip().splitlines()[-1])
    return {'seconds': seconds, 'maxrss_mb': stats['maxrss_mb'],
            'cpu_seconds': stats['cpu_seconds'],
            **json.loads(out.read_text())}


def run_mmaction(task: str, paths: dict, tious: list[float]) -> dict:
    pred = paths['det' if task == 'detection' else 'prop']
    done = subprocess.run([sys.executable, '-c', MMACTION, task, str(paths['gt_mmaction']),
                           str(pred), json.dumps(tious)], capture_output=True, text=True,
                          cwd=REPO)
    if done.returncode != 0:
        raise SystemExit(f'mmaction2 side failed:\n{done.stderr[-3000:]}')
    return json.loads(done.stdout.strip().splitlines()[-1])


def reference_numbers(task: str, database: dict, results: dict, subset: str,
                      tious: list[float]) -> dict:
    sys.path.insert(0, str(REPO / 'tests' / 'evaluation'))
    import metric_reference

    gt = [(vid, float(a['segment'][0]), float(a['segment'][1]), a['label'])
          for vid, info in database.items() if info['subset'] == subset
          for a in info['annotations']]
    preds = [(vid, p['segment'][0], p['segment'][1], p['label'], p['score'])
             for vid, items in results.items() for p in items]
    if task == 'detection':
        _, ap = metric_reference.detection_ap(gt, preds, tious)
        mean_ap = [float(np.mean(row)) for row in ap]
        return {'mAP': mean_ap, 'average_mAP': float(np.mean(mean_ap))}
    _, avg, _, auc = metric_reference.average_recall(
        [g[:3] for g in gt], [(p[0], p[1], p[2], p[4]) for p in preds], 100, tious)
    return {'average_recall': avg.tolist(), 'AUC': auc}


def max_difference(task: str, got: dict, want: dict) -> float:
    if task == 'detection':
        return float(max(np.max(np.abs(np.subtract(got['mAP'], want['mAP']))),
                         abs(got['average_mAP'] - want['average_mAP'])))
    curve = got['curve']['average_recall'] if 'curve' in got else got['average_recall']
    return float(max(np.max(np.abs(np.subtract(curve, want['average_recall']))),
                     abs(got['AUC'] - want['AUC'])))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--work-dir', type=Path, default=REPO / 'work_dirs' / 'bench_metrics')
    parser.add_argument('--cases', nargs='+', default=['anet', 'thumos'],
                        choices=['anet', 'thumos'])
    parser.add_argument('--skip-reference', action='store_true',
                        help='do not run the (slow, ~1 min) brute-force reference')
    args = parser.parse_args()

    rows = []
    for case in args.cases:
        rng = np.random.default_rng(0)
        if case == 'anet':
            database, results = make_anet_case(rng)
            subset, tious = 'validation', ANET_TIOU
        else:
            database, results = make_thumos_case(rng)
            subset, tious = 'test', THUMOS_TIOU
        paths = write_case(args.work_dir / case, database, results, subset)
        num_gt = sum(len(i['annotations']) for i in database.values())
        num_pred = sum(len(items) for items in results.values())
        print(f'[{case}] {len(database)} videos, {num_gt} ground truths, {num_pred} '
              f'predictions', flush=True)
        for task in ('detection', 'proposal'):
            task_tious = tious if task == 'detection' else ANET_TIOU
            ours = run_ours(task, paths, subset, task_tious,
                            args.work_dir / case / f'ours_{task}.json')
            theirs = run_mmaction(task, paths, task_tious)
            row = {'case': case, 'task': task, 'ours_cpu_s': ours['cpu_seconds'],
                   'mmaction2_cpu_s': theirs['cpu_seconds'],
                   'speedup_cpu': theirs['cpu_seconds'] / ours['cpu_seconds'],
                   'mmaction2_process_cpu_s': theirs['process_cpu_seconds'],
                   'ours_wall_s': ours['seconds'], 'mmaction2_wall_s': theirs['seconds'],
                   'speedup_wall': theirs['seconds'] / ours['seconds'],
                   'ours_peak_mb': ours['maxrss_mb'], 'mmaction2_peak_mb': theirs['maxrss_mb']}
            if not args.skip_reference:
                start = time.perf_counter()
                want = reference_numbers(task, database, results, subset, task_tious)
                row['reference_s'] = time.perf_counter() - start
                row['ours_max_abs_diff'] = max_difference(task, ours, want)
                row['mmaction2_max_abs_diff'] = max_difference(task, theirs, want)
            rows.append(row)
            print('  ' + json.dumps({k: (round(v, 4) if isinstance(v, float) and v > 1e-3
                                         else v) for k, v in row.items()}), flush=True)

    print('\nmeasured (CPU and wall seconds; ours = whole process incl. start-up, '
          'mmaction2 = evaluation only, from reading JSON):')
    header = ('case', 'task', 'ours_cpu_s', 'mmaction2_cpu_s', 'speedup_cpu',
              'mmaction2_process_cpu_s', 'ours_wall_s',
              'mmaction2_wall_s', 'speedup_wall', 'ours_peak_mb',
              'mmaction2_peak_mb', 'ours_max_abs_diff', 'mmaction2_max_abs_diff')
    print(' | '.join(header))
    for row in rows:
        cells = []
        for key in header:
            value = row.get(key, '-')
            if isinstance(value, float):
                value = f'{value:.2e}' if key.endswith('diff') else f'{value:.2f}'
            cells.append(str(value))
        print(' | '.join(cells))
    return 0


if __name__ == '__main__':
    sys.exit(main())

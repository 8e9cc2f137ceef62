"""Write the metric-replay fixtures: small ground truth + predictions + expected numbers.

Run from the repository root (it rewrites ``tests/regression/fixtures/``)::

    .venv/bin/python tests/regression/make_fixtures.py

The inputs come from a fixed-seed random case (numpy ``default_rng(2022)``) plus a few
hand-placed edge cases the protocols are strict about: a tIoU exactly equal to a
threshold (counts as a match for detection and proposals, not for grounding's strict
``>``), tied scores across videos (stable ranking), predictions on a video outside the
evaluated subset and on an unknown video (false positives), a label that is not a
ground-truth class, a ground-truth class never predicted (AP 0). The expected numbers
are computed by ``regression_brute_force.py`` (plain loops, no ``pal_eval`` import), never
by the code under test.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from regression_brute_force import (  # noqa: E402
    detection_metrics,
    grounding_metrics,
    proposal_metrics,
)

FIXTURES = HERE / 'fixtures'
SEED = 2022
CLASSES = ('Jump', 'Run', 'Swim', 'Climb')  # 'Climb' is annotated but never predicted
ANET_THRESHOLDS = [round(0.5 + 0.05 * i, 2) for i in range(10)]
THUMOS_THRESHOLDS = [0.3, 0.4, 0.5, 0.6, 0.7]


def _r(x: float) -> float:
    return round(float(x), 2)


def build_ground_truth(rng: np.random.Generator) -> dict:
    """ActivityNet v1.3-style ground truth: 6 validation videos, 2 training videos."""
    database = {}
    for index in range(8):
        video = f'vid{index:02d}'
        duration = _r(rng.uniform(40, 120))
        annotations = []
        for _ in range(int(rng.integers(1, 4))):
            length = rng.uniform(0.05, 0.4) * duration
            start = rng.uniform(0, duration - length)
            annotations.append({'segment': [_r(start), _r(start + length)],
                                'label': CLASSES[int(rng.integers(0, 3))]})
        database[video] = {'subset': 'validation' if index < 6 else 'training',
                           'duration': duration, 'annotations': annotations}
    # Hand-placed: exact thresholds. [10, 30] vs [10, 20] has tIoU 0.5; vs [10, 25] 0.75.
    database['vid_exact'] = {'subset': 'validation', 'duration': 60.0, 'annotations': [
        {'segment': [10.0, 30.0], 'label': 'Jump'},
        {'segment': [40.0, 50.0], 'label': 'Climb'}]}
    return {'version': 'VERSION 1.3', 'database': database}


def build_detections(rng: np.random.Generator, gt: dict) -> dict:
    """Jittered copies of the ground truth, false positives, and the edge cases."""
    results: dict[str, list] = {}
    for video, entry in gt['database'].items():
        if video == 'vid_exact':
            continue
        items = results.setdefault(video, [])
        duration = entry['duration']
        for ann in entry['annotations']:
            start, end = ann['segment']
            for _ in range(3):
                jitter = rng.normal(0, 0.15 * (end - start), size=2)
                s = min(max(0.0, start + jitter[0]), duration - 1)
                e = max(min(duration, end + jitter[1]), s + 0.5)
                label = ann['label'] if rng.random() < 0.8 else CLASSES[int(rng.integers(0, 3))]
                items.append({'label': label, 'score': _r(rng.uniform(0.05, 1.0)),
                              'segment': [_r(s), _r(e)]})
        for _ in range(2):
            s = rng.uniform(0, duration - 5)
            items.append({'label': CLASSES[int(rng.integers(0, 3))],
                          'score': _r(rng.uniform(0.0, 0.5)),
                          'segment': [_r(s), _r(s + rng.uniform(2, 20))]})
    results['vid_exact'] = [
        {'label': 'Jump', 'score': 0.9, 'segment': [10.0, 20.0]},   # tIoU exactly 0.5
        {'label': 'Jump', 'score': 0.8, 'segment': [10.0, 25.0]},   # tIoU exactly 0.75
        {'label': 'Unlisted', 'score': 0.95, 'segment': [0.0, 5.0]},  # not a GT class
    ]
    # Tied scores across videos: ranking must keep file order (stable sort).
    results['vid00'].append({'label': 'Run', 'score': 0.77, 'segment': [0.0, 10.0]})
    results['vid01'].append({'label': 'Run', 'score': 0.77, 'segment': [0.0, 10.0]})
    results['vid_unknown'] = [{'label': 'Jump', 'score': 0.99, 'segment': [1.0, 9.0]}]
    return {'version': 'VERSION 1.3', 'results': results, 'external_data': {}}


def build_proposals(rng: np.random.Generator, gt: dict) -> dict:
    """Label-free proposals with distinct scores per video (the official ranking breaks
    ties in an implementation-defined order, so none are tied)."""
    results: dict[str, list] = {}
    for video, entry in gt['database'].items():
        duration = entry['duration']
        count = int(rng.integers(8, 30))
        scores = rng.permutation(np.arange(1, count + 1)) / (count + 1)
        items = []
        for score in scores:
            if rng.random() < 0.5 and entry['annotations']:
                ann = entry['annotations'][int(rng.integers(0, len(entry['annotations'])))]
                start, end = ann['segment']
                jitter = rng.normal(0, 0.2 * (end - start), size=2)
                s, e = max(0.0, start + jitter[0]), min(duration, end + jitter[1])
            else:
                s = rng.uniform(0, duration - 2)
                e = s + rng.uniform(1, duration - s)
            if e <= s:
                e = s + 1.0
            items.append({'score': round(float(score), 6), 'segment': [_r(s), _r(e)]})
        results[video] = items
    results['vid_exact'][0] = {'score': 0.999, 'segment': [10.0, 20.0]}  # tIoU exactly 0.5
    results['vid_unknown'] = [{'score': 0.5, 'segment': [0.0, 3.0]},
                            {'score': 0.4, 'segment': [3.0, 6.0]}]
    return {'version': 'VERSION 1.3', 'results': results, 'external_data': {}}


def build_grounding(rng: np.random.Generator) -> tuple[dict, dict]:
    """Canonical grounding queries and ranked candidates (distinct scores)."""
    queries, results = [], {}
    for index in range(10):
        duration = _r(rng.uniform(20, 60))
        length = rng.uniform(0.1, 0.5) * duration
        start = rng.uniform(0, duration - length)
        segment = [_r(start), _r(start + length)]
        query_id = f'q{index:02d}'
        queries.append({'query_id': query_id, 'video': f'g_{index:02d}', 'duration': duration,
                        'segment': segment, 'sentence': f'a red square moves left {index}'})
        count = 12
        scores = rng.permutation(np.arange(1, count + 1)) / (count + 1)
        candidates = []
        for score in scores:
            jitter = rng.normal(0, 0.4 * length, size=2)
            s = max(0.0, segment[0] + jitter[0])
            e = min(duration, max(segment[1] + jitter[1], s + 0.5))
            candidates.append({'segment': [_r(s), _r(e)], 'score': round(float(score), 6)})
        results[query_id] = candidates
    # Hand-placed: q00's top candidate has IoU exactly 0.5 (4 / 8): a miss at IoU=0.5
    # (strict >), a hit at 0.3.
    queries[0].update(duration=max(queries[0]['duration'], 20.0), segment=[4.0, 12.0])
    results['q00'][0] = {'segment': [4.0, 8.0], 'score': 0.999}
    return {'queries': queries}, {'results': results}


def main() -> None:
    rng = np.random.default_rng(SEED)
    gt = build_ground_truth(rng)
    detections = build_detections(rng, gt)
    proposals = build_proposals(rng, gt)
    grounding_gt, grounding_pred = build_grounding(rng)
    files = {'anet_gt.json': gt, 'detection_pred.json': detections,
             'proposal_pred.json': proposals, 'grounding_gt.json': grounding_gt,
             'grounding_pred.json': grounding_pred}
    expected = {
        'detection_anet': detection_metrics(gt, detections, 'validation', ANET_THRESHOLDS),
        'detection_thumos_thresholds': detection_metrics(gt, detections, 'validation',
                                                         THUMOS_THRESHOLDS),
        'proposal': proposal_metrics(gt, proposals, 'validation', ANET_THRESHOLDS),
        'grounding': grounding_metrics(grounding_gt, grounding_pred),
    }
    files['expected.json'] = expected
    FIXTURES.mkdir(exist_ok=True)
    for name, content in files.items():
        (FIXTURES / name).write_text(json.dumps(content, indent=1) + '\n')
    print(json.dumps({k: {m: v for m, v in e.items() if m not in ('ap_per_class', 'mAP',
                                                                   'tiou_thresholds')}
                      for k, e in expected.items()}, indent=1))


if __name__ == '__main__':
    main()

"""Independent, deliberately naive re-implementations of the three evaluation protocols.

Written from the protocol texts (issue 3, the official ActivityNet ``eval_detection.py`` /
``eval_proposal.py`` and 2D-TAN's ``lib/core/eval.py``) with plain Python loops and no
import from ``pal_eval``: they produce the expected numbers committed next to the replay
fixtures, so the replay test compares our fast metrics with something that shares no code
with them.
"""
from __future__ import annotations

import numpy as np


def segment_iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Intersection over union of two segments, intersection clipped at 0."""
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    return inter / union if union > 0 else 0.0


def voc_ap(tp: list[int], num_positives: int) -> float:
    """All-point interpolated AP (VOC 2011) of a ranked list of hits."""
    if num_positives == 0:
        return 0.0
    cum_tp, precision, recall = 0, [], []
    for rank, hit in enumerate(tp, 1):
        cum_tp += hit
        precision.append(cum_tp / rank)
        recall.append(cum_tp / num_positives)
    mprec = [0.0] + precision + [0.0]
    mrec = [0.0] + recall + [1.0]
    for i in range(len(mprec) - 2, -1, -1):
        mprec[i] = max(mprec[i], mprec[i + 1])
    return sum((mrec[i] - mrec[i - 1]) * mprec[i] for i in range(1, len(mrec))
               if mrec[i] != mrec[i - 1])


def detection_metrics(gt: dict, pred: dict, subset: str, thresholds: list[float]) -> dict:
    """ActivityNet detection mAP: greedy matching per class and threshold, stable ranking."""
    database = gt['database']
    in_subset = {v for v, e in database.items() if e['subset'] == subset}
    truths = [(v, a['segment'][0], a['segment'][1], a['label'])
              for v in in_subset for a in database[v]['annotations']]
    classes = sorted({t[3] for t in truths})
    predictions = [(v, p['segment'][0], p['segment'][1], p['label'], p['score'])
                   for v, items in pred['results'].items() for p in items]
    ap = {c: [] for c in classes}
    for threshold in thresholds:
        for c in classes:
            ranked = sorted((p for p in predictions if p[3] == c), key=lambda p: -p[4])
            class_truths = [t for t in truths if t[3] == c]
            used: set[int] = set()
            hits = []
            for video, start, end, _, _ in ranked:
                best, best_iou = None, -1.0
                for j, (tv, ts, te, _) in enumerate(class_truths):
                    if tv != video or j in used:
                        continue
                    iou = segment_iou((start, end), (ts, te))
                    if iou > best_iou:
                        best, best_iou = j, iou
                if best is not None and best_iou >= threshold:
                    used.add(best)
                    hits.append(1)
                else:
                    hits.append(0)
            ap[c].append(voc_ap(hits, len(class_truths)))
    per_threshold = [float(np.mean([ap[c][i] for c in classes]))
                     for i in range(len(thresholds))]
    return {'tiou_thresholds': list(thresholds), 'mAP': per_threshold,
            'average_mAP': float(np.mean(per_threshold)),
            'ap_per_class': {c: ap[c] for c in classes}}


def proposal_metrics(gt: dict, pred: dict, subset: str, thresholds: list[float],
                     max_avg_proposals: int = 100) -> dict:
    """ActivityNet AR@AN / AUC, following ``average_recall_vs_avg_nr_proposals`` step by step.

    The float expressions (ratio, percentages, their integer truncations) are written in
    the same order as the official code, because the truncations depend on them.
    """
    database = gt['database']
    videos = [v for v, e in database.items() if e['subset'] == subset and e['annotations']]
    total_submitted = sum(len(items) for items in pred['results'].values())
    ratio = max_avg_proposals * float(len(videos)) / total_submitted
    scores, total_kept = [], 0
    for video in videos:
        truths = [a['segment'] for a in database[video]['annotations']]
        items = pred['results'].get(video, [])
        if not items:
            scores.append(np.zeros((len(truths), 1)))
            continue
        ranked = sorted(items, key=lambda p: -p['score'])
        kept = min(int(len(ranked) * ratio), len(ranked))
        total_kept += kept
        ranked = ranked[:kept]
        scores.append(np.array([[segment_iou(p['segment'], t) for p in ranked]
                                for t in truths]).reshape(len(truths), kept))
    percentages = np.arange(1, 101) / 100.0 * (
        max_avg_proposals * float(len(videos)) / total_kept)
    recall = np.empty((len(thresholds), len(percentages)))
    positives = sum(s.shape[0] for s in scores)
    for r, threshold in enumerate(thresholds):
        matches = np.zeros(len(percentages))
        for score in scores:
            counts = np.minimum((score.shape[1] * percentages).astype(int), score.shape[1])
            for j, count in enumerate(counts):
                matches[j] += sum(1 for row in score if any(x >= threshold
                                                            for x in row[:count]))
        recall[r] = matches / positives
    average_recall = recall.mean(axis=0)
    avg_proposals = percentages * (float(total_kept) / len(videos))
    auc = float(np.trapezoid(average_recall, avg_proposals) / avg_proposals[-1])
    out = {'tiou_thresholds': list(thresholds)}
    for n in (1, 5, 10, 50, 100):
        out[f'AR@{n}'] = float(average_recall[n - 1])
    out['AUC'] = auc
    return out


def grounding_metrics(gt: dict, pred: dict, recalls=(1, 5), ious=(0.3, 0.5, 0.7),
                      nms_thresh: float = 0.5) -> dict:
    """2D-TAN recall: rank by score, greedy NMS (drop overlap > thresh), hit when IoU > m."""
    hits = {(n, m): [] for n in recalls for m in ious}
    top1 = []
    for query in gt['queries']:
        truth = query['segment']
        ranked = sorted(pred['results'][query['query_id']], key=lambda p: -p['score'])
        kept = []
        for candidate in ranked:
            if all(segment_iou(candidate['segment'], k) <= nms_thresh for k in kept):
                kept.append(candidate['segment'])
            if len(kept) == max(recalls):
                break
        overlaps = [segment_iou(k, truth) for k in kept]
        top1.append(overlaps[0] if overlaps else 0.0)
        for n in recalls:
            for m in ious:
                hits[(n, m)].append(any(o > m for o in overlaps[:n]))
    out = {f'R@{n},IoU={m:g}': float(np.mean(v)) for (n, m), v in hits.items()}
    out['mIoU'] = float(np.mean(top1))
    return out

"""Brute-force reference evaluators for the tests: the official algorithms, loop by loop.

Written independently of ``pal_eval.evaluation`` (plain Python loops and floats) after
``activitynet/ActivityNet Evaluation/eval_detection.py``, ``eval_proposal.py`` and
2D-TAN's ``lib/core/eval.py``; the only deliberate choices are the ones the issue fixes:
stable score sorts, and among ground truths of equal tIoU the later one wins (what the
official ``argsort()[::-1]`` does on small arrays).
"""
from __future__ import annotations

import math

import numpy as np


def tiou(a, b) -> float:
    """``segment_iou`` as eval_detection.py computes it, numpy division included: a union
    of 0 gives NaN (which then *matches*: ``NaN < thr`` is False), a negative one -0.0."""
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (b[1] - b[0]) + (a[1] - a[0]) - inter
    with np.errstate(invalid='ignore', divide='ignore'):
        return float(np.float64(inter) / np.float64(union))


def hull_tiou(a, b) -> float:
    """2D-TAN's ``iou``: hull union clipped at 0, numpy division (0/0 is NaN)."""
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(0.0, max(a[1], b[1]) - min(a[0], b[0]))
    with np.errstate(invalid='ignore', divide='ignore'):
        return float(np.float64(inter) / np.float64(union))


def matlab_overlap(i1, i2) -> float:
    """THUMOS14 kit ``intervalsingleoverlapvalseconds`` (normtype 0), line by line: each
    interval sorted first, 0 unless the intersection is positive."""
    i1, i2 = [min(i1), max(i1)], [min(i2), max(i2)]
    ua = max(i1[1], i2[1]) - min(i1[0], i2[0])
    iw = min(i1[1], i2[1]) - max(i1[0], i2[0])
    return iw / ua if iw > 0 else 0.0


def voc_ap(prec, rec) -> float:
    mprec = [0.0] + list(prec) + [0.0]
    mrec = [0.0] + list(rec) + [1.0]
    for i in range(len(mprec) - 2, -1, -1):
        mprec[i] = max(mprec[i], mprec[i + 1])
    idx = np.where(np.array(mrec[1:]) != np.array(mrec[:-1]))[0] + 1
    mrec, mprec = np.array(mrec), np.array(mprec)
    return float(np.sum((mrec[idx] - mrec[idx - 1]) * mprec[idx]))


def detection_ap(gt, preds, thresholds):
    """gt: list of (video, start, end, label); preds: + score. Returns (classes, ap[T][C]).

    The official per-prediction loop; ground truths are grouped with dicts (not pandas)
    so that it also runs at ActivityNet scale for the benchmark (~1 min).
    """
    classes, gt_by_class, pred_by_class = [], {}, {}
    for g in gt:
        if g[3] not in gt_by_class:
            classes.append(g[3])
        gt_by_class.setdefault(g[3], []).append(g)
    for p in preds:
        pred_by_class.setdefault(p[3], []).append(p)
    ap = [[0.0] * len(classes) for _ in thresholds]
    for c, label in enumerate(classes):
        gts = gt_by_class[label]
        ps = pred_by_class.get(label, [])
        if not ps:
            continue
        by_video = {}
        for j, g in enumerate(gts):
            by_video.setdefault(g[0], []).append(j)
        ps = sorted(ps, key=lambda p: -p[4])  # stable
        lock = [[False] * len(gts) for _ in thresholds]
        tp = [[0] * len(ps) for _ in thresholds]
        fp = [[0] * len(ps) for _ in thresholds]
        for i, p in enumerate(ps):
            idx = by_video.get(p[0], [])
            if not idx:
                for t in range(len(thresholds)):
                    fp[t][i] = 1
                continue
            ious = np.array([tiou((p[1], p[2]), (gts[j][1], gts[j][2])) for j in idx])
            sorted_idx = np.argsort(ious, kind='stable')[::-1]
            for t, thr in enumerate(thresholds):
                for k in sorted_idx:
                    if ious[k] < thr:
                        fp[t][i] = 1
                        break
                    if lock[t][idx[k]]:
                        continue
                    tp[t][i] = 1
                    lock[t][idx[k]] = True
                    break
                if not tp[t][i] and not fp[t][i]:
                    fp[t][i] = 1
        for t in range(len(thresholds)):
            tps = np.cumsum(tp[t]).astype(float)
            fps = np.cumsum(fp[t]).astype(float)
            ap[t][c] = voc_ap(tps / (tps + fps), tps / len(gts))
    return classes, ap


def average_recall(gt, proposals, max_avg, thresholds):
    """gt: list of (video, start, end); proposals: (video, start, end, score)."""
    gt_by_video, prop_by_video = {}, {}
    for g in gt:
        gt_by_video.setdefault(g[0], []).append((g[1], g[2]))
    for p in proposals:
        prop_by_video.setdefault(p[0], []).append(p)
    videos = list(gt_by_video)
    ratio = max_avg * float(len(videos)) / len(proposals)
    scores, total = [], 0
    for v in videos:
        gts = gt_by_video[v]
        ps = prop_by_video.get(v, [])
        if not ps:
            scores.append(np.zeros((len(gts), 1)))
            continue
        ps = sorted(ps, key=lambda p: -p[3])
        n = min(int(len(ps) * ratio), len(ps))
        total += n
        ps = ps[:n]
        scores.append(np.array([[tiou(g, (p[1], p[2])) for p in ps] for g in gts]).reshape(
            len(gts), n))
    pcn = np.arange(1, 101) / 100.0 * (max_avg * float(len(videos)) / total)
    recall = np.empty((len(thresholds), 100))
    for r, thr in enumerate(thresholds):
        matches = np.empty((len(videos), 100))
        positives = np.empty(len(videos))
        for i, score in enumerate(scores):
            positives[i] = score.shape[0]
            hit = score >= thr
            counts = np.minimum((score.shape[1] * pcn).astype(int), score.shape[1])
            for j, k in enumerate(counts):
                matches[i, j] = np.count_nonzero(hit[:, :k].sum(axis=1))
        recall[r] = matches.sum(axis=0) / positives.sum()
    avg = recall.mean(axis=0)
    ppv = pcn * (float(total) / len(videos))
    auc = float(np.trapezoid(avg, ppv)) / ppv[-1]
    return recall, avg, ppv, auc


def grounding(gt, preds, recalls, ious, nms_thresh):
    """gt: {qid: (s, e)}; preds: {qid: [(s, e, score)]}. Returns ({(n, m): R}, mIoU)."""
    hits = {(n, m): [] for n in recalls for m in ious}
    top1 = []
    for qid, g in gt.items():
        cands = sorted(preds.get(qid, []), key=lambda p: -p[2])
        kept = []
        for c in cands:
            if len(kept) == max(recalls):
                break
            if all(tiou(c, k) <= nms_thresh for k in kept):
                kept.append(c)
        overlaps = [hull_tiou(k, g) for k in kept]
        top1.append(overlaps[0] if overlaps else 0.0)
        for n in recalls:
            for m in ious:
                hits[(n, m)].append(any(o > m for o in overlaps[:n]))
    return {k: float(np.mean(v)) for k, v in hits.items()}, float(np.mean(top1))


def isclose(a, b) -> bool:
    return math.isclose(a, b, rel_tol=0, abs_tol=1e-12)


def thumos_matlab_ap(gt, ambiguous, preds, class_name, thr):
    """Literal port of TH14eventdetpr.m for one class (gt/ambiguous rows (video, s, e, label))."""
    videos = sorted({g[0] for g in gt} | {p[0] for p in preds} | {a[0] for a in ambiguous})
    npos = sum(1 for g in gt if g[3] == class_name)
    confs, flags = [], []
    for v in videos:
        g = [x for x in gt if x[0] == v and x[3] == class_name]
        amb = [x for x in ambiguous if x[0] == v]
        det = [x for x in preds if x[0] == v and x[3] == class_name]
        if not det:
            continue
        det = sorted(det, key=lambda x: -x[4])  # MATLAB sort is stable
        free = [True] * len(det)
        for x in g:
            ov = [matlab_overlap((x[1], x[2]), (d[1], d[2])) for d in det]
            ind = [i for i in range(len(det)) if free[i]]
            if not ind:
                continue
            vm = max(ov[i] for i in ind)
            im = next(i for i in ind if ov[i] == vm)  # MATLAB max: first occurrence
            if vm > thr:
                free[im] = False
        amb_hit = [any(matlab_overlap((a[1], a[2]), (d[1], d[2])) > 0 for a in amb)
                   for d in det]
        for i, d in enumerate(det):
            if not free[i]:
                confs.append(d[4])
                flags.append(1)
            elif not amb_hit[i]:
                confs.append(d[4])
                flags.append(2)
    order = sorted(range(len(confs)), key=lambda i: -confs[i])
    tp = fp = 0
    ap = 0.0
    for i in order:
        if flags[i] == 1:
            tp += 1
            ap += tp / (tp + fp)
        else:
            fp += 1
    return ap / npos

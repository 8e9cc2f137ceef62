"""BMN: our implementation vs mmaction2's, side by side in one run, ratios printed.

1. Training step (forward + backward + Adam step), batch 8 of 400 x 100 features, same
   weights and inputs: time per step and peak resident memory, each model in its own
   subprocess (``resource.getrusage`` max RSS; tracemalloc does not see torch).
2. Post-processing of ActivityNet-scale outputs (candidate generation + Soft-NMS + seconds):
   ours (:mod:`pal_eval.postprocess`) vs mmaction2's ``BMN.predict`` loop and
   ``post_processing``, on the same network outputs; outputs compared.

Targets (issue 6): step >= 5x faster, peak memory <= 1/4, post-processing >= 10x faster,
identical outputs.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_heads.py [--batch 8] [--steps 2] [--videos 40]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
# pal_eval first: it repairs the pinned stack before mmaction2 is imported below.
import pal_eval  # noqa: E402, F401, I001

BMN_ARGS = dict(temporal_dim=100, boundary_ratio=0.5, num_samples=32, num_samples_per_bin=3,
                feat_dim=400, soft_nms_alpha=0.4, soft_nms_low_threshold=0.5,
                soft_nms_high_threshold=0.9, post_process_top_k=100)


def _inputs(batch: int):
    import torch

    generator = torch.Generator().manual_seed(0)
    features = torch.randn(batch, 400, 100, generator=generator)
    gt = []
    for i in range(batch):
        start = 0.05 + 0.08 * (i % 5)
        gt.append(np.array([[start, start + 0.3], [0.7, 0.85]]))
    return features, gt


def child_training_step(which: str, weights: str, batch: int, steps: int) -> dict:
    """Run in a subprocess: build one model, time ``steps`` training steps after a warm-up."""
    import mmaction.models  # noqa: F401
    import torch
    from mmaction.registry import MODELS

    from heads.targets import localization_labels

    torch.manual_seed(0)
    state = torch.load(weights)
    if which == 'mmaction2':
        model = MODELS.build(dict(type='BMN', **BMN_ARGS))
        model.load_state_dict(state, strict=False)  # its own sample_mask / bm_mask kept
        loss_fn = model.loss_cls
    else:
        from heads.bmn import BoundaryMatchingNetwork, convert_mmaction_state_dict

        model = BoundaryMatchingNetwork(feat_dim=400)
        model.load_state_dict(convert_mmaction_state_dict(state))
        loss_fn = model.loss_module
    features, gt = _inputs(batch)
    labels = [localization_labels(g, 100) for g in gt]
    targets = [torch.stack([torch.from_numpy(lab[k]) for lab in labels])
               for k in ('gt_iou_map', 'gt_start', 'gt_end')]
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    times, first_loss = [], None
    for step in range(steps + 1):
        begin = time.perf_counter()
        torch.manual_seed(step)  # the same random balancing draws in both models
        confidence, start, end = model._forward(features)
        loss = loss_fn(confidence, start, end, *targets, model.bm_mask)[0]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step == 0:
            first_loss = float(loss)
        else:
            times.append(time.perf_counter() - begin)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return dict(step_s=float(np.median(times)), peak_mib=peak_kib / 1024, loss=first_loss)


def bench_training(batch: int, steps: int) -> None:
    import torch

    from heads.bmn import _MMACTION_PREFIXES, BoundaryMatchingNetwork

    torch.manual_seed(0)
    ours = BoundaryMatchingNetwork(feat_dim=400)
    inverse = {new: old for old, new in _MMACTION_PREFIXES.items()}
    state = {}
    for key, value in ours.state_dict().items():
        for new, old in inverse.items():
            if key.startswith(new):
                state[old + key[len(new):]] = value
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        weights = os.path.join(tmp, 'bmn.pth')
        torch.save(state, weights)
        for which in ('ours', 'mmaction2'):
            proc = subprocess.run(
                [sys.executable, __file__, '--child', which, '--weights', weights,
                 '--batch', str(batch), '--steps', str(steps)],
                capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                sys.exit(f'{which} child failed:\n{proc.stderr[-3000:]}')
            results[which] = json.loads(proc.stdout.strip().splitlines()[-1])
    ours_r, mm_r = results['ours'], results['mmaction2']
    print(f'BMN training step, batch {batch}, 400 x 100 features '
          f'(median of {steps} steps after a warm-up):')
    for name, r in results.items():
        print(f'  {name:10s} {r["step_s"]:8.2f} s/step   peak RSS {r["peak_mib"]:8.0f} MiB'
              f'   first loss {r["loss"]:.6f}')
    print(f'  speed-up {mm_r["step_s"] / ours_r["step_s"]:.1f}x (target >= 5x); '
          f'memory ratio {ours_r["peak_mib"] / mm_r["peak_mib"]:.3f} (target <= 0.25); '
          f'same first loss: {np.isclose(ours_r["loss"], mm_r["loss"], rtol=1e-4)}')


def _fake_outputs(num_videos: int, seed: int = 0):
    """Smooth random start/end curves and confidence maps, like a trained BMN's."""
    rng = np.random.default_rng(seed)
    kernel = np.ones(5) / 5
    outputs = []
    for _ in range(num_videos):
        start = np.convolve(rng.uniform(size=104), kernel, 'valid').astype(np.float32)
        end = np.convolve(rng.uniform(size=104), kernel, 'valid').astype(np.float32)
        maps = rng.uniform(size=(2, 100, 100)).astype(np.float32)
        outputs.append((start, end, maps, float(rng.uniform(30, 200))))
    return outputs


def bench_postprocessing(num_videos: int) -> None:
    import mmaction.models  # noqa: F401
    import torch
    from mmaction.registry import MODELS
    from mmaction.structures import ActionDataSample

    from heads.bmn import BoundaryMatchingNetwork

    outputs = _fake_outputs(num_videos)
    mm = MODELS.build(dict(type='BMN', **BMN_ARGS))
    ours = BoundaryMatchingNetwork(feat_dim=400)

    begin = time.perf_counter()
    theirs = []
    for start, end, maps, duration in outputs:
        mm._forward = lambda _x, s=start, e=end, m=maps: (
            torch.from_numpy(m)[None], torch.from_numpy(s)[None], torch.from_numpy(e)[None])
        # duration_frame a multiple of 16: mmaction2's feature-interval correction is 1.
        sample = ActionDataSample(metainfo=dict(video_name='v', duration_second=duration,
                                                duration_frame=1600))
        result = mm.predict(None, [sample])[0]['proposal_list']
        theirs.append(np.array([[p['segment'][0], p['segment'][1], p['score']]
                                for p in result]))
    mm_time = time.perf_counter() - begin

    begin = time.perf_counter()
    mine = []
    for start, end, maps, duration in outputs:
        segments, scores = ours.proposals_in_seconds(maps, start, end,
                                                     dict(duration=duration))
        mine.append(np.column_stack([segments, scores]))
    ours_time = time.perf_counter() - begin

    identical = sum(_same(a, b) for a, b in zip(theirs, mine))
    explained = _explain_mismatches(mm, outputs, theirs, mine)
    print(f'Post-processing of {num_videos} videos (candidates + Soft-NMS top 100 + seconds):')
    print(f'  mmaction2  {mm_time / num_videos * 1e3:8.1f} ms/video')
    print(f'  ours       {ours_time / num_videos * 1e3:8.1f} ms/video')
    print(f'  speed-up {mm_time / ours_time:.1f}x (target >= 10x); '
          f'identical outputs (segments and scores, rtol 1e-6): {identical}/{num_videos} videos')
    if identical < num_videos:
        print(f'  the other {num_videos - identical}: {explained} become identical when '
              "mmaction2's tIoU is computed exactly (its float arithmetic on k/T boundaries "
              'rounds a tIoU equal to the Soft-NMS threshold above it)')


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.allclose(_canonical(a), _canonical(b), rtol=1e-6, atol=1e-9)


def _explain_mismatches(mm, outputs, theirs, mine) -> int:
    """Rerun mismatching videos through mmaction2 with an exact tIoU; count the matches."""
    import torch
    from mmaction.models.localizers.utils import proposal_utils
    from mmaction.structures import ActionDataSample

    original = proposal_utils.temporal_iou

    def exact_tiou(proposal_min, proposal_max, gt_min, gt_max):
        # Boundaries are k / 100: compute on the integers k, where the quotient is exact.
        p0, p1 = np.round(np.multiply(proposal_min, 100)), np.round(np.multiply(proposal_max, 100))
        g0, g1 = np.round(np.multiply(gt_min, 100)), np.round(np.multiply(gt_max, 100))
        inter = np.maximum(np.minimum(p1, g1) - np.maximum(p0, g0), 0.0)
        return inter / ((p1 - p0) + (g1 - g0) - inter)

    matched = 0
    proposal_utils.temporal_iou = exact_tiou
    try:
        for (start, end, maps, duration), a, b in zip(outputs, theirs, mine):
            if _same(a, b):
                continue
            mm._forward = lambda _x, s=start, e=end, m=maps: (
                torch.from_numpy(m)[None], torch.from_numpy(s)[None], torch.from_numpy(e)[None])
            sample = ActionDataSample(metainfo=dict(video_name='v', duration_second=duration,
                                                    duration_frame=1600))
            result = mm.predict(None, [sample])[0]['proposal_list']
            rows = np.array([[p['segment'][0], p['segment'][1], p['score']] for p in result])
            matched += _same(rows, b)
    finally:
        proposal_utils.temporal_iou = original
    return matched


def _canonical(rows: np.ndarray) -> np.ndarray:
    """Rows sorted by score, then start, then end (equal scores may come in any order)."""
    rounded = np.round(rows, 6)
    return rows[np.lexsort((rounded[:, 1], rounded[:, 0], -rounded[:, 2]))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--steps', type=int, default=2, help='timed steps after a warm-up')
    parser.add_argument('--videos', type=int, default=40)
    parser.add_argument('--skip-training', action='store_true')
    parser.add_argument('--child', choices=['ours', 'mmaction2'], help=argparse.SUPPRESS)
    parser.add_argument('--weights', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child_training_step(args.child, args.weights, args.batch, args.steps)))
        return
    bench_postprocessing(args.videos)
    if not args.skip_training:
        bench_training(args.batch, args.steps)


if __name__ == '__main__':
    main()

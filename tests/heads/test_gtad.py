"""G-TAD: graph edges, Align1D, targets, model contract and a tiny overfitting run.

Each building block is compared with an independent, deliberately naive computation
(Python loops over the definition), never with numbers copied from our own output.
"""
from __future__ import annotations

import math
import re

import mmengine  # noqa: F401  (imported first: pal-eval registers itself right after it)
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmaction.structures import ActionDataSample
from mmengine.structures import InstanceData

import pal_eval  # noqa: F401
from heads.bmn import candidate_proposals
from heads.gtad import (
    GTAD,
    SubGraphAlign,
    SubGraphProjection,
    align1d,
    align1d_matrix,
    gather_neighbours,
    inference_cells,
    knn_indices,
)
from heads.targets import gtad_targets, proposal_map_mask
from pal_eval.core.tiou import pairwise_tiou
from tests.heads.feature_benchmark import write_tiny_benchmark

torch.set_num_threads(1)

TINY = dict(hidden_dim_1d=16, hidden_dim_2d=8, hidden_dim_3d=16, groups=4, k=3,
            inner_points=8, context_points=2)


# --------------------------------------------------------------------------------------
# Semantic edges
# --------------------------------------------------------------------------------------
def test_knn_matches_brute_force():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 5, 12))
    ours = knn_indices(torch.from_numpy(x), 4).numpy()
    for b in range(2):
        for t in range(12):
            distances = [sum((x[b, c, t] - x[b, c, u]) ** 2 for c in range(5))
                         for u in range(12)]
            expected = sorted(range(12), key=lambda u: distances[u])[:4]
            assert ours[b, t].tolist() == expected
            assert ours[b, t, 0] == t  # each snippet is its own nearest neighbour


def test_gather_neighbours_reads_each_neighbour():
    x = torch.randn(2, 3, 6)
    idx = torch.randint(0, 6, (2, 6, 4))
    out = gather_neighbours(x, idx)
    for b in range(2):
        for t in range(6):
            for j in range(4):
                assert torch.equal(out[b, :, t, j], x[b, :, idx[b, t, j]])


# --------------------------------------------------------------------------------------
# Align1D
# --------------------------------------------------------------------------------------
def _align1d_loop(x: np.ndarray, rois: np.ndarray, num_points: int,
                  sampling_ratio: int) -> np.ndarray:
    """Align1D written as the definition: a scalar loop per region, channel and bin."""
    _, channels, length = x.shape
    out = np.zeros((len(rois), channels, num_points))
    for n, (b, start, end) in enumerate(rois):
        roi_length = max(end - start, 1.0)
        bin_size = roi_length / num_points
        grid = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_length / num_points)
        for c in range(channels):
            for p in range(num_points):
                total = 0.0
                for it in range(grid):
                    t = start + p * bin_size + (it + 0.5) * bin_size / grid
                    if t < -1.0 or t > length:
                        continue
                    t = max(t, 0.0)
                    low = int(t)
                    if low >= length - 1:
                        total += x[int(b), c, length - 1]
                        continue
                    frac = t - low
                    total += (1 - frac) * x[int(b), c, low] + frac * x[int(b), c, low + 1]
                out[n, c, p] = total / grid
    return out


@pytest.mark.parametrize('sampling_ratio', [0, 1, 3])
def test_align1d_matches_loop_reference(sampling_ratio):
    rng = np.random.default_rng(sampling_ratio)
    x = rng.normal(size=(2, 3, 10))
    starts = rng.uniform(-4, 11, size=20)
    ends = starts + rng.uniform(0, 9, size=20)  # includes regions shorter than 1
    rois = np.stack([rng.integers(0, 2, size=20), starts, ends], 1)
    ours = align1d(torch.from_numpy(x), torch.from_numpy(rois), 5, sampling_ratio).numpy()
    np.testing.assert_allclose(ours, _align1d_loop(x, rois, 5, sampling_ratio),
                               rtol=1e-10, atol=1e-12)


def test_align1d_gradient_is_that_of_the_linear_map():
    x = torch.randn(1, 2, 7, dtype=torch.float64, requires_grad=True)
    rois = torch.tensor([[0, -1.3, 4.2], [0, 2.5, 9.0]], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda inp: align1d(inp, rois, 3), (x,))


def test_subgraph_align_layout_and_invalid_anchors():
    """Valid anchors read their widened region; anchors past the window read the reference
    code's dummy region [0, 0] (``GraphAlign._get_anchors``), which Align1D widens to
    [0, 1]: bin p of P = 4 samples t = (p + 0.5) / 4 once, (1 - t) x[0] + t x[1]; with
    x[0] = 1, x[1] = 3 that is 1.25, 1.75, 2.25, 2.75. ``invalid_anchors='zero'`` writes
    zeros instead (our former choice)."""
    torch.manual_seed(0)
    x = torch.randn(2, 3, 6)
    x[:, 0, 0], x[:, 0, 1] = 1.0, 3.0
    mask = proposal_map_mask(6, 4).bool()
    zero = SubGraphAlign(6, 4, inner_points=4, context_points=0, invalid_anchors='zero')(x)
    assert zero.shape == (2, 3 * 4, 4, 6)
    assert torch.all(zero[:, :, ~mask] == 0)
    out = SubGraphAlign(6, 4, inner_points=4, context_points=0)(x)
    assert torch.equal(out[:, :, mask], zero[:, :, mask])
    invalid = out.view(2, 3, 4, 4, 6)[:, 0][..., ~mask]       # [B, P, invalid cells]
    expected = torch.tensor([1.25, 1.75, 2.25, 2.75]).view(1, 4, 1)
    torch.testing.assert_close(invalid, expected.expand_as(invalid))
    # Anchor [d=1, s=2] covers snippets 2..3 (length 2), widened by 1 on each side.
    expected = align1d(x, torch.tensor([[1, 1.0, 4.0]]), 4)[0]          # [C, P]
    assert torch.allclose(out[1, :, 1, 2].view(3, 4), expected)


def test_align1d_matrix_is_the_same_linear_map():
    rng = np.random.default_rng(5)
    x = torch.from_numpy(rng.normal(size=(1, 4, 9)))
    regions = torch.from_numpy(np.sort(rng.uniform(-3, 12, size=(15, 2)), axis=1))
    matrix = align1d_matrix(regions, 6, 9).to_dense().double()          # [N * P, T]
    rois = torch.cat([torch.zeros(15, 1, dtype=torch.float64), regions], 1)
    expected = align1d(x, rois, 6)                                      # [N, C, P]
    ours = (matrix @ x[0].T).view(15, 6, 4).permute(0, 2, 1)
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('invalid_anchors', ['dummy_roi', 'zero'])
@pytest.mark.parametrize('context_points', [0, 2])
def test_fused_projection_equals_align_then_convolution(context_points, invalid_anchors):
    torch.manual_seed(context_points)
    layer = SubGraphProjection(6, 5, 10, 7, inner_points=4, context_points=context_points,
                               invalid_anchors=invalid_anchors)
    x = torch.randn(3, 6, 10, requires_grad=True)
    neighbours = knn_indices(x.detach(), 3)
    fused = layer(x, neighbours)
    layer.fused = False
    reference = layer(x, neighbours)
    assert fused.shape == reference.shape == (3, 5, 7, 10)
    torch.testing.assert_close(fused, reference, rtol=1e-4, atol=1e-5)
    grad_fused = torch.autograd.grad(fused.square().sum(), [x, layer.conv.weight])
    grad_reference = torch.autograd.grad(reference.square().sum(), [x, layer.conv.weight])
    for a, b in zip(grad_fused, grad_reference):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_dataset_labels_and_segments_give_the_same_targets():
    model = GTAD(feat_dim=8, temporal_scale=12, max_duration=6, **TINY)
    segments = [[0.1, 0.4], [0.55, 0.9]]
    start, end, iou = model.targets([_sample('a', segments)])
    expected = gtad_targets(segments, 12, 6, anchors='bmn')
    for ours, theirs in zip((start[0], end[0], iou[0]), expected):
        torch.testing.assert_close(ours, torch.from_numpy(theirs))
    assert iou.shape == (1, 6, 12)


# --------------------------------------------------------------------------------------
# Model contract
# --------------------------------------------------------------------------------------
def _sample(video_id: str, segments, duration: float = 16.0, **meta) -> ActionDataSample:
    sample = ActionDataSample()
    sample.gt_instances = InstanceData(gt_bbox=torch.tensor(segments, dtype=torch.float32))
    sample.set_metainfo(dict(video_id=video_id, duration=duration, **meta))
    return sample


def test_forward_shapes_value_ranges_and_loss():
    torch.manual_seed(0)
    model = GTAD(feat_dim=8, temporal_scale=12, max_duration=6, **TINY)
    maps, start, end = model(torch.randn(3, 8, 12))
    assert maps.shape == (3, 2, 6, 12) and start.shape == end.shape == (3, 12)
    for tensor in (maps, start, end):
        assert tensor.min() >= 0 and tensor.max() <= 1
    samples = [_sample(f'v{i}', [[0.1, 0.4], [0.6, 0.9]]) for i in range(3)]
    losses = model(torch.randn(3, 8, 12), samples, mode='loss')
    assert set(losses) == {'loss_tem', 'loss_reg', 'loss_cls'}
    total = sum(losses.values())
    assert torch.isfinite(total) and total > 0
    total.backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


def test_wrong_feature_shape_is_a_clear_error():
    model = GTAD(feat_dim=8, temporal_scale=12, max_duration=6, **TINY)
    with pytest.raises(ValueError, match=r'\[B, 8, 12\]'):
        model(torch.randn(1, 7, 12))


def test_predict_returns_the_metrics_contract():
    torch.manual_seed(0)
    model = GTAD(feat_dim=8, temporal_scale=12, max_duration=6, **TINY, candidates='all',
                 soft_nms=dict(sigma=0.8, top_k=10), class_fusion=dict(top_k_classes=2))
    centers = 5.0 + 0.5 * np.arange(12) + 0.25    # a window starting at 5 s, 0.5 s steps
    samples = [_sample('a', [[0.1, 0.4]], class_scores=[0.1, 0.7, 0.2],
                       taxonomy=['x', 'y', 'z'], grid_centers=centers)]
    out = model(torch.randn(1, 8, 12), samples, mode='predict')[0]
    assert out.video_id == 'a'
    segments, scores = np.asarray(out.pred_segments), np.asarray(out.pred_scores)
    assert segments.shape == (20, 2) and scores.shape == (20,)
    assert np.all(segments[:, 1] > segments[:, 0])
    assert segments.min() >= 5.0 - 1e-9 and segments.max() <= 11.0 + 1e-9
    # Top-2 classes y (0.7) then z (0.2), each applied to the same 10 proposals.
    assert out.pred_labels == ['y'] * 10 + ['z'] * 10
    np.testing.assert_allclose(scores[10:] / scores[:10], 0.2 / 0.7)
    # Boundaries lie on the window's snippet edges (0.5 s apart from 5 s).
    np.testing.assert_allclose((segments - 5.0) / 0.5, np.round((segments - 5.0) / 0.5),
                               atol=1e-9)


def test_predict_proposals_without_class_scores():
    """``candidates='all'`` (THUMOS14 inference): every anchor with s + d + 1 < T, 66 of
    T = 12's 78 valid cells; G-TAD's Soft-NMS loop never keeps the last remaining
    candidate (``while len(tscore) > 1``), so 65 come out."""
    model = GTAD(feat_dim=8, temporal_scale=12, max_duration=12, **TINY, candidates='all',
                 soft_nms=dict(top_k=100))
    out = model(torch.randn(1, 8, 12), [_sample('b', [[0.1, 0.4]], duration=24.0)],
                mode='predict')[0]
    scores = np.asarray(out.pred_scores)
    assert len(scores) == 12 * 11 // 2 - 1
    assert np.all(np.diff(scores) <= 1e-12)  # best first
    assert 'pred_labels' not in out
    assert np.asarray(out.pred_segments).max() <= 24.0 * 11 / 12 + 1e-9


def _official_peak_pairs(start, end, cls, reg, max_duration):
    """``anet:gtad_inference.py``'s loops, transcribed (start/end bins, then d, s)."""
    T = len(start)
    start_bins, end_bins = np.zeros(T), np.zeros(T)
    start_bins[0], end_bins[-1] = 1, 1
    for idx in range(1, T - 1):
        if start[idx] > start[idx + 1] and start[idx] > start[idx - 1]:
            start_bins[idx] = 1
        elif start[idx] > 0.5 * max(start):
            start_bins[idx] = 1
        if end[idx] > end[idx + 1] and end[idx] > end[idx - 1]:
            end_bins[idx] = 1
        elif end[idx] > 0.5 * max(end):
            end_bins[idx] = 1
    return [(s, s + d + 1, float(cls[d, s]) * float(reg[d, s]))
            for d in range(max_duration) for s in range(T)
            if s + d + 1 < T and start_bins[s] == 1 and end_bins[s + d + 1] == 1]


def test_activitynet_candidates_are_the_peak_pairs_hand_worked():
    """Issue 15 #1, T = D = 6. start [.9, .2, .6, .1, .3, .2] (max .9): bins 1 0 1 0 1 0
    (0 always; 2 and 4 local maxima; 5 never); end [.1, .3, .2, .7, .1, .4] (max .7):
    bins 0 1 0 1 0 1 (1, 3 maxima; T - 1 always). Pairs s -> e = s + d + 1 < 6 in the
    official order (d outer): d=0: (0,1) (2,3) (4,5); d=2: (0,3) (2,5); d=4: (0,5).
    Scores are cls x reg = 0.5 x 0.4 = 0.2: the boundary heads do not enter them."""
    start = np.array([.9, .2, .6, .1, .3, .2], np.float32)
    end = np.array([.1, .3, .2, .7, .1, .4], np.float32)
    cls, reg = np.full((6, 6), 0.5, np.float32), np.full((6, 6), 0.4, np.float32)
    segments, scores = candidate_proposals(start, end, reg, cls, score='cls*reg')
    assert segments.tolist() == [[0, 1], [2, 3], [4, 5], [0, 3], [2, 5], [0, 5]]
    np.testing.assert_allclose(scores, 0.2, rtol=1e-6)
    # Through the model: those six, Soft-NMS'd (sigma 0.8, keep_last False: five kept).
    model = GTAD(feat_dim=8, temporal_scale=6, max_duration=6, **TINY)
    maps = np.stack([reg, cls])
    seconds, kept_scores = model.proposals_in_seconds(maps, start, end, {'duration': 6.0})
    assert len(seconds) == 5
    assert {tuple(x) for x in seconds.tolist()} <= {(0, 1), (2, 3), (4, 5), (0, 3), (2, 5),
                                                     (0, 5)}
    # A single pair (T = 3: only 0 -> 2) is kept: G-TAD runs Soft_NMS ``if len(df) > 1``.
    single = GTAD(feat_dim=8, temporal_scale=3, max_duration=3, **TINY)
    seconds, kept_scores = single.proposals_in_seconds(
        np.stack([reg[:3, :3], cls[:3, :3]]), np.array([.9, .1, .1]), np.array([.1, .1, .9]),
        {'duration': 3.0})
    assert seconds.tolist() == [[0.0, 2.0]] and kept_scores.tolist() == [pytest.approx(0.2)]


@pytest.mark.parametrize('seed', range(2))
def test_activitynet_candidates_match_the_official_loops(seed):
    rng = np.random.default_rng(seed)
    start, end = rng.uniform(size=(2, 100)).astype(np.float32)
    cls, reg = rng.uniform(size=(2, 100, 100)).astype(np.float32)
    expected = _official_peak_pairs(start, end, cls, reg, 100)
    segments, scores = candidate_proposals(start, end, reg, cls, score='cls*reg')
    assert 1000 < len(expected) < 4000        # ActivityNet-like counts, not all 4950
    np.testing.assert_array_equal(segments, np.array(expected)[:, :2])
    np.testing.assert_array_equal(scores, np.array(expected)[:, 2])


def test_inference_cells_end_before_the_window_end():
    """Issue 15 #14b: T = D = 4: training's mask has 10 valid cells (s + d < 4);
    inference keeps ``end_index = s + d + 1 < 4``: 6, without [3, 0] [2, 1] [1, 2] [0, 3]."""
    d, s = inference_cells(4, 4)
    assert list(zip(d.tolist(), s.tolist())) == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1),
                                                  (2, 0)]
    assert int(proposal_map_mask(4, 4).sum()) == 10


def test_one_by_one_head_keeps_cells_apart():
    """The ActivityNet 2-D head is 1x1 (``anet:opts.py`` kern_2d = 1): changing one cell's
    SGAlign features changes that cell's maps only; THUMOS14's 3x3 reaches neighbours."""
    torch.manual_seed(0)
    features = torch.randn(1, 16, 6, 8)
    for kernel, only_one in ((1, True), (3, False)):
        model = GTAD(feat_dim=8, temporal_scale=8, max_duration=6, **TINY, kernel_2d=kernel)
        with torch.no_grad():
            base = model.proposal_head(features)
            bumped = features.clone()
            bumped[..., 2, 3] += 5.0
            changed = (model.proposal_head(bumped) - base).abs().amax(dim=(0, 1)) > 0
        assert changed[2, 3]
        assert (int(changed.sum()) == 1) is only_one
    assert tuple(model.proposal_head[3].weight.shape[-2:]) == (3, 3)


def test_window_samples_defer_fusion_after_window_merge():
    """``class_fusion.after_window_merge``: a window sample keeps class-agnostic proposals
    and carries the class scores for the metric (G-TAD THUMOS14 fuses after the merge);
    a whole-video sample is fused as before."""
    model = GTAD(feat_dim=8, temporal_scale=12, max_duration=6, **TINY, candidates='all',
                 class_fusion=dict(top_k_classes=2, after_window_merge=True)).eval()
    meta = dict(class_scores=[0.1, 0.7, 0.2], taxonomy=['x', 'y', 'z'])
    window = _sample('a', [[0.1, 0.4]], window_start=0, **meta)
    whole = _sample('b', [[0.1, 0.4]], **meta)
    out_window, out_whole = model(torch.randn(2, 8, 12), [window, whole], mode='predict')
    assert 'pred_labels' not in out_window
    np.testing.assert_allclose(out_window.pred_class_scores, [0.1, 0.7, 0.2])
    assert out_window.metainfo['pred_taxonomy'] == ['x', 'y', 'z']
    assert out_window.metainfo['top_k_classes'] == 2
    assert set(out_whole.pred_labels) == {'y', 'z'}


# --------------------------------------------------------------------------------------
# A tiny training run overfits
# --------------------------------------------------------------------------------------
def _synthetic_windows(num: int, length: int, channels: int, seed: int):
    """Features where an action's snippets carry a signature on the first channels."""
    rng = np.random.default_rng(seed)
    features = rng.normal(0, 0.3, size=(num, channels, length)).astype(np.float32)
    segments = []
    for i in range(num):
        s = int(rng.integers(0, length - 5))
        e = int(rng.integers(s + 3, min(length, s + 10) + 1))
        features[i, :channels // 2, s:e] += 1.0
        segments.append([[s / length, e / length]])
    return torch.from_numpy(features), segments


def _recall_at(model: GTAD, features: torch.Tensor, segments, k: int) -> float:
    model.eval()
    samples = [_sample(f'v{i}', seg, duration=1.0) for i, seg in enumerate(segments)]
    out = model(features, samples, mode='predict')
    hits = [pairwise_tiou(np.asarray(o.pred_segments)[:k], np.asarray(seg)).max() >= 0.7
            for o, seg in zip(out, segments)]
    return float(np.mean(hits))


@pytest.mark.slow
def test_tiny_training_run_overfits():
    torch.manual_seed(0)
    length, channels = 16, 8
    features, segments = _synthetic_windows(8, length, channels, seed=0)
    model = GTAD(feat_dim=channels, temporal_scale=length, max_duration=length, **TINY,
                 soft_nms=dict(sigma=0.8, top_k=10))
    recall_before = _recall_at(model, features, segments, 1)
    samples = [_sample(f'v{i}', seg, duration=1.0) for i, seg in enumerate(segments)]
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    model.train()
    for _ in range(60):
        loss = sum(model(features, samples, mode='loss').values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:5])
    # Recall@1 at tIoU 0.7: a random valid anchor reaches it for a few % of the
    # windows; the trained model's best proposal must for most of them.
    recall_after = _recall_at(model, features, segments, 1)
    assert recall_after >= 0.75 and recall_after > recall_before


# --------------------------------------------------------------------------------------
# The CPU config trains and validates with `mim train`
# --------------------------------------------------------------------------------------
def _write_tiny_benchmark(root, **kwargs):
    write_tiny_benchmark(root, seed=0, signal=1.5, **kwargs)


def test_detection_class_sources(tmp_path):
    from pal_eval.errors import PalEvalError
    from pal_eval.io import write_json

    _write_tiny_benchmark(tmp_path)
    ann_file, features = str(tmp_path / 'anet.json'), str(tmp_path / 'features')
    inputs = torch.randn(1, 8, 12)
    # Built-in classifier trained on the training videos: v09 is class 'b' (odd index).
    model = GTAD(feat_dim=8, temporal_scale=12, max_duration=6, **TINY,
                 soft_nms=dict(top_k=3),
                 class_fusion=dict(feature_dir=features, ann_file=ann_file))
    out = model(inputs, [_sample('v09', [[0.1, 0.4]])], mode='predict')[0]
    assert out.pred_labels == ['b'] * 3 + ['a'] * 3
    # A score file: its scores are used as given, and a missing video is a clear error.
    write_json(tmp_path / 'scores.json', {'results': {'v09': {'a': 0.9, 'b': 0.1}}})
    model = GTAD(feat_dim=8, temporal_scale=12, max_duration=6, **TINY,
                 soft_nms=dict(top_k=3), class_fusion=dict(
                     type='ScoreFileClassifier', score_file=str(tmp_path / 'scores.json'),
                     taxonomy=['a', 'b']))
    out = model(inputs, [_sample('v09', [[0.1, 0.4]])], mode='predict')[0]
    assert out.pred_labels[0] == 'a'
    with pytest.raises(PalEvalError, match="scores.json, video 'v10'.*no class scores"):
        model(inputs, [_sample('v10', [[0.1, 0.4]])], mode='predict')
    no_source = GTAD(feat_dim=8, temporal_scale=12, max_duration=6, **TINY,
                     class_fusion=dict(top_k_classes=2))
    with pytest.raises(PalEvalError, match='score_file'):
        no_source(inputs, [_sample('v09', [[0.1, 0.4]])], mode='predict')


def test_thumos_style_windows_train_and_predict_inside_the_video(tmp_path):
    """Sliding windows (T = 16, stride 8) with D = 8 < T: the dataset's [T, T] labels are
    cut to D rows, and predictions stay inside each video, padding excluded."""
    from mmengine.dataset import pseudo_collate

    from pal_eval.data.datasets.localization import ThumosFeatureDataset

    _write_tiny_benchmark(tmp_path)
    dataset = ThumosFeatureDataset(str(tmp_path / 'anet.json'), str(tmp_path / 'features'),
                                   subset='validation', temporal_scale=16, window_stride=8,
                                   test_mode=True)
    batch = pseudo_collate([dataset[i] for i in range(len(dataset))])
    model = GTAD(feat_dim=16, temporal_scale=16, max_duration=8, **TINY,
                 soft_nms=dict(sigma=0.46, top_k=20))
    with_gt = [i for i, s in enumerate(batch['data_samples']) if len(s.gt_instances)]
    losses = model([batch['inputs'][i] for i in with_gt],
                   [batch['data_samples'][i] for i in with_gt], mode='loss')
    assert all(torch.isfinite(v) for v in losses.values())
    out = model(batch['inputs'], batch['data_samples'], mode='predict')
    for sample in out:
        segments = np.asarray(sample.pred_segments)
        window = np.asarray(sample.metainfo['grid_centers'])
        assert len(segments) > 0
        assert segments.min() >= 0 and segments.max() <= sample.metainfo['duration'] + 1e-9
        # Inside the window (half a feature step of margin at each end).
        assert segments.min() >= window[0] - 0.25 - 1e-9
        assert segments.max() <= window[-1] + 0.25 + 1e-9


@pytest.mark.slow
def test_cpu_config_trains_with_mim(tmp_path, repo_root):
    from tests.mim_utils import run_mim

    _write_tiny_benchmark(tmp_path)
    config = tmp_path / 'gtad_tiny.py'
    base = repo_root / 'configs/detection/gtad_feat_1xb4-t64-16e_synthetic.py'
    config.write_text(
        f"_base_ = ['{base}']\n"
        f"feature_dir = '{tmp_path / 'features'}'\n"
        f"ann_file = '{tmp_path / 'anet.json'}'\n"
        "temporal_scale = 16\n"
        "model = dict(feat_dim=16, temporal_scale=16, max_duration=16,\n"
        "             class_fusion=dict(feature_dir=feature_dir, ann_file=ann_file))\n"
        "_data = dict(ann_file=ann_file, feature_dir=feature_dir, temporal_scale=16)\n"
        "train_dataloader = dict(dataset=_data)\n"
        "val_dataloader = dict(dataset=_data)\n"
        "test_dataloader = val_dataloader\n"
        "val_evaluator = dict(ann_file=ann_file)\n"
        "test_evaluator = dict(ann_file=ann_file, dump_path=None)\n"
        "train_cfg = dict(max_epochs=20, val_interval=20)\n")
    work_dir = tmp_path / 'work'
    proc = run_mim(['train', 'mmaction2', config, '--work-dir', work_dir], cwd=tmp_path,
                   timeout=300)
    log = proc.stdout + proc.stderr
    found = re.findall(r'mAP@0\.5: ([0-9.]+) .*average_mAP: ([0-9.]+)', log)
    assert found, log[-2000:]
    map_50, average_map = map(float, found[-1])
    # Held-out videos, detection through the built-in video classifier. Random proposals
    # of a random class score a few %; 20 epochs (40 steps) reached 1.0 / 0.48 here.
    assert map_50 >= 0.5 and average_map >= 0.2, found[-1]
    assert list(work_dir.glob('best_average_mAP_epoch_20.pth'))


# --------------------------------------------------------------------------------------
# Reference-code checkpoints (frostinassiky/gtad gtad_lib/models.py)
# --------------------------------------------------------------------------------------
def official_keys(feat_dim: int, hidden: int, width: int, groups: int, points: int,
                  hidden_3d: int, hidden_2d: int, kernel: int) -> dict[str, tuple]:
    """The reference ``GTAD`` state dict (``module.`` prefix dropped): key -> shape.

    ``backbone1 = [Conv1d(C, H, 3, groups=4), ReLU, GCNeXt]``, ``regu_s`` / ``regu_e =
    [GCNeXt, Conv1d(H, 1, 1), Sigmoid]``, ``backbone2 = [GCNeXt]``, ``localization =
    [Conv2d(H * P, H3, 1), ReLU, Conv2d(H3, H2, 1), ReLU, Conv2d(H2, H2, k), ReLU,
    Conv2d(H2, H2, k), ReLU, Conv2d(H2, 2, 1), Sigmoid]``; a GCNeXt holds
    ``tconvs = [Conv1d(H, W, 1), ReLU, Conv1d(W, W, 3, groups=G), ReLU, Conv1d(W, H, 1)]``
    and ``sconvs = [Conv2d(2H, W, 1), ReLU, Conv2d(W, W, 1, groups=G), ReLU,
    Conv2d(W, H, 1)]``. No buffers.
    """
    keys = {'backbone1.0.weight': (hidden, feat_dim // 4, 3), 'backbone1.0.bias': (hidden,)}
    gcnext = {'tconvs.0': (width, hidden, 1), 'tconvs.2': (width, width // groups, 3),
              'tconvs.4': (hidden, width, 1), 'sconvs.0': (width, 2 * hidden, 1, 1),
              'sconvs.2': (width, width // groups, 1, 1), 'sconvs.4': (hidden, width, 1, 1)}
    for prefix in ('backbone1.2.', 'regu_s.0.', 'regu_e.0.', 'backbone2.0.'):
        for name, shape in gcnext.items():
            keys[f'{prefix}{name}.weight'], keys[f'{prefix}{name}.bias'] = shape, shape[:1]
    for head in ('regu_s', 'regu_e'):
        keys[f'{head}.1.weight'], keys[f'{head}.1.bias'] = (1, hidden, 1), (1,)
    for index, shape in ((0, (hidden_3d, hidden * points, 1, 1)),
                         (2, (hidden_2d, hidden_3d, 1, 1)),
                         (4, (hidden_2d, hidden_2d, kernel, kernel)),
                         (6, (hidden_2d, hidden_2d, kernel, kernel)),
                         (8, (2, hidden_2d, 1, 1))):
        keys[f'localization.{index}.weight'] = shape
        keys[f'localization.{index}.bias'] = shape[:1]
    return keys


def _official_knn(x: torch.Tensor, k: int) -> torch.Tensor:
    """``models.py::knn``: topk of -(|x|^2 - 2 x.y + |y|^2), largest first."""
    inner = -2 * torch.matmul(x.transpose(2, 1), x)
    xx = torch.sum(x ** 2, dim=1, keepdim=True)
    return (-xx - inner - xx.transpose(2, 1)).topk(k=k, dim=-1)[1]


def _official_gcnext(state: dict, prefix: str, x: torch.Tensor, groups: int) -> torch.Tensor:
    def w(name):
        return state[f'{prefix}{name}.weight'], state[f'{prefix}{name}.bias']

    t = F.relu(F.conv1d(x, *w('tconvs.0')))
    t = F.relu(F.conv1d(t, *w('tconvs.2'), padding=1, groups=groups))
    t = F.conv1d(t, *w('tconvs.4'))
    idx = _official_knn(x, 3)                                           # [B, T, k]
    neighbours = torch.stack([x[b][:, idx[b]] for b in range(len(x))])  # [B, C, T, k]
    edges = torch.cat([neighbours, x.unsqueeze(-1).expand_as(neighbours)], dim=1)
    e = F.relu(F.conv2d(edges, *w('sconvs.0')))
    e = F.relu(F.conv2d(e, *w('sconvs.2'), groups=groups))
    e = F.conv2d(e, *w('sconvs.4')).max(dim=-1)[0]
    return F.relu(t + x + e)


def official_gtad_forward(state: dict, x: torch.Tensor, T: int, D: int, inner: int,
                          context: int, groups: int, kernel: int):
    """The reference ``GTAD.forward`` written from its definition (goi_style 1, samp 0).

    ``GraphAlign._get_anchors``: for each batch k, start s (outer), duration d (inner):
    ``[k, s - (d + 1) / 2, s + d + (d + 1) / 2]`` if s + d < T else ``[k, 0, 0]``; inner
    features Align1D(inner) of the nodes, context Align1D(context) of the mean of each
    node's 3 nearest neighbours; ``cat(dim=2).view(B, T, D, -1).permute(0, 3, 2, 1)``.
    Align1D is the CUDA kernel's arithmetic (``_align1d_loop`` above).
    """
    base = F.relu(F.conv1d(x, state['backbone1.0.weight'], state['backbone1.0.bias'],
                           padding=1, groups=4))
    base = _official_gcnext(state, 'backbone1.2.', base, groups)
    heads = [torch.sigmoid(F.conv1d(_official_gcnext(state, f'{h}.0.', base, groups),
                                    state[f'{h}.1.weight'], state[f'{h}.1.bias'])).squeeze(1)
             for h in ('regu_s', 'regu_e')]
    nodes = _official_gcnext(state, 'backbone2.0.', base, groups)
    batch = len(x)
    rois = np.array([[k, s - (d + 1) / 2, s + d + (d + 1) / 2] if s + d < T else [k, 0, 0]
                     for k in range(batch) for s in range(T) for d in range(D)], float)
    idx = _official_knn(nodes, 3)
    context_nodes = torch.stack([nodes[b][:, idx[b]] for b in range(batch)]).mean(-1)
    feat_inner = _align1d_loop(nodes.double().numpy(), rois, inner, 0)
    feat_context = _align1d_loop(context_nodes.double().numpy(), rois, context, 0)
    feat = torch.from_numpy(np.concatenate([feat_inner, feat_context], 2)).float()
    sub = feat.reshape(batch, T, D, -1).permute(0, 3, 2, 1)
    y = F.relu(F.conv2d(sub, state['localization.0.weight'], state['localization.0.bias']))
    y = F.relu(F.conv2d(y, state['localization.2.weight'], state['localization.2.bias']))
    for index in (4, 6):
        y = F.relu(F.conv2d(y, state[f'localization.{index}.weight'],
                            state[f'localization.{index}.bias'], padding=kernel // 2))
    y = torch.sigmoid(F.conv2d(y, state['localization.8.weight'],
                               state['localization.8.bias']))
    return y, heads[0], heads[1]


@pytest.mark.parametrize('D, kernel', [(8, 1), (5, 3)])
def test_load_official_checkpoint_reproduces_the_reference_forward(tmp_path, D, kernel):
    """Random weights in the reference key layout (:func:`official_keys`, DataParallel
    ``module.`` prefix, ``{'epoch', 'state_dict'}``) load with :func:`load_official_gtad`;
    maps and boundary heads equal :func:`official_gtad_forward` (ActivityNet-like T = D
    with a 1x1 head, THUMOS-like D < T with 3x3: invalid anchors read [0, 0])."""
    from heads.gtad import load_official_gtad
    from pal_eval.errors import InputError

    T, C, H, W, G = 8, 8, 16, 16, 4
    shapes = official_keys(C, H, W, G, 6 + 2, 16, 8, kernel)
    generator = torch.Generator().manual_seed(D)
    state = {k: 0.3 * torch.randn(shape, generator=generator) for k, shape in shapes.items()}
    path = tmp_path / 'GTAD_best.pth.tar'
    torch.save({'epoch': 10, 'state_dict': {'module.' + k: v for k, v in state.items()}}, path)
    model = load_official_gtad(path, temporal_scale=T, max_duration=D, inner_points=6,
                               context_points=2)
    assert (model.feat_dim, model.subgraph.conv.out_channels) == (C, 16)
    assert model.proposal_head[3].kernel_size == (kernel, kernel)
    x = torch.randn(2, C, T, generator=generator)
    with torch.no_grad():
        ours = model._forward(x)
    expected = official_gtad_forward(state, x, T, D, 6, 2, G, kernel)
    for a, b in zip(ours, expected):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert float(expected[0].std()) > 1e-3     # a non-trivial comparison
    torch.save({**state, 'localization.10.weight': torch.zeros(1)}, path)
    with pytest.raises(InputError, match='not a reference G-TAD'):
        load_official_gtad(path, temporal_scale=T, max_duration=D)


@pytest.mark.parametrize('name, feat_dim, points, kernel, kwargs', [
    ('gtad_feat_1xb16-t100-10e_activitynet.py', 400, 36, 1, {}),
    ('gtad_feat_1xb8-t256d64-10e_thumos14.py', 2048, 32, 3,
     dict(temporal_scale=256, max_duration=64))])
def test_reproducing_configs_have_the_reference_state_dict(repo_root, name, feat_dim, points,
                                                           kernel, kwargs):
    """Issue 15 #6: ``anet:models.py`` SGAlign 32 + 4 points (``h_dim_goi = 256 x 36 =
    9216``) and ``kern_2d = 1``; ``master``: 16 + 16 (8192) and 3x3. A model built from
    each config has exactly the reference keys and shapes (feat_dim 400 / 2048), so the
    reference checkpoints load into them."""
    from mmaction.registry import MODELS
    from mmengine.config import Config

    from heads.gtad import convert_official_gtad_state_dict

    cfg = Config.fromfile(repo_root / 'configs' / 'detection' / name)
    settings = dict(cfg.model, feat_dim=feat_dim)  # 'auto' in the config: the features'
    settings.pop('class_fusion')
    model = MODELS.build(settings)
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    reference = official_keys(settings['feat_dim'], 256, 128, 32, points, 512, 128, kernel)
    assert convert_official_gtad_state_dict(reference) == ours
    assert (settings['temporal_scale'], settings['max_duration']) == (
        kwargs.get('temporal_scale', 100), kwargs.get('max_duration', 100))


def test_reproducing_configs_hold_the_official_settings(repo_root):
    """frostinassiky/gtad, ``anet`` (ActivityNet) and ``master`` (THUMOS14):

    * ``opts.py``: lr 4e-3 (``gtad_anet.sh``) / 4e-5, batch 16 / 8, wd 1e-4, 10 epochs,
      StepLR(5, 0.1); ``nms_thr`` 0.8 / 0.46; T, D = 100, 100 / 256, 64;
    * ``gtad_train.py``: ``clip_grad_norm_(..., 1)`` on ``master``, commented out on
      ``anet``; ``master``'s ``best_loss`` is local to ``test()`` -> the last epoch;
    * ``loss_function.py``: ``tem + 10 reg + cls`` / ``tem + reg + 10 cls`` with +10
      pseudo-counts; eps 1e-6, no clamp;
    * ``gtad_inference.py``: peak pairs / every anchor; ``gtad_postprocess.py``: 100 / 200
      proposals, 300-frame rule (60 snippets) and the merge on THUMOS14 only;
    * ``dataset.py``: THUMOS14 windows, IoA rules, frame anchors, offset.
    """
    from mmengine.config import Config

    anet = Config.fromfile(repo_root / 'configs/detection/gtad_feat_1xb16-t100-10e_activitynet.py')
    thumos = Config.fromfile(repo_root / 'configs/detection/gtad_feat_1xb8-t256d64-10e_thumos14.py')
    for cfg, lr, batch in ((anet, 4e-3, 16), (thumos, 4e-5, 8)):
        assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=lr, weight_decay=1e-4)
        assert cfg.train_dataloader.batch_size == batch and cfg.train_cfg.max_epochs == 10
        assert cfg.param_scheduler == [dict(type='MultiStepLR', by_epoch=True, milestones=[5],
                                            gamma=0.1)]
        assert cfg.model.loss.type == 'GTADLoss' and cfg.model.loss.eps == 1e-6
        assert cfg.model.loss.ratio_clamp is None
        assert cfg.model.soft_nms.keep_last is False and cfg.model.soft_nms.stop_at_zero
        assert cfg.model.invalid_anchors == 'dummy_roi'
    a, t = anet.model, thumos.model
    assert (a.temporal_scale, a.max_duration, t.temporal_scale, t.max_duration) == (
        100, 100, 256, 64)
    assert (a.inner_points, a.context_points, a.kernel_2d) == (32, 4, 1)
    assert (t.inner_points, t.context_points, t.kernel_2d) == (16, 16, 3)
    assert (a.loss_weights, a.loss.pseudo_count) == ((1.0, 10.0, 1.0), 0)
    assert (t.loss_weights, t.loss.pseudo_count) == ((1.0, 1.0, 10.0), 10)
    assert (a.candidates, t.candidates) == ('peaks', 'all')
    assert (a.boundary_anchors, t.boundary_anchors) == ('bmn', 'centred')
    assert (a.get('iou_target_shift'), t.iou_target_shift) == (None, 'gtad_thumos14')
    assert (a.soft_nms.sigma, a.soft_nms.top_k, a.soft_nms.get('max_length')) == (0.8, 100,
                                                                                 None)
    assert (t.soft_nms.sigma, t.soft_nms.top_k, t.soft_nms.max_length) == (0.46, 200, 60)
    assert 'clip_grad' not in anet.optim_wrapper
    assert thumos.optim_wrapper.clip_grad == dict(max_norm=1.0, norm_type=2)
    assert t.class_fusion.after_window_merge and t.class_fusion.top_k_classes == 2
    assert thumos.test_evaluator.window_merge == dict(
        sigma=0.46, top_k=200, keep_last=False, stop_at_zero=True, round_seconds=1,
        round_scores=6)
    windows = thumos.train_dataloader.dataset
    assert (windows.windows, windows.gt_rule, windows.boundary_at) == (
        'official', 'official', 'center')
    assert windows.window_stride == 128 and windows.subset == 'validation'
    # The test split is validated for the log only: nothing is selected on it.
    assert thumos.val_dataloader.dataset.subset == 'test'
    assert thumos.default_hooks.checkpoint.save_best is None
    assert anet.val_dataloader.dataset.subset == 'validation'


def test_thumos14_pipeline_windows_to_400_detections(tmp_path):
    """THUMOS14 reference order end to end (tiny sizes: T = 16, stride 8, D = 8): the
    dataset's official windows -> G-TAD's per-window candidates (every anchor with
    s + d + 1 < 16: 92) and Soft-NMS (top 20 here, >= 6 positions zeroed), class scores
    deferred -> the metric's merge (one class-agnostic Soft-NMS, top 20) -> 20 x 2
    detections per video, seconds on 0.1 s, scores on 6 decimals, none as long as 6
    positions (3 s) before rounding."""
    from mmengine.dataset import pseudo_collate

    from pal_eval.data.datasets.localization import ThumosFeatureDataset
    from pal_eval.evaluation.metrics import _collect, merge_windows

    _write_tiny_benchmark(tmp_path)
    dataset = ThumosFeatureDataset(str(tmp_path / 'anet.json'), str(tmp_path / 'features'),
                                   subset='validation', temporal_scale=16, window_stride=8,
                                   test_mode=True)
    batch = pseudo_collate([dataset[i] for i in range(len(dataset))])
    model = GTAD(feat_dim=16, temporal_scale=16, max_duration=8, **TINY, candidates='all',
                 kernel_2d=3, soft_nms=dict(sigma=0.46, top_k=20, max_length=6),
                 class_fusion=dict(feature_dir=str(tmp_path / 'features'),
                                   ann_file=str(tmp_path / 'anet.json'), top_k_classes=2,
                                   after_window_merge=True)).eval()
    out = model(batch['inputs'], batch['data_samples'], mode='predict')
    assert all(len(s.pred_scores) == 20 and 'pred_labels' not in s for s in out)
    assert all(np.all(np.diff(s.pred_segments, axis=1) < 3.0) for s in out)
    records = [_collect(s.to_dict(), 'video_id', with_labels=True) for s in out]
    merged = merge_windows(records, True, sigma=0.46, top_k=20, keep_last=False,
                           stop_at_zero=True, round_seconds=1, round_scores=6)
    assert {r['video_id'] for r in merged} == {'v08', 'v09', 'v10', 'v11'}
    for record in merged:
        assert len(record['labels']) == 40 and set(record['labels']) == {'a', 'b'}
        np.testing.assert_allclose(record['segments'] * 10, np.round(record['segments'] * 10),
                                   atol=1e-9)
        np.testing.assert_allclose(record['scores'], np.round(record['scores'], 6), atol=0)

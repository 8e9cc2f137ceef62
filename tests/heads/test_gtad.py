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
from mmaction.structures import ActionDataSample
from mmengine.structures import InstanceData

import pal_eval  # noqa: F401
from heads.gtad import (
    GTAD,
    SubGraphAlign,
    SubGraphProjection,
    align1d,
    align1d_matrix,
    gather_neighbours,
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
    torch.manual_seed(0)
    x = torch.randn(2, 3, 6)
    align = SubGraphAlign(6, 4, inner_points=4, context_points=0)
    out = align(x)
    assert out.shape == (2, 3 * 4, 4, 6)
    mask = proposal_map_mask(6, 4).bool()
    assert torch.all(out[:, :, ~mask] == 0)
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


@pytest.mark.parametrize('context_points', [0, 2])
def test_fused_projection_equals_align_then_convolution(context_points):
    torch.manual_seed(context_points)
    layer = SubGraphProjection(6, 5, 10, 7, inner_points=4, context_points=context_points)
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
    bare = _sample('a', segments)
    labelled = _sample('b', segments)
    start, end, _ = gtad_targets(segments, 12, 12)
    labelled.gt_start, labelled.gt_end = torch.from_numpy(start), torch.from_numpy(end)
    labelled.gt_iou_map = torch.from_numpy(gtad_targets(segments, 12, 12)[2])  # [T, T]
    for a, b in zip(model.targets([bare]), model.targets([labelled])):
        torch.testing.assert_close(a, b)
    assert model.targets([labelled])[2].shape == (1, 6, 12)


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
    model = GTAD(feat_dim=8, temporal_scale=12, max_duration=6, **TINY,
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
    model = GTAD(feat_dim=8, temporal_scale=12, max_duration=12, **TINY,
                 soft_nms=dict(top_k=100))
    out = model(torch.randn(1, 8, 12), [_sample('b', [[0.1, 0.4]], duration=24.0)],
                mode='predict')[0]
    scores = np.asarray(out.pred_scores)
    assert len(scores) == 12 * 13 // 2       # every valid anchor, fewer than top_k
    assert np.all(np.diff(scores) <= 1e-12)  # best first
    assert 'pred_labels' not in out
    assert np.asarray(out.pred_segments).max() <= 24.0 + 1e-9


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

"""BMN: parity with mmaction2's BMN, shapes, candidate generation, a tiny overfit run."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import pal_eval  # noqa: F401  (registers; makes `import mmaction.models` work)
from heads.bmn import (
    BoundaryMatchingNetwork,
    boundary_matching_sample_matrix,
    candidate_proposals,
    convert_mmaction_state_dict,
    load_mmaction_bmn,
)
from heads.targets import localization_labels
from pal_eval.core.tiou import pairwise_tiou
from tests.heads.feature_benchmark import write_tiny_benchmark

T, N = 24, 8
SMALL = dict(feat_dim=16, hidden_dim_1d=16, hidden_dim_2d=8, hidden_dim_3d=32)


@pytest.fixture(scope='module')
def mmaction_bmn():
    import mmaction.models  # noqa: F401
    from mmaction.registry import MODELS

    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='BMN', temporal_dim=T, boundary_ratio=0.5, num_samples=N, num_samples_per_bin=3,
        soft_nms_alpha=0.4, soft_nms_low_threshold=0.5, soft_nms_high_threshold=0.9,
        post_process_top_k=100, **SMALL))
    for param in model.parameters():
        if param.requires_grad:  # random, non-trivial weights (its init leaves biases small)
            torch.nn.init.normal_(param, std=0.2)
    return model


def ours_from(mm_model, **kwargs) -> BoundaryMatchingNetwork:
    model = BoundaryMatchingNetwork(temporal_scale=T, num_samples=N, sampling_chunk=16,
                                    **SMALL, **kwargs)
    model.load_state_dict(convert_mmaction_state_dict(mm_model.state_dict()))
    return model


def test_sample_matrix_equals_mmaction_dense_mask(mmaction_bmn):
    # mmaction2: [t, (n, duration, start)]; ours: [(duration, start), (n, t)].
    dense = mmaction_bmn.sample_mask.detach().numpy().reshape(T, N, T, T)
    ours = boundary_matching_sample_matrix(T, N, 3, 0.5).toarray().reshape(T, T, N, T)
    np.testing.assert_allclose(ours, dense.transpose(2, 3, 1, 0), atol=1e-7)


def test_forward_and_gradients_equal_mmaction(mmaction_bmn):
    model = ours_from(mmaction_bmn)
    x = torch.randn(3, 16, T)
    for theirs, mine in zip(mmaction_bmn._forward(x), model._forward(x)):
        torch.testing.assert_close(mine, theirs, rtol=1e-4, atol=1e-5)
    # Same labels, same random balancing draws -> same loss and gradients.
    gt = [np.array([[0.1, 0.4], [0.6, 0.9]]), np.array([[0.25, 0.5]]), np.array([[0.0, 1.0]])]
    labels = [localization_labels(g, T) for g in gt]
    stacked = [torch.stack([torch.from_numpy(lab[k]) for lab in labels])
               for k in ('gt_iou_map', 'gt_start', 'gt_end')]
    losses = []
    for net in (mmaction_bmn, model):
        net.zero_grad()
        torch.manual_seed(1)
        confidence, start, end = net._forward(x)
        loss = net.loss_cls if hasattr(net, 'loss_cls') else net.loss_module
        total = loss(confidence, start, end, *stacked, net.bm_mask)[0]
        total.backward()
        losses.append(total.detach())
    torch.testing.assert_close(losses[1], losses[0], rtol=1e-4, atol=1e-5)
    ours_grads = dict(model.named_parameters())
    renamed = convert_mmaction_state_dict(
        {k: p.grad for k, p in mmaction_bmn.named_parameters() if p.grad is not None})
    for name, grad in renamed.items():
        torch.testing.assert_close(ours_grads[name].grad, grad, rtol=1e-4, atol=1e-5)


def test_load_mmaction_checkpoint(mmaction_bmn, tmp_path):
    path = tmp_path / 'bmn.pth'
    torch.save({'state_dict': mmaction_bmn.state_dict(), 'meta': {}}, path)
    model = load_mmaction_bmn(path, sampling_chunk=16)
    assert model.temporal_scale == T and model.feat_dim == 16
    x = torch.randn(2, 16, T)
    torch.testing.assert_close(model._forward(x)[0], mmaction_bmn._forward(x)[0],
                               rtol=1e-4, atol=1e-5)


def test_output_ranges_and_predict_in_seconds():
    from mmaction.structures import ActionDataSample

    torch.manual_seed(0)
    model = BoundaryMatchingNetwork(temporal_scale=T, num_samples=N, **SMALL).eval()
    confidence, start, end = model(torch.rand(2, 16, T), mode='tensor')
    assert confidence.shape == (2, 2, T, T) and start.shape == end.shape == (2, T)
    for t in (confidence, start, end):
        assert float(t.min()) >= 0.0 and float(t.max()) <= 1.0
    samples = [ActionDataSample(metainfo=dict(video_id=f'v{i}', duration=12.0))
               for i in range(2)]
    out = model(list(torch.rand(2, 16, T)), samples, mode='predict')
    for sample in out:
        seg, scores = sample.pred_segments, sample.pred_scores
        assert seg.shape[1] == 2 and 0 < len(seg) <= 100 and len(scores) == len(seg)
        assert seg.min() >= 0.0 and seg.max() <= 12.0 and np.all(seg[:, 1] > seg[:, 0])
        assert np.all(np.diff(scores) <= 0)


@pytest.mark.parametrize('seed', range(3))
def test_candidates_match_mmaction_loop(seed):
    rng = np.random.default_rng(seed)
    start, end = rng.uniform(size=T).astype(np.float32), rng.uniform(size=T).astype(np.float32)
    reg, cls = rng.uniform(size=(T, T)), rng.uniform(size=(T, T))
    # The double loop of mmaction2's BMN.predict, transcribed.
    start_bins, end_bins = np.zeros(T), np.zeros(T)
    start_bins[0], end_bins[-1] = 1, 1
    for i in range(1, T - 1):
        if start[i] > start[i + 1] and start[i] > start[i - 1] or start[i] > 0.5 * start.max():
            start_bins[i] = 1
        if end[i] > end[i + 1] and end[i] > end[i - 1] or end[i] > 0.5 * end.max():
            end_bins[i] = 1
    expected = [[s, s + d + 1, start[s] * end[s + d + 1] * cls[d, s] * reg[d, s]]
                for d in range(T) for s in range(T)
                if s + d + 1 < T and start_bins[s] and end_bins[s + d + 1]]
    segments, scores = candidate_proposals(start, end, reg, cls)
    np.testing.assert_array_equal(segments, np.array(expected)[:, :2])
    np.testing.assert_allclose(scores, np.array(expected)[:, 2], rtol=1e-6)


def _average_recall_at(segments_per_video, gt_per_video, k=10):
    """Recall of top-k proposals averaged over tIoU 0.5:0.05:0.95 (independent helper)."""
    thresholds = np.linspace(0.5, 0.95, 10)
    hits, total = np.zeros(len(thresholds)), 0
    for segments, gt in zip(segments_per_video, gt_per_video):
        best = pairwise_tiou(gt, segments[:k]).max(axis=1)
        hits += (best[None, :] >= thresholds[:, None]).sum(axis=1)
        total += len(gt)
    return float((hits / total).mean())


@pytest.mark.slow
def test_tiny_training_overfits():
    """Synthetic features with an action block; loss falls and AR@10 beats random."""
    from mmaction.structures import ActionDataSample
    from mmengine.structures import InstanceData

    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    features, gts = [], []
    for _ in range(8):
        start = rng.integers(1, T // 2)
        end = rng.integers(start + 3, T - 1)
        feat = rng.normal(0, 0.3, (16, T)).astype(np.float32)
        feat[:4, start:end] += 2.0  # "action" channels on inside the segment
        features.append(torch.from_numpy(feat))
        gts.append(np.array([[start / T, end / T]]))

    def samples():
        out = []
        for gt in gts:
            sample = ActionDataSample(metainfo=dict(video_id='v', duration=float(T)))
            sample.gt_instances = InstanceData(gt_bbox=torch.tensor(gt, dtype=torch.float32))
            out.append(sample)
        return out

    model = BoundaryMatchingNetwork(temporal_scale=T, num_samples=N, sampling_chunk=16, **SMALL)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(60):
        loss = sum(model(features, samples(), mode='loss').values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    assert np.mean(losses[-5:]) < 0.75 * np.mean(losses[:5]), losses

    model.eval()
    predicted = model(features, samples(), mode='predict')
    gt_seconds = [g * T for g in gts]   # duration T s, so seconds = normalised * T
    trained = _average_recall_at([p.pred_segments for p in predicted], gt_seconds)
    random_props = []
    for _ in gts:
        s = rng.uniform(0, T, 10)
        random_props.append(np.stack([s, np.minimum(T, s + rng.uniform(1, T, 10))], 1))
    baseline = _average_recall_at(random_props, gt_seconds)
    assert trained > max(0.5, 2 * baseline), (trained, baseline)


def _write_tiny_benchmark(root, **kwargs):
    write_tiny_benchmark(root, seed=1, signal=2, **kwargs)


def test_class_fusion_with_builtin_classifier_and_score_file(tmp_path):
    from mmaction.structures import ActionDataSample

    from pal_eval.io import write_json

    _write_tiny_benchmark(tmp_path)
    fusion = dict(ann_file=str(tmp_path / 'anet.json'), feature_dir=str(tmp_path / 'features'))
    model = BoundaryMatchingNetwork(temporal_scale=T, num_samples=N, post_process_top_k=5,
                                    class_fusion=fusion, **SMALL).eval()
    sample = ActionDataSample(metainfo=dict(video_id='v09', duration=20.0))  # class 'b'
    out = model(torch.rand(1, 16, T), [sample], mode='predict')[0]
    k = len(out.pred_scores) // 2
    assert out.pred_labels == ['b'] * k + ['a'] * k
    write_json(tmp_path / 'scores.json', {'results': {'v09': {'a': 0.75, 'b': 0.25}}})
    model = BoundaryMatchingNetwork(
        temporal_scale=T, num_samples=N, post_process_top_k=5, **SMALL,
        class_fusion=dict(score_file=str(tmp_path / 'scores.json'), taxonomy=['a', 'b'])).eval()
    out = model(torch.rand(1, 16, T), [ActionDataSample(metainfo=dict(video_id='v09',
                                                                      duration=20.0))],
                mode='predict')[0]
    assert out.pred_labels[0] == 'a'
    k = len(out.pred_scores) // 2
    # Each proposal appears once per class, scored proposal score x class score.
    np.testing.assert_allclose(out.pred_scores[:k] / 0.75, out.pred_scores[k:] / 0.25)
    from pal_eval.errors import InputError

    with pytest.raises(InputError, match="scores.json, video 'v10'.*no class scores"):
        model(torch.rand(1, 16, T), [ActionDataSample(metainfo=dict(video_id='v10',
                                                                    duration=20.0))],
              mode='predict')


@pytest.mark.slow
def test_cpu_config_trains_with_mim(tmp_path, repo_root):
    from tests.mim_utils import run_mim

    _write_tiny_benchmark(tmp_path)
    config = tmp_path / 'bmn_tiny.py'
    base = repo_root / 'configs/proposal/bmn_feat_1xb4-t64-20e_synthetic.py'
    config.write_text(
        f"_base_ = ['{base}']\n"
        f"feature_dir = '{tmp_path / 'features'}'\n"
        f"ann_file = '{tmp_path / 'anet.json'}'\n"
        "model = dict(feat_dim=16, temporal_scale=16)\n"
        "_data = dict(ann_file=ann_file, feature_dir=feature_dir, temporal_scale=16)\n"
        "train_dataloader = dict(dataset=_data)\n"
        "val_dataloader = dict(dataset=_data)\n"
        "test_dataloader = val_dataloader\n"
        "val_evaluator = dict(ann_file=ann_file)\n"
        "test_evaluator = dict(ann_file=ann_file, dump_path=None)\n"
        "train_cfg = dict(max_epochs=2, val_begin=1, val_interval=2)\n")
    work_dir = tmp_path / 'work'
    proc = run_mim(['train', 'mmaction2', config, '--work-dir', work_dir], cwd=tmp_path,
                   timeout=240)
    log = proc.stdout + proc.stderr
    assert 'AR@100' in log and 'AUC' in log, log[-2000:]
    assert list(work_dir.glob('best_AUC_epoch_*.pth'))


def test_reproducing_config_holds_the_official_settings(repo_root):
    """mmaction2 ``configs/localization/bmn/bmn_2xb8-400x100-9e_activitynet-feature.py``:
    Adam 1e-3 / wd 1e-4, ``clip_grad=dict(max_norm=40, norm_type=2)``, 9 epochs,
    MultiStepLR([7]); ``models/localizers/bmn.py``: boundary anchors (-0.5, 1.5), Soft-NMS
    0.4 / 0.5 / 0.9, top 100; checkpoint ``save_best`` on the validation split."""
    from mmengine.config import Config

    cfg = Config.fromfile(repo_root / 'configs/proposal/bmn_feat_1xb16-t100-9e_activitynet.py')
    assert cfg.optim_wrapper.optimizer == dict(type='Adam', lr=1e-3, weight_decay=1e-4)
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=40, norm_type=2)
    assert cfg.train_cfg.max_epochs == 9 and cfg.param_scheduler[0].milestones == [7]
    assert cfg.model.boundary_anchors == 'bmn'
    assert (cfg.model.soft_nms_alpha, cfg.model.soft_nms_low_threshold,
            cfg.model.soft_nms_high_threshold, cfg.model.post_process_top_k) == (0.4, 0.5,
                                                                                 0.9, 100)
    assert cfg.val_dataloader.dataset.subset == 'validation'


def test_duration_correction_hand_worked():
    """Issue 15 #14c, mmaction2 ``proposal_utils.py::post_processing``: 1000 frames, 40 s:
    (1000 // 16 x 16) / 1000 x 40 = 39.68 s; boundary 50 of T = 100 -> 19.84 s (through
    the grid of equal bins, without the correction: 20.0 s)."""
    model = BoundaryMatchingNetwork(temporal_scale=100, num_samples=N, **SMALL,
                                    duration_correction=16)
    seconds, _ = model.to_seconds(np.array([[50.0, 100.0]]), np.ones(1),
                                  {'duration': 40.0, 'duration_frame': 1000})
    np.testing.assert_allclose(seconds, [[19.84, 39.68]])
    seconds, _ = model.to_seconds(np.array([[50.0, 100.0]]), np.ones(1),
                                  {'duration': 40.0, 'fps': 25.0})
    np.testing.assert_allclose(seconds, [[19.84, 39.68]])
    plain = BoundaryMatchingNetwork(temporal_scale=100, num_samples=N, **SMALL)
    assert plain.to_seconds(np.array([[50.0, 100.0]]), np.ones(1),
                            {'duration': 40.0})[0].tolist() == [[20.0, 40.0]]
    from pal_eval.errors import PalEvalError

    with pytest.raises(PalEvalError, match='duration_frame'):
        model.to_seconds(np.array([[50.0, 100.0]]), np.ones(1), {'duration': 40.0})

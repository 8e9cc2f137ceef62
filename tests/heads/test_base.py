"""The shared localizer: one loss convention, the grid fallback, the prediction contract."""
from __future__ import annotations

import mmengine  # noqa: F401, I001  (imported first: pal-eval registers itself right after it)
import numpy as np
import pytest
import torch
from mmaction.structures import ActionDataSample
from mmengine.structures import InstanceData

import pal_eval  # noqa: F401
from heads.bmn import BoundaryMatchingNetwork
from heads.gtad import GTAD

torch.set_num_threads(1)
T = 12


def _models():
    torch.manual_seed(0)
    return [BoundaryMatchingNetwork(feat_dim=8, temporal_scale=T, num_samples=4,
                                    hidden_dim_1d=8, hidden_dim_2d=8, hidden_dim_3d=8,
                                    sampling_chunk=8),
            GTAD(feat_dim=8, temporal_scale=T, max_duration=6, hidden_dim_1d=16,
                 hidden_dim_2d=8, hidden_dim_3d=16, groups=4, inner_points=4,
                 context_points=2)]


def _sample(**meta) -> ActionDataSample:
    sample = ActionDataSample(metainfo=dict(video_id='v', duration=6.0, **meta))
    sample.gt_instances = InstanceData(gt_bbox=torch.tensor([[0.1, 0.4], [0.5, 0.9]]))
    return sample


@pytest.mark.parametrize('model', _models(), ids=['bmn', 'gtad'])
def test_logged_total_is_the_backpropagated_loss(model):
    """The dict holds the weighted parts only: MMEngine's total is TEM + 10 REG + CLS,
    the loss module's own weighted total (mmaction2's ``BMNLoss`` for BMN, ``GTADLoss``
    for G-TAD, both (1, 10, 1) by default)."""
    x = torch.randn(2, 8, T)
    samples = [_sample(), _sample()]
    torch.manual_seed(1)
    losses = model(x, samples, mode='loss')
    assert set(losses) == {'loss_tem', 'loss_reg', 'loss_cls'}
    total, log_vars = model.parse_losses(losses)
    # The same forward pass and balancing draws, through the loss module's total.
    torch.manual_seed(1)
    maps, start, end = model._forward(x)
    gt_start, gt_end, gt_iou = model.targets(samples)
    reference = model.loss_module(maps, start, end, gt_iou, gt_start, gt_end, model.bm_mask)[0]
    torch.testing.assert_close(total, reference, rtol=1e-6, atol=1e-7)
    assert float(log_vars['loss'].detach()) == pytest.approx(float(total.detach()), rel=1e-6)
    model.zero_grad()
    total.backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)


@pytest.mark.parametrize('model', _models(), ids=['bmn', 'gtad'])
def test_grid_fallback_is_equal_bins_over_the_duration(model):
    boundaries = np.array([[0, 3], [2, T]])
    seconds, _ = model.to_seconds(boundaries, np.ones(2), {'duration': 6.0})
    np.testing.assert_allclose(seconds, boundaries * 6.0 / T)
    # With the extraction's centre times (a window starting at 30 s, 0.5 s per position):
    centers = 30.25 + 0.5 * np.arange(T)
    seconds, _ = model.to_seconds(boundaries, np.ones(2), {'duration': 40.0,
                                                           'grid_centers': centers})
    np.testing.assert_allclose(seconds, 30.0 + 0.5 * boundaries)
    # Wholly past the video end (a window's padding): clipped to nothing, dropped.
    seconds, scores = model.to_seconds(np.array([[0, 3], [4, T]]), np.array([0.9, 0.8]),
                                       {'duration': 31.2, 'grid_centers': centers})
    np.testing.assert_allclose(seconds, [[30.0, 31.2]])
    assert scores.tolist() == [0.9]


@pytest.mark.parametrize('model', _models(), ids=['bmn', 'gtad'])
def test_predict_contract_and_class_order(model):
    model.eval()
    model.class_fusion, model.top_k_classes = {}, 2  # class scores from the metainfo
    sample = ActionDataSample(metainfo=dict(video_name='n', duration=6.0,
                                            class_scores=[0.2, 0.7, 0.1],
                                            taxonomy=['x', 'y', 'z']))
    [out] = model(torch.randn(1, 8, T), [sample], mode='predict')
    k = len(out.pred_scores) // 2
    assert out.video_id == 'n' and out.pred_labels == ['y'] * k + ['x'] * k
    np.testing.assert_allclose(out.pred_scores[k:] / out.pred_scores[:k], 0.2 / 0.7)
    assert out.pred_segments.dtype == np.float64 and out.pred_segments.shape == (2 * k, 2)


@pytest.mark.parametrize('model', _models(), ids=['bmn', 'gtad'])
def test_boundary_at_center_gives_gtad_thumos14_frames(model):
    """Issue 15 #14e: G-TAD THUMOS14 puts boundary s of window w at frame 5 (w + s), the
    centre of snippet s (``master:gtad_inference.py``: ``xmin = s * 5 + offset``). With
    snippet j centred at frame 5 j (25 fps: 0.2 j s), windows w = 0 and w = 6:
    [s, e] -> [0.2 (w + s), 0.2 (w + e)] s; the edge convention is half a snippet
    (2.5 frames, 0.1 s) earlier."""
    boundaries = np.array([[0, 3], [2, 11]])
    for w in (0, 6):
        centers = 0.2 * (w + np.arange(T))
        meta = {'duration': 100.0, 'grid_centers': centers}
        center, _ = model.to_seconds(boundaries, np.ones(2), dict(meta, boundary_at='center'))
        np.testing.assert_allclose(center * 25, 5 * (w + boundaries), atol=1e-9)
        edge, _ = model.to_seconds(boundaries, np.ones(2), meta)
        np.testing.assert_allclose(edge, np.maximum(center - 0.1, 0.0), atol=1e-9)  # >= 0 s

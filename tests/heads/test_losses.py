"""G-TAD's loss (issue 15 #4, #10) against hand-worked numbers of the official formulas."""
from __future__ import annotations

import mmengine  # noqa: F401, I001  (imported first: pal-eval registers itself right after it)
import pytest
import torch

import pal_eval  # noqa: F401
from heads.losses import GTADLoss
from heads.targets import proposal_map_mask

torch.set_num_threads(1)
BMNLoss = pytest.importorskip('mmaction.models.losses').BMNLoss  # after pal_eval's shims


def _one_positive_map():
    """T = D = 8: the valid cells s + d < 8 are 36; one positive (gt[1, 0] = 1), p = 0.5."""
    mask = proposal_map_mask(8, 8)
    gt = torch.zeros(1, 8, 8)
    gt[0, 1, 0] = 1.0
    return torch.full((1, 8, 8), 0.5), gt * mask, mask


def test_classification_balance_hand_worked():
    """P = 1, N = 35.

    * G-TAD THUMOS14 (``master:pem_cls_loss_func``): positives 10 + 1 = 11, entries
      10 + 11 + 35 = 56, r = 56/11, c1 = r/2 = 2.545455, c0 = r/(2(r - 1)) = 0.622222:
      (2.545455 + 35 x 0.622222) x -log(0.500001) / 56 = 0.301063.
    * G-TAD ActivityNet (``anet:pem_cls_loss_func``): r = 36, c1 = 18, c0 = 18/35:
      (18 + 18) x -log(0.500001) / 36 = 0.693145.
    * mmaction2 ``BMNLoss.pem_cls_loss``: r clamped to 21, c1 = 10.5, c0 = 0.525, eps 1e-5:
      (10.5 + 35 x 0.525) x -log(0.50001) / 36 = 0.555946.
    """
    pred, gt, mask = _one_positive_map()
    thumos = GTADLoss(pseudo_count=10).pem_cls_loss(pred, gt, mask)
    anet = GTADLoss().pem_cls_loss(pred, gt, mask)
    mmaction = BMNLoss.pem_cls_loss(pred, gt, mask)
    assert float(thumos) == pytest.approx(0.301063, rel=1e-5)
    assert float(anet) == pytest.approx(0.693145, rel=1e-5)
    assert float(mmaction) == pytest.approx(0.555946, rel=1e-5)
    clamped = GTADLoss(ratio_clamp=(1.05, 21), eps=1e-5).pem_cls_loss(pred, gt, mask)
    assert float(clamped) == pytest.approx(float(mmaction), rel=1e-6)


def test_temporal_balance_hand_worked():
    """24 positions, one positive, p = 0.5. Official (``tem_loss_func.bi_loss``): r = 24,
    c1 = 12, c0 = 12/23: (12 + 23 x 12/23) x -log(0.500001) / 24 = 0.693145 per head.
    mmaction2 (``binary_logistic_regression_loss``): r clamped to 21: (10.5 + 23 x 0.525)
    x -log(0.50001) / 24 = 0.651973. With 8 positions (r = 8 < 21) both agree up to eps:
    0.693145 vs 0.693127."""
    def one_positive(n):
        label = torch.zeros(1, n)
        label[0, 3] = 1.0
        return torch.full((1, n), 0.5), label

    pred, label = one_positive(24)
    ours = GTADLoss().tem_loss(pred, pred, label, label)
    assert float(ours) == pytest.approx(2 * 0.693145, rel=1e-5)
    assert float(BMNLoss.tem_loss(pred, pred, label, label)) == pytest.approx(2 * 0.651973,
                                                                              rel=1e-5)
    pred, label = one_positive(8)
    assert float(GTADLoss().tem_loss(pred, pred, label, label)) == pytest.approx(
        2 * 0.693145, rel=1e-5)
    assert float(BMNLoss.tem_loss(pred, pred, label, label)) == pytest.approx(
        2 * 0.693127, rel=1e-5)


def test_with_mmaction_settings_it_is_bmn_loss():
    """``GTADLoss(ratio_clamp=(1.05, 21), eps=1e-5)`` is mmaction2's ``BMNLoss`` (same
    regression draws under the same seed): parts and weighted total."""
    generator = torch.Generator().manual_seed(0)
    maps = torch.rand(2, 2, 10, 10, generator=generator)
    start, end = torch.rand(2, 10, generator=generator), torch.rand(2, 10, generator=generator)
    gt = torch.rand(2, 10, 10, generator=generator)
    gt_start = (torch.rand(2, 10, generator=generator) > 0.7).float()
    gt_end = (torch.rand(2, 10, generator=generator) > 0.7).float()
    mask = proposal_map_mask(10, 10)
    results = []
    for loss in (BMNLoss(), GTADLoss(ratio_clamp=(1.05, 21), eps=1e-5)):
        torch.manual_seed(5)
        results.append(loss(maps, start, end, gt, gt_start, gt_end, mask))
    for theirs, ours in zip(*results):
        torch.testing.assert_close(ours, theirs, rtol=1e-6, atol=1e-7)


def test_thumos_weights_and_no_positive_guard():
    """THUMOS14's ``subgraph_loss_func(lambda1=10) + node_loss_func`` = tem + reg + 10 cls:
    a model with ``loss_weights=(1, 1, 10)`` logs exactly those parts. A batch without any
    positive is inf/NaN in the official formulas (r = n / 0); here the positives count at
    least 1 (documented guard), so these parts are finite. (The regression part of a
    sample without any ground truth is 0/0 in both, as in mmaction2: such windows are
    never trained on.)"""
    from mmaction.structures import ActionDataSample
    from mmengine.structures import InstanceData

    from heads.gtad import GTAD

    torch.manual_seed(0)
    model = GTAD(feat_dim=8, temporal_scale=12, max_duration=6, hidden_dim_1d=16,
                 hidden_dim_2d=8, hidden_dim_3d=16, groups=4, inner_points=4,
                 context_points=2, loss=dict(type='GTADLoss', pseudo_count=10),
                 loss_weights=(1.0, 1.0, 10.0))
    sample = ActionDataSample(metainfo=dict(video_id='v'))
    sample.gt_instances = InstanceData(gt_bbox=torch.tensor([[0.1, 0.4]]))
    x = torch.randn(1, 8, 12)
    torch.manual_seed(1)
    losses = model(x, [sample], mode='loss')
    torch.manual_seed(1)
    maps, start, end = model._forward(x)
    _, tem, reg, cls = model.loss_module(maps, start, end, *model.targets([sample])[2:],
                                         *model.targets([sample])[:2], model.bm_mask)
    torch.testing.assert_close(losses['loss_tem'], tem)
    torch.testing.assert_close(losses['loss_reg'], reg)
    torch.testing.assert_close(losses['loss_cls'], 10 * cls)
    empty = torch.zeros(1, 12)
    loss = GTADLoss()
    assert torch.isfinite(loss.tem_loss(start, end, empty, empty))
    assert torch.isfinite(loss.pem_cls_loss(maps[:, 1], torch.zeros(1, 6, 12), model.bm_mask))


def test_regression_without_any_cell_above_07_is_zero_not_nan():
    """mmaction2's / G-TAD's ``pem_reg_loss``: the medium and low bins are subsampled to
    the size of the high bin (tIoU > 0.7); with no high cell every weight is 0 and the
    loss is 0 / 0 = NaN (a ground truth longer than the map's D does it). Here: 0, with a
    gradient of 0, and the same value as the official formula whenever one cell is high."""
    mask = proposal_map_mask(8, 4)                    # D = 4 < T = 8
    gt = torch.full((1, 4, 8), 0.5) * mask            # medium cells only
    pred = torch.rand(1, 2, 4, 8, requires_grad=True)
    start, end = torch.rand(1, 8), torch.rand(1, 8)
    label = torch.zeros(1, 8)
    label[0, 2] = 1.0
    assert torch.isnan(BMNLoss.pem_reg_loss(pred[:, 0], gt, mask))     # the official NaN
    _, _, reg, _ = GTADLoss()(pred, start, end, gt, label, label, mask)
    assert float(reg) == 0.0
    reg.backward()
    assert float(pred.grad.abs().sum()) == 0.0
    gt[0, 1, 2] = 0.9                                 # one high cell: the official value
    torch.manual_seed(3)
    want = BMNLoss.pem_reg_loss(pred[:, 0].detach(), gt, mask)
    torch.manual_seed(3)
    _, _, reg, _ = GTADLoss()(pred.detach(), start, end, gt, label, label, mask)
    torch.testing.assert_close(reg, want)

"""G-TAD's loss, as frostinassiky/gtad computes it (both branches), registered for configs.

G-TAD's loss has BMN's three parts, but not mmaction2's ``BMNLoss`` balancing:

* temporal evaluation (``tem_loss_func`` / ``node_loss_func``): per boundary head,
  ``-mean(c1 log(p + eps) [y > .5] + c0 log(1 - p + eps) [y <= .5])`` with
  ``r = entries / positives``, ``c1 = r / 2``, ``c0 = r / (2 (r - 1))``; no clamp of ``r``
  (mmaction2 clamps it to ``(1.05, 21)``), ``eps = 1e-6`` (mmaction2 ``1e-5``);
* IoU regression (``pem_reg_loss_func``): BMN's, identical to mmaction2's
  ``BMNLoss.pem_reg_loss`` (reused: the medium and low tIoU bins are subsampled at random
  to the size of the high bin; G-TAD draws with ``np.random.rand``, we with torch's
  generator: the same distribution, not the same draws);
* classification (``pem_cls_loss_func``, tIoU > 0.9 positive): the same balancing over
  the valid cells; the THUMOS14 branch adds pseudo-counts, ``positives = 10 + P`` and
  ``entries = 10 + positives + N`` (``pseudo_count=10``), the ActivityNet one none.

The weights are the model's ``loss_weights`` (:class:`heads.base.BaseTemporalLocalizer`):
``gtad_loss_func`` on ActivityNet is ``L_tem + 10 L_reg + L_cls``; THUMOS14's
``gtad_train.py`` computes ``subgraph_loss_func(..., lambda1=10) + node_loss_func`` =
``L_tem + L_reg + 10 L_cls``.

Without any positive the official ratio divides by zero (the loss is NaN); here the
positives count at least 1 (``min_positives``, mmaction2's guard), which changes nothing
when there is one. Likewise a batch with no proposal cell above tIoU 0.7 gives the
official regression loss 0 / 0 = NaN; here it contributes 0 (only batches where the
official loss is NaN differ).
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
from mmaction.registry import MODELS
from torch import nn

__all__ = ['GTADLoss', 'balanced_bce']


def balanced_bce(pred: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor, *,
                 reduce: str, pseudo_count: float = 0.0,
                 ratio_clamp: Sequence[float] | None = None, eps: float = 1e-6,
                 min_positives: float = 1.0) -> torch.Tensor:
    """BMN/G-TAD's class-balanced binary cross-entropy.

    ``P = sum(positive) + pseudo_count`` (at least ``min_positives``), ``E = P + sum(negative)
    + pseudo_count``, ``r = E / P`` (clamped to ``ratio_clamp`` when given),
    ``loss = -(sum or mean)(r/2 log(p + eps) positive + r/(2(r-1)) log(1 - p + eps)
    negative)``, divided by ``E`` for ``reduce='entries'`` or averaged over every element
    for ``reduce='mean'`` (the temporal loss, whose negatives are all the others).

    Args:
        pred: Probabilities.
        positive, negative: Float masks of ``pred``'s shape.
        reduce: ``'entries'`` (classification map) or ``'mean'`` (boundaries).
        pseudo_count: G-TAD THUMOS14's 10 (classification), else 0.
        ratio_clamp: ``(low, high)`` (mmaction2's ``(1.05, 21)``) or None (G-TAD).
        eps: Inside the logs.
        min_positives: Floor of ``P`` (a guard against no positive).

    Examples:
        >>> p = torch.full((36,), 0.5)
        >>> pos = torch.zeros(36); pos[0] = 1
        >>> round(float(balanced_bce(p, pos, 1 - pos, reduce='entries')), 6)
        0.693145
    """
    if reduce not in ('entries', 'mean'):
        raise ValueError(f"reduce must be 'entries' or 'mean', got {reduce!r}")
    num_positive = (positive.sum() + pseudo_count).clamp(min=min_positives)
    if reduce == 'mean':  # BMN's temporal loss: r = len(labels) / P
        num_entries = torch.as_tensor(float(pred.numel()), device=pred.device)
    else:
        num_entries = num_positive + negative.sum() + pseudo_count
    ratio = num_entries / num_positive
    if ratio_clamp is not None:
        ratio = ratio.clamp(float(ratio_clamp[0]), float(ratio_clamp[1]))
    coef_0 = 0.5 * ratio / (ratio - 1)
    coef_1 = 0.5 * ratio
    loss = (coef_1 * torch.log(pred + eps) * positive
            + coef_0 * torch.log(1.0 - pred + eps) * negative)
    return -loss.mean() if reduce == 'mean' else -loss.sum() / num_entries


@MODELS.register_module()
class GTADLoss(nn.Module):
    """G-TAD's loss parts (module docstring), called like mmaction2's ``BMNLoss``.

    Args:
        pseudo_count: Pseudo-counts of the classification balance (THUMOS14 10,
            ActivityNet 0).
        ratio_clamp: Clamp of the balance ratio (None: G-TAD; ``(1.05, 21)``: mmaction2's
            ``BMNLoss``, which this module then equals with ``eps=1e-5``).
        eps: Inside the logs (G-TAD 1e-6).
        min_positives: Floor of the positive count (module docstring).

    Examples:
        >>> loss = GTADLoss(pseudo_count=10)
        >>> maps, start, end = torch.full((1, 2, 4, 4), .5), torch.rand(1, 4), torch.rand(1, 4)
        >>> mask = torch.ones(4, 4).triu().flip(1)
        >>> gt = torch.zeros(1, 4, 4); gt[0, 1, 0] = 1.0
        >>> total, tem, reg, cls = loss(maps, start, end, gt, gt[:, 1], gt[:, 0], mask)
        >>> bool(torch.isclose(total, tem + 10 * reg + cls))
        True
    """

    def __init__(self, pseudo_count: float = 0.0, ratio_clamp: Sequence[float] | None = None,
                 eps: float = 1e-6, min_positives: float = 1.0):
        super().__init__()
        self.pseudo_count = float(pseudo_count)
        self.ratio_clamp = None if ratio_clamp is None else tuple(float(v) for v in ratio_clamp)
        self.eps = float(eps)
        self.min_positives = float(min_positives)

    def _balance(self, **kwargs) -> dict:
        return dict(ratio_clamp=self.ratio_clamp, eps=self.eps,
                    min_positives=self.min_positives, **kwargs)

    def tem_loss(self, pred_start: torch.Tensor, pred_end: torch.Tensor,
                 gt_start: torch.Tensor, gt_end: torch.Tensor) -> torch.Tensor:
        """Start + end balanced BCE (positives: label > 0.5), mean over every position."""
        total = 0.0
        for pred, label in ((pred_start, gt_start), (pred_end, gt_end)):
            pred, label = pred.reshape(-1), label.reshape(-1).to(pred.device)
            positive = (label > 0.5).float()
            total = total + balanced_bce(pred, positive, 1.0 - positive, reduce='mean',
                                         **self._balance())
        return total

    def pem_cls_loss(self, pred: torch.Tensor, gt_iou_map: torch.Tensor,
                     mask: torch.Tensor) -> torch.Tensor:
        """Balanced BCE of the classification map (tIoU > 0.9), valid cells only."""
        positive = (gt_iou_map > 0.9).float()
        negative = (gt_iou_map <= 0.9).float() * mask
        return balanced_bce(pred, positive, negative, reduce='entries',
                            **self._balance(pseudo_count=self.pseudo_count))

    def forward(self, pred_bm: torch.Tensor, pred_start: torch.Tensor, pred_end: torch.Tensor,
                gt_iou_map: torch.Tensor, gt_start: torch.Tensor, gt_end: torch.Tensor,
                bm_mask: torch.Tensor, weight_tem: float = 1.0, weight_pem_reg: float = 10.0,
                weight_pem_cls: float = 1.0
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(weighted total, tem, reg, cls)``; map channel 0 regresses, channel 1 classifies."""
        # Imported here: ``import mmaction.models`` needs pal_eval's compat shims first.
        from mmaction.models.losses import BMNLoss

        gt_iou_map = gt_iou_map * bm_mask
        if bool((gt_iou_map > 0.7).any()):
            reg = BMNLoss.pem_reg_loss(pred_bm[:, 0].contiguous(), gt_iou_map, bm_mask)
        else:
            # No proposal cell reaches tIoU 0.7 in the batch (ground truth longer than the
            # map's D, or none): every bin is sampled to the empty high bin's size and the
            # official loss is 0 / 0 = NaN, which would end training. No regression signal.
            reg = pred_bm[:, 0].sum() * 0.0
        cls = self.pem_cls_loss(pred_bm[:, 1].contiguous(), gt_iou_map, bm_mask)
        tem = self.tem_loss(pred_start, pred_end, gt_start, gt_end)
        total = weight_tem * tem + weight_pem_reg * reg + weight_pem_cls * cls
        return total, tem, reg, cls

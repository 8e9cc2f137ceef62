"""PAL / MoCoV2 models: queue, momentum, loss against a brute-force re-computation,
gradients, and over-fitting one batch."""
from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch

J, F, S = 4, 2, 16


def _sample(mask_1, mask_2):
    from mmaction.structures import ActionDataSample

    masks = np.array([mask_1, mask_2], dtype=bool)
    starts = [int(np.flatnonzero(m)[0]) for m in masks]
    return ActionDataSample(metainfo=dict(action_mask=masks, start_clip=np.array(starts),
                                          num_action_clips=masks.sum(axis=1)))


def _pal(**kwargs):
    from pal_eval.pretrain.pal import PAL

    options = dict(clips_per_video=J, queue_size=6, embed_dim=8, momentum=0.5,
                   temperature=0.3)
    options.update(kwargs)
    torch.manual_seed(0)
    model = PAL(dict(type='PALBackbone', base_channels=4), **options)
    model.init_weights()
    return model


def _batch(seed=0):
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(2, 2, 3, J * F, S, S, generator=generator)
    samples = [_sample([0, 1, 1, 0], [0, 0, 1, 0]), _sample([0, 1, 0, 0], [0, 1, 1, 0])]
    return inputs, samples


def test_queue_is_a_ring_buffer():
    from pal_eval.pretrain.queue import KeyQueue

    queue = KeyQueue(size=5, dim=2)
    first = torch.arange(6.).reshape(3, 2)
    second = 100 + torch.arange(8.).reshape(4, 2)
    queue.enqueue(first)
    queue.enqueue(second)
    # slots 0-2 <- first, 3-4 <- second[0:2], then wrap: 0-1 <- second[2:4]
    expected = torch.stack([second[2], second[3], first[2], second[0], second[1]])
    assert torch.equal(queue.keys, expected)
    assert int(queue.ptr) == 2 and int(queue.num_filled) == 5


def test_momentum_update_is_an_ema_of_the_query():
    model = _pal(momentum=0.9)
    with torch.no_grad():
        for param in model.backbone.parameters():
            param.add_(torch.randn_like(param))
    query = [p.clone() for p in model.backbone.parameters()]
    key_before = [p.clone() for p in model.key_backbone.parameters()]
    model.momentum_update()
    for q, k0, k in zip(query, key_before, model.key_backbone.parameters()):
        assert torch.allclose(k, 0.9 * k0 + 0.1 * q, atol=1e-6)


def _brute_force_region_loss(model, inputs, samples, queue_keys):
    """InfoNCE of the module docstring, written with explicit loops: the query from the
    query encoder, *every* candidate (positive, queue, in-batch, background clips of both
    composites) from the momentum encoder. BatchNorm batches as in the model with
    ``bn_groups=1``: the query's composites in one batch, both composites' clips in one
    batch for the key encoder."""
    normalize = torch.nn.functional.normalize
    with torch.no_grad():
        q_clips = model.encode_clips(inputs[:, 0])
        k_both = model.encode_clips(torch.cat([inputs[:, 0], inputs[:, 1]]), key=True)
    batch = len(samples)
    k_clips = [k_both[:batch], k_both[batch:]]           # composite 1, composite 2

    def key_region(b, k):
        mask = torch.as_tensor(samples[b].metainfo['action_mask'][k])
        return normalize(model.key_projector(k_clips[k][b][mask].mean(dim=0)), dim=0)

    losses = []
    for b, sample in enumerate(samples):
        mask_1, mask_2 = (torch.as_tensor(m) for m in sample.metainfo['action_mask'])
        query = normalize(model.projector(q_clips[b][mask_1].mean(dim=0)), dim=0)
        logits = [float(query @ key_region(b, 1))]
        logits += [float(query @ neg) for neg in queue_keys]
        for other in range(batch):                       # in-batch: other samples' keys
            if other != b:
                logits += [float(query @ key_region(other, 0)),
                           float(query @ key_region(other, 1))]
        for k, mask in ((0, mask_1), (1, mask_2)):        # background clips, key encoder
            for j in range(J):
                if not mask[j]:
                    neg = normalize(model.key_projector(k_clips[k][b, j]), dim=0)
                    logits.append(float(query @ neg))
        scaled = [v / model.temperature for v in logits]
        top = max(scaled)
        log_sum = top + math.log(sum(math.exp(v - top) for v in scaled))
        losses.append(log_sum - scaled[0])
    return sum(losses) / len(losses)


def test_region_loss_matches_brute_force_and_updates_queue():
    model = _pal()
    inputs, samples = _batch()
    queue_before = model.queue.keys.clone()
    losses = model.loss(inputs, samples)
    expected = _brute_force_region_loss(model, inputs, samples, queue_before)
    assert losses['loss_region'].item() == pytest.approx(expected, rel=1e-4)
    # The two region keys went into the queue, at slots 0 and 1.
    assert int(model.queue.ptr) == 2 and int(model.queue.num_filled) == 2
    assert torch.equal(model.queue.keys[2:], queue_before[2:])
    with torch.no_grad():
        k_both = model.encode_clips(torch.cat([inputs[:, 0], inputs[:, 1]]), key=True)
        for b, sample in enumerate(samples):
            mask_2 = torch.as_tensor(sample.metainfo['action_mask'][1])
            key = torch.nn.functional.normalize(
                model.key_projector(k_both[len(samples) + b][mask_2].mean(dim=0)), dim=0)
            assert torch.allclose(model.queue.keys[b], key, atol=1e-5)


def test_every_negative_comes_from_the_momentum_encoder():
    """Changing the query encoder's weights moves the query only: with the query fixed,
    the loss is a function of key-encoder outputs alone. Checked by making the two
    encoders differ and comparing with the brute force, which encodes every candidate
    with the key encoder; a query-encoded background block would not match."""
    model = _pal()
    with torch.no_grad():
        for param in model.key_backbone.parameters():
            param.add_(0.3 * torch.randn_like(param))
    model.momentum = 1.0                       # keep the perturbed key encoder as it is
    inputs, samples = _batch(seed=2)
    queue_before = model.queue.keys.clone()
    losses = model.loss(inputs, samples)
    expected = _brute_force_region_loss(model, inputs, samples, queue_before)
    assert losses['loss_region'].item() == pytest.approx(expected, rel=1e-4)
    # the background negatives sit at the similarity level of the other candidates, not
    # at the ~0.99 a query-encoded copy of the query's own composite would give
    assert losses['sim_bg'] < 0.99


def test_own_video_keys_are_masked_in_the_queue():
    from pal_eval.pretrain.queue import KeyQueue

    queue = KeyQueue(size=4, dim=2)
    queue.enqueue(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]), ids=torch.tensor([5, 6, 7]))
    sims = queue.logits(torch.tensor([[1.0, 0.0]]), torch.tensor([5]))
    assert torch.isinf(sims[0, 0]) and sims[0, 2] == 1.0
    assert torch.isfinite(sims[0, 3])          # never-filled slot (id -1): a random key


def test_bn_groups_encode_in_groups_and_restore_the_order():
    model = _pal(bn_groups=2)
    views = torch.randn(4, 3, J * F, S, S)
    with torch.no_grad():
        grouped = model.encode_views(views)
        first = model.encode_clips(views[:2])
        shuffled = model.encode_views(views, key=True)
    assert torch.allclose(grouped[:2], first, atol=1e-5)     # group 1 = views 0-1 alone
    assert shuffled.shape == grouped.shape
    one_group = _pal(bn_groups=1)
    with torch.no_grad():
        assert torch.allclose(one_group.encode_views(views), one_group.encode_clips(views))


def test_sync_bn_reaches_the_inner_batchnorm_of_conv2plus1d():
    from mmengine.model import convert_sync_batchnorm

    model = convert_sync_batchnorm(_pal(), 'torch')
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert norms and all(isinstance(m, torch.nn.SyncBatchNorm) for m in norms)
    inner = model.backbone.encoder.conv1.conv.bn_s          # Conv2plus1d's own BN
    assert isinstance(inner, torch.nn.SyncBatchNorm)


def test_collapse_detector_fires_once_on_a_collapsed_model():
    from pal_eval.pretrain.hooks import PretextMonitorHook

    model = _pal()
    with torch.no_grad():                       # constant features: a collapsed encoder
        for param in model.backbone.parameters():
            param.zero_()
    inputs, samples = _batch()
    outputs = model.loss(inputs, samples)
    assert float(outputs['emb_spread']) < 1e-3
    healthy = _pal().loss(inputs, samples)
    assert float(healthy['emb_spread']) > 0.05

    class Runner:
        iter = 0
        warnings: list = []
        logger = type('L', (), {'warning': lambda self, msg: Runner.warnings.append(msg)})()

    hook = PretextMonitorHook(interval=10**6, collapse_patience=3, collapse_warmup=2)
    for step in range(10):
        Runner.iter = step
        hook.after_train_iter(Runner, step, outputs=outputs)
    assert len(Runner.warnings) == 1 and 'collapse' in Runner.warnings[0]
    quiet = PretextMonitorHook(interval=10**6, collapse_patience=3, collapse_warmup=2)
    Runner.warnings.clear()
    for step in range(10):
        quiet.after_train_iter(Runner, step, outputs=healthy)
    assert not Runner.warnings


def test_gradients_reach_the_query_backbone_only():
    model = _pal(dense_loss_weight=0.5, symmetric=True)
    inputs, samples = _batch()
    losses = model.loss(inputs, samples)
    assert {'loss_region', 'loss_dense', 'pos_acc', 'sim_pos', 'emb_spread'} <= set(losses)
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    conv = model.backbone.encoder.conv1.conv
    weight = conv.weight if hasattr(conv, 'weight') else conv.conv_s.weight
    assert weight.grad is not None and weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.key_backbone.parameters())


@pytest.mark.parametrize('name', ['PAL', 'MoCoV2'])
def test_loss_decreases_when_overfitting_one_batch(name):
    from pal_eval.pretrain.moco import MoCoV2

    if name == 'PAL':
        model = _pal(queue_size=4, momentum=0.9)
    else:
        torch.manual_seed(0)
        model = MoCoV2(dict(type='PALBackbone', base_channels=4), clips_per_video=J,
                       queue_size=4, embed_dim=8, momentum=0.9, temperature=0.3)
        model.init_weights()
    inputs, samples = _batch(seed=1)
    # Freeze the queue: on one repeated batch it would fill with copies of the positives.
    model.queue.enqueue = lambda keys, gather=True: None
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                                  lr=1e-3, weight_decay=0.0)
    history = []
    for _ in range(40):
        loss = next(v for k, v in model.loss(inputs, samples).items() if k.startswith('loss'))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    assert np.mean(history[-5:]) < 0.8 * np.mean(history[:5]), history


def test_pal_without_masks_is_a_clear_error():
    model = _pal()
    with pytest.raises(ValueError, match='action masks'):
        model.loss(torch.zeros(1, 2, 3, J * F, S, S), None)
    bad = copy.deepcopy(_batch()[1])
    bad[0].set_metainfo(dict(action_mask=np.ones((2, J + 1), dtype=bool)))
    with pytest.raises(ValueError, match='action_mask'):
        model.loss(torch.zeros(2, 2, 3, J * F, S, S), bad)


def test_torch_threads_hook_sets_the_thread_count():
    from pal_eval.pretrain.hooks import TorchThreadsHook

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        TorchThreadsHook(num_threads=1).before_run(runner=None)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    with pytest.raises(ValueError):
        TorchThreadsHook(num_threads=0)


@pytest.mark.parametrize('name', ['PAL', 'MoCoV2'])
def test_losses_are_finite_under_autocast(name):
    """The AMP option (``--amp``): bfloat16 autocast on CPU stands in for float16 on GPU;
    the queue stays float32 and the -inf masks survive the low-precision logits."""
    from pal_eval.pretrain.moco import MoCoV2

    torch.manual_seed(0)
    if name == 'PAL':
        model = _pal()
    else:
        model = MoCoV2(dict(type='PALBackbone', base_channels=4), clips_per_video=J,
                       queue_size=6, embed_dim=8)
        model.init_weights()
    inputs, samples = _batch()
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = model.loss(inputs, samples)
    loss = next(v for k, v in losses.items() if k.startswith('loss'))
    assert torch.isfinite(loss) and model.queue.keys.dtype == torch.float32
    loss.backward()

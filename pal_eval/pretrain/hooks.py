"""Training hooks of the pretraining runs: CPU threads, per-epoch seeds, health monitors.

* ``TorchThreadsHook``: cap torch's intra-op threads for small CPU runs.
* ``EpochSeedHook``: tell the unlabeled data set the epoch, so that every epoch draws
  fresh regions, positions and crops even with non-persistent DataLoader workers.
* ``PretextMonitorHook``: the signals that say whether a pretext is being *learned*
  (``pos_acc`` alone is not one: it reached 1.00 on collapsed features, issue 14):

  - frozen-encoder **region retrieval** every ``interval`` iterations: a fixed set of
    ``num_regions`` PAL composite pairs (no augmentation, same seed for every run, so
    PAL, MoCo-v2 and random init are measured on the same set) is encoded by the query
    backbone in eval mode, as extraction will use it; the region feature of composite
    1 (mean of its action clips, centred over the set) must retrieve the matching
    region of composite 2 (a different region of the same video, elsewhere, at another
    temporal scale) among all ``num_regions``; chance is ``1 / num_regions``;
  - per-stage **weight norms** of the query backbone (an exploding stem shows here);
  - an **embedding-spread collapse detector** (:class:`CollapseDetector`) on the
    model's ``emb_spread`` output, warning once;
  - the **queue-size check** (:func:`~pal_eval.pretrain.queue.check_queue_size`).

  Values go to the log and to the visualizer (``vis_data/scalars.json``), which
  ``benchmarks/bench_pretrain.py --plot`` draws.
"""
from __future__ import annotations

import math

import torch
from mmaction.registry import HOOKS
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from pal_eval.pretrain.pal import masked_mean
from pal_eval.pretrain.queue import check_queue_size


@HOOKS.register_module()
class TorchThreadsHook(Hook):
    """Set ``torch.set_num_threads`` before training.

    Why: on a 2-core machine with 2 DataLoader workers, torch's default (one thread per
    core) oversubscribes the CPU and tiny convolutions spend their time in thread
    synchronisation. Measured on the 2-core dev machine, the 5-epoch CPU PAL config took
    10 min 25 s with default threads and 1 min 20 s with one thread.

    Args:
        num_threads: Intra-op threads of the training process.

    Examples:
        >>> custom_hooks = [dict(type='TorchThreadsHook', num_threads=1)]
    """

    priority = 'VERY_HIGH'

    def __init__(self, num_threads: int = 1):
        if num_threads < 1:
            raise ValueError(f'num_threads must be >= 1, got {num_threads}')
        self.num_threads = num_threads

    def before_run(self, runner) -> None:
        torch.set_num_threads(self.num_threads)


@HOOKS.register_module()
class EpochSeedHook(Hook):
    """Call ``train_dataloader.dataset.set_epoch(epoch)`` before every epoch.

    Examples:
        >>> custom_hooks = [dict(type='EpochSeedHook')]
    """

    priority = 'NORMAL'

    def before_train_epoch(self, runner) -> None:
        dataset = runner.train_dataloader.dataset
        if hasattr(dataset, 'set_epoch'):
            dataset.set_epoch(runner.epoch)


class CollapseDetector:
    """Warn once when the embedding spread stays below ``threshold``.

    Args:
        threshold: ``emb_spread`` below which embeddings count as collapsed (about 1 for
            embeddings spread over the sphere, 0 for identical ones).
        patience: Consecutive low values before warning (one noisy batch is not a
            collapse).
        warmup: Iterations ignored at the start (a random network's embeddings are
            already close together before training spreads them).

    Examples:
        >>> detector = CollapseDetector(threshold=0.1, patience=2, warmup=0)
        >>> [detector.update(v) for v in (0.5, 0.01, 0.01, 0.01)]
        [False, False, True, False]
        >>> detector.fired
        True
    """

    def __init__(self, threshold: float = 0.05, patience: int = 10, warmup: int = 50):
        self.threshold = threshold
        self.patience = patience
        self.warmup = warmup
        self.seen = 0
        self.low = 0
        self.fired = False

    def update(self, spread: float) -> bool:
        """Feed one iteration's spread; ``True`` exactly once, when the warning is due."""
        self.seen += 1
        if self.seen <= self.warmup or math.isnan(spread):
            return False
        self.low = self.low + 1 if spread < self.threshold else 0
        if self.low >= self.patience and not self.fired:
            self.fired = True
            return True
        return False


def region_retrieval(first: torch.Tensor, second: torch.Tensor) -> float:
    """Top-1 retrieval of ``second[i]`` by ``first[i]`` (and back) after centring.

    Both ``[M, C]`` sets are centred by their joint mean before the cosine: raw pooled
    ReLU features are non-negative and nearly parallel, and their raw cosine measures
    that anisotropy rather than content.

    Returns:
        The mean of both directions' top-1 accuracy (chance ``1 / M``).

    Examples:
        >>> x = torch.eye(4)
        >>> region_retrieval(x, x + 0.01)
        1.0
    """
    centre = torch.cat([first, second]).mean(dim=0, keepdim=True)
    a = torch.nn.functional.normalize(first - centre, dim=1)
    b = torch.nn.functional.normalize(second - centre, dim=1)
    sims = a @ b.T
    target = torch.arange(len(a), device=a.device)
    forward = (sims.argmax(dim=1) == target).float().mean()
    backward = (sims.argmax(dim=0) == target).float().mean()
    return float((forward + backward) / 2)


def unwrap(model):
    return model.module if is_model_wrapper(model) else model


@HOOKS.register_module()
class PretextMonitorHook(Hook):
    """Region retrieval, weight norms, collapse warning and queue check (module doc).

    Args:
        interval: Iterations between two retrieval / weight-norm measurements (also
            measured before the first and after the last iteration).
        num_regions: Composite pairs of the retrieval set (at most the data set size).
        seed: Seed of the retrieval set (the same set for every run of one data set).
        collapse_threshold: See :class:`CollapseDetector`.
        collapse_patience: See :class:`CollapseDetector`.
        collapse_warmup: See :class:`CollapseDetector`.
        batch_size: Composites encoded per forward pass of the retrieval.

    Examples:
        >>> custom_hooks = [dict(type='PretextMonitorHook', interval=25, num_regions=64)]
    """

    priority = 'LOW'

    def __init__(self, interval: int = 50, num_regions: int = 64, seed: int = 0,
                 collapse_threshold: float = 0.05, collapse_patience: int = 10,
                 collapse_warmup: int = 50, batch_size: int = 16):
        if interval < 1 or num_regions < 2:
            raise ValueError('interval must be >= 1 and num_regions >= 2')
        self.interval = interval
        self.num_regions = num_regions
        self.seed = seed
        self.batch_size = batch_size
        self.detector = CollapseDetector(collapse_threshold, collapse_patience,
                                         collapse_warmup)
        self.probe = None
        self.history: list[dict] = []

    # -- lifecycle ------------------------------------------------------------------------
    def before_train(self, runner) -> None:
        model = unwrap(runner.model)
        dataset = runner.train_dataloader.dataset
        check_queue_size(model.queue.size, len(dataset))
        if hasattr(dataset, 'retrieval_set'):
            self.probe = dataset.retrieval_set(min(self.num_regions, len(dataset)),
                                               seed=self.seed)
        self._measure(runner, 0)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        spread = (outputs or {}).get('emb_spread')
        if spread is not None and self.detector.update(float(spread)):
            runner.logger.warning(
                f'embedding collapse: emb_spread stayed below {self.detector.threshold} '
                f'for {self.detector.patience} iterations (now {float(spread):.4f} at '
                f'iteration {runner.iter + 1}); the features are (nearly) identical for '
                'every input: lower the learning rate, check the negatives')
        if (runner.iter + 1) % self.interval == 0:
            self._measure(runner, runner.iter + 1)

    def after_train(self, runner) -> None:
        if not self.history or self.history[-1]['iter'] != runner.iter:
            self._measure(runner, runner.iter)

    # -- measurements ---------------------------------------------------------------------
    @torch.no_grad()
    def retrieval(self, model) -> float | None:
        """Region retrieval of the frozen query backbone on the fixed set (or ``None``)."""
        if self.probe is None:
            return None
        backbone = model.backbone
        was_training = backbone.training
        backbone.eval()
        regions = []
        try:
            inputs, masks = self.probe
            for start in range(0, len(inputs), self.batch_size):
                chunk = inputs[start:start + self.batch_size]
                data = model.data_preprocessor(dict(inputs=list(chunk), data_samples=None))
                batch = data['inputs']                                # [b, 2, 3, JF, S, S]
                part = masks[start:start + self.batch_size].to(batch.device)
                feats = [model.encode_clips(batch[:, k]) for k in range(2)]   # [b, J, C]
                regions.append(torch.stack(
                    [masked_mean(feats[k], part[:, k]) for k in range(2)], dim=1))
        finally:
            backbone.train(was_training)
        regions = torch.cat(regions)
        return region_retrieval(regions[:, 0], regions[:, 1])

    @staticmethod
    def weight_norms(model) -> dict[str, float]:
        """L2 norm of the query backbone's weights per stage (stem, layer1..4)."""
        norms: dict[str, float] = {}
        for name, param in model.backbone.named_parameters():
            parts = name.split('.')
            stage = parts[1] if len(parts) > 1 and parts[0] == 'encoder' else parts[0]
            stage = 'stem' if stage.startswith('conv1') else stage
            norms[stage] = norms.get(stage, 0.0) + float(param.detach().float().pow(2).sum())
        return {f'wnorm_{k}': math.sqrt(v) for k, v in norms.items()}

    def _measure(self, runner, iteration: int) -> None:
        model = unwrap(runner.model)
        scalars = self.weight_norms(model)
        retrieval = self.retrieval(model)
        if retrieval is not None:
            scalars['retrieval'] = retrieval
            scalars['retrieval_chance'] = 1.0 / len(self.probe[0])
            runner.logger.info(f'region retrieval at iteration {iteration}: {retrieval:.3f} '
                               f'(chance {scalars["retrieval_chance"]:.3f}); weight norms '
                               + ', '.join(f'{k[6:]} {v:.1f}' for k, v in scalars.items()
                                           if k.startswith('wnorm_')))
        self.history.append(dict(iter=iteration, **scalars))
        runner.visualizer.add_scalars(scalars, step=iteration)

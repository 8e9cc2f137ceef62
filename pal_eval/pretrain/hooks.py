"""``TorchThreadsHook``: cap torch's intra-op threads for small CPU runs."""
from __future__ import annotations

import torch
from mmaction.registry import HOOKS
from mmengine.hooks import Hook


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

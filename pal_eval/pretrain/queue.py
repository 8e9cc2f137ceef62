"""The MoCo key queue, shared correctly across DDP ranks.

MoCo (He et al., 2020) keeps a FIFO of past keys as negatives. Under data-parallel
training every rank must hold the *same* queue, so keys are gathered from all ranks
before they are enqueued (otherwise each rank would only see its own shard and the
queues would silently diverge). The queue is a buffer, so it is saved in checkpoints
and ``--resume`` continues with the same negatives.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmengine import dist
from torch import nn


def gather_keys(keys: torch.Tensor) -> torch.Tensor:
    """Concatenate ``keys`` from every rank in rank order (identity without DDP).

    Args:
        keys: ``[B, D]`` keys of this rank (no gradient needed).

    Returns:
        ``[world_size * B, D]``.
    """
    if dist.get_world_size() == 1:
        return keys
    return torch.cat(dist.all_gather(keys.detach().contiguous()), dim=0)


class KeyQueue(nn.Module):
    """FIFO of L2-normalised keys, the same on every rank.

    Args:
        size: Number of keys kept (``K``, 65536 in MoCo-v2; small for CPU runs).
        dim: Key dimension.

    Examples:
        >>> queue = KeyQueue(size=4, dim=2)
        >>> queue.enqueue(torch.ones(3, 2))
        >>> int(queue.ptr), int(queue.num_filled)
        (3, 3)
    """

    def __init__(self, size: int, dim: int):
        super().__init__()
        if size < 1:
            raise ValueError(f'queue size must be >= 1, got {size}')
        self.size = size
        # Random unit vectors until real keys arrive, as in the MoCo reference code.
        self.register_buffer('keys', F.normalize(torch.randn(size, dim), dim=1))
        self.register_buffer('ptr', torch.zeros((), dtype=torch.long))
        self.register_buffer('num_filled', torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def enqueue(self, keys: torch.Tensor, gather: bool = True) -> None:
        """Gather ``keys`` across ranks (if ``gather``) and write them at the pointer.

        Args:
            keys: ``[B, D]`` new keys; the oldest ones are overwritten (ring buffer).
            gather: Gather from all ranks first (keep True under DDP).
        """
        keys = gather_keys(keys) if gather else keys.detach()
        keys = keys[-self.size:]  # a batch larger than the queue keeps its newest keys
        count = keys.shape[0]
        slots = (self.ptr + torch.arange(count, device=keys.device)) % self.size
        self.keys[slots] = keys.to(self.keys.dtype)
        self.ptr.fill_(int((self.ptr + count) % self.size))
        self.num_filled.fill_(min(int(self.num_filled) + count, self.size))

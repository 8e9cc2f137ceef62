"""The MoCo key queue, shared correctly across DDP ranks, with the source video of each key.

MoCo (He et al., 2020) keeps a FIFO of past keys as negatives. Under data-parallel
training every rank must hold the *same* queue, so keys are gathered from all ranks
before they are enqueued (otherwise each rank would only see its own shard and the
queues would silently diverge). The queue is a buffer, so it is saved in checkpoints
and ``--resume`` continues with the same negatives.

Each key also stores the index of the unlabeled video it came from (``ids``; ``-1``
when unknown): a query must never meet a key of its *own* video as a negative. On a
small unlabeled set this happens as soon as the queue spans more than an epoch (the
issue-14 audit measured 76 % of queries meeting their own older key with 256 keys for
200 videos), so the models mask those entries out, and :func:`check_queue_size` refuses
a queue larger than the unlabeled set.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from mmengine import dist
from torch import nn

from pal_eval.errors import PalEvalError


def gather_keys(keys: torch.Tensor) -> torch.Tensor:
    """Concatenate ``keys`` from every rank in rank order (identity without DDP).

    Args:
        keys: ``[B, ...]`` tensor of this rank (no gradient needed).

    Returns:
        ``[world_size * B, ...]``.
    """
    if dist.get_world_size() == 1:
        return keys
    return torch.cat(dist.all_gather(keys.detach().contiguous()), dim=0)


def check_queue_size(queue_size: int, num_videos: int, *, where: str = 'model.queue_size'
                     ) -> None:
    """Refuse a queue holding more keys than there are unlabeled videos.

    A larger queue necessarily holds several keys of the same video, so a query's own
    video comes back among its negatives (masked by id here, but the remaining
    negatives are then mostly repeats: the queue is wasted compute and memory).

    Raises:
        PalEvalError: ``queue_size > num_videos``, naming the config field.

    Examples:
        >>> check_queue_size(128, 200)
        >>> check_queue_size(256, 200)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        pal_eval.errors.PalEvalError: model.queue_size = 256 exceeds the 200 unlabeled videos ...
    """
    if queue_size > num_videos:
        raise PalEvalError(f'{where} = {queue_size} exceeds the {num_videos} unlabeled videos '
                           'of train_dataloader.dataset: queries would meet their own video '
                           f'among the negatives; use a queue of at most {num_videos} keys')


class KeyQueue(nn.Module):
    """FIFO of L2-normalised keys and their source video ids, the same on every rank.

    Args:
        size: Number of keys kept (``K``, 65536 in MoCo-v2; small for CPU runs).
        dim: Key dimension.

    Examples:
        >>> queue = KeyQueue(size=4, dim=2)
        >>> queue.enqueue(torch.ones(3, 2), ids=torch.tensor([7, 8, 9]))
        >>> int(queue.ptr), int(queue.num_filled), queue.ids.tolist()
        (3, 3, [7, 8, 9, -1])
    """

    def __init__(self, size: int, dim: int):
        super().__init__()
        if size < 1:
            raise ValueError(f'queue size must be >= 1, got {size}')
        self.size = size
        # Random unit vectors until real keys arrive, as in the MoCo reference code.
        self.register_buffer('keys', F.normalize(torch.randn(size, dim), dim=1))
        self.register_buffer('ids', torch.full((size,), -1, dtype=torch.long))
        self.register_buffer('ptr', torch.zeros((), dtype=torch.long))
        self.register_buffer('num_filled', torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def enqueue(self, keys: torch.Tensor, ids: torch.Tensor | None = None,
                gather: bool = True) -> None:
        """Gather ``keys`` (and ``ids``) across ranks and write them at the pointer.

        Args:
            keys: ``[B, D]`` new keys; the oldest ones are overwritten (ring buffer).
            ids: ``[B]`` source video index of each key (``None``: unknown, ``-1``).
            gather: Gather from all ranks first (keep True under DDP).
        """
        if ids is None:
            ids = torch.full((keys.shape[0],), -1, dtype=torch.long, device=keys.device)
        ids = ids.to(device=keys.device, dtype=torch.long)
        if gather:
            keys, ids = gather_keys(keys), gather_keys(ids)
        keys, ids = keys.detach()[-self.size:], ids[-self.size:]  # newest keys win
        count = keys.shape[0]
        slots = (self.ptr + torch.arange(count, device=keys.device)) % self.size
        self.keys[slots] = keys.to(self.keys.dtype)
        self.ids[slots] = ids
        self.ptr.fill_(int((self.ptr + count) % self.size))
        self.num_filled.fill_(min(int(self.num_filled) + count, self.size))

    def logits(self, queries: torch.Tensor, query_ids: torch.Tensor | None) -> torch.Tensor:
        """Cosine of each query with every queued key; ``-inf`` on keys of its own video.

        Args:
            queries: ``[N, D]`` L2-normalised queries.
            query_ids: ``[N]`` source video index of each query (``None``: no masking).

        Returns:
            ``[N, size]``.
        """
        sims = queries @ self.keys.clone().to(queries.dtype).T
        if query_ids is not None:
            own = (self.ids[None, :] == query_ids[:, None].to(self.ids.device)) \
                & (self.ids[None, :] >= 0)
            sims = sims.masked_fill(own, float('-inf'))
        return sims

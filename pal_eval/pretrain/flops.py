"""Compute cost of the clip encoder: multiply-adds per clip and per composited video.

Counted with :class:`mmengine.analysis.FlopAnalyzer` (MMEngine's port of fvcore). Like
fvcore it counts one *fused multiply-add* as one operation, so its "flops" are really
**MACs**; FLOPs in the strict sense are twice that. Papers, PAL's supplementary Table 1
included, usually call MACs "FLOPs": its 28.6 G per 8-clip video is ~3.58 G per clip.
"""
from __future__ import annotations

from collections.abc import Iterable

import torch

#: PAL supplementary, Table 1: clips per composited video -> "FLOPs/video" in G.
PAPER_TABLE1_GFLOPS: dict[int, float] = {4: 14.4, 6: 21.4, 8: 28.6, 10: 35.8, 12: 43.0}


def clip_macs(backbone: torch.nn.Module, frames_per_clip: int, input_size: int) -> int:
    """Multiply-adds of one forward pass of ``backbone`` on a single clip.

    Args:
        backbone: A clip encoder taking ``[1, 3, T, H, W]``.
        frames_per_clip: ``T``.
        input_size: ``H = W``.

    Returns:
        MACs (fvcore convention, batch of one clip).
    """
    from mmengine.analysis import FlopAnalyzer

    clip = torch.zeros(1, 3, frames_per_clip, input_size, input_size)
    was_training = backbone.training
    backbone.eval()
    try:
        analyzer = FlopAnalyzer(backbone, (clip,))
        analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        return int(analyzer.total())
    finally:
        backbone.train(was_training)


def video_table(per_clip_macs: int, clip_counts: Iterable[int]) -> list[dict]:
    """Rows ``{clips, gmacs_per_video, gflops_per_video, paper_gflops}`` for each ``J``.

    A composited video of ``J`` clips costs ``J`` clip forwards (clips are encoded
    independently), as in the paper's table.
    """
    rows = []
    for clips in clip_counts:
        gmacs = clips * per_clip_macs / 1e9
        rows.append(dict(clips=clips, gmacs_per_video=gmacs, gflops_per_video=2 * gmacs,
                         paper_gflops=PAPER_TABLE1_GFLOPS.get(clips)))
    return rows

"""Timeline plot of ground-truth action instances against predictions (used by the demo)."""
from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np


def plot_timeline(ground_truth: Sequence[tuple[float, float, str]],
                  predictions: Sequence[tuple[float, float, str, float]], duration: float, *,
                  out: str | os.PathLike | None = None, ax=None, top_k: int = 10,
                  title: str | None = None):
    """Draw ground truth (top row) and the ``top_k`` best predictions (rows below) on a time axis.

    Each prediction's bar is shaded by its score and labelled with class and score;
    its colour matches the ground-truth class colour, so mistakes are visible at a glance.

    Args:
        ground_truth: ``(t_start, t_end, label)`` seconds.
        predictions: ``(t_start, t_end, label, score)`` seconds; sorted by score here.
        duration: Video duration (x axis extent).
        out: Write the figure there (atomically; png/pdf/svg by suffix) when given.
        ax: Draw into this matplotlib axes instead of a new figure.
        top_k: Predictions to show.
        title: Axes title.

    Returns:
        The matplotlib ``Figure``.

    Examples:
        >>> fig = plot_timeline([(1.0, 3.0, 'jump')], [(1.2, 2.9, 'jump', 0.9)], 5.0)
        >>> len(fig.axes[0].collections)  # one bar per row
        2
    """
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    ranked = sorted(predictions, key=lambda p: -p[3])[:top_k]
    labels = list(dict.fromkeys([g[2] for g in ground_truth] + [p[2] for p in ranked]))
    palette = plt.get_cmap('tab10')
    colour = {label: palette(i % 10) for i, label in enumerate(labels)}
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 0.9 + 0.3 * (len(ranked) + 1)))
    else:
        fig = ax.figure
    rows = len(ranked) + 1
    for t_start, t_end, label in ground_truth:
        ax.broken_barh([(t_start, t_end - t_start)], (rows - 0.9, 0.8), color=colour[label],
                       edgecolor='black')
        ax.text((t_start + t_end) / 2, rows - 0.5, label, ha='center', va='center', fontsize=7)
    for row, (t_start, t_end, label, score) in enumerate(ranked):
        y = rows - 2 - row
        alpha = float(np.clip(0.25 + 0.75 * score, 0.25, 1.0))
        ax.broken_barh([(t_start, t_end - t_start)], (y + 0.1, 0.8), color=colour[label],
                       alpha=alpha)
        ax.text(t_end, y + 0.5, f' {label} {score:.2f}', va='center', fontsize=6)
    ax.set_xlim(0, duration)
    ax.set_ylim(0, rows)
    ax.set_yticks([rows - 0.5] + [rows - 1.5 - r for r in range(len(ranked))])
    ax.set_yticklabels(['ground truth'] + [f'#{r + 1}' for r in range(len(ranked))], fontsize=7)
    ax.set_xlabel('time (s)')
    if title:
        ax.set_title(title, fontsize=9)
    if out is not None:
        from pal_eval.io import atomic_write

        fig.tight_layout()
        suffix = os.path.splitext(str(out))[1].lower().lstrip('.') or 'png'
        with atomic_write(out, 'wb') as handle:
            fig.savefig(handle, format=suffix if suffix in ('png', 'pdf', 'svg') else 'png',
                        dpi=120)
    return fig

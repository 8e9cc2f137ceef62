"""Timelines of one video: ground-truth instances against the top-k predictions.

Readability rules (the figure is what people look at first, so they are tested):

* every text is at least 8 pt;
* no two labels, and no label and a foreign bar, overprint: ground-truth instances are
  packed into as many lanes as their bars *and labels* need (:func:`pack_lanes`), and
  each prediction has its own row, its label placed right of its bar, else left of
  it, else inside it (whichever fits in the axes);
* a prediction's colour is its class colour in the ground truth (proposals: one neutral
  colour), its opacity its score relative to the best one shown,
  and its label says class, score and, with ground truth, its best tIoU with an instance
  of the same class (proposals: of any class).
"""
from __future__ import annotations

import os
import re
from collections.abc import Sequence

import numpy as np

#: Font sizes (points): the smallest text is legible when the PNG is shown at 100 %.
LABEL_FONT = 8.5
TICK_FONT = 9
TITLE_FONT = 10
PROPOSAL_COLOUR = '#4a6fa5'
_GAP_PX = 4  # pixels between a bar and its label, and between packed items


def pack_lanes(extents: Sequence[tuple[float, float]], gap: float = 0.0) -> list[int]:
    """First-fit lane of each ``(start, end)`` extent so that no two in a lane overlap.

    Extents are visited by start; each goes into the lowest lane whose last extent ends
    at least ``gap`` before it starts. For intervals this uses the fewest lanes possible
    (interval-graph colouring in order of left endpoints is optimal).

    Args:
        extents: ``(start, end)`` of each item (bar and label together).
        gap: Minimum free space between neighbours of a lane.

    Returns:
        The lane (0 = top) of each extent, in input order.

    Examples:
        >>> pack_lanes([(0, 2), (1, 3), (2.5, 4), (5, 6)])
        [0, 1, 0, 0]
    """
    order = sorted(range(len(extents)), key=lambda i: (extents[i][0], extents[i][1]))
    lane_end: list[float] = []
    lanes = [0] * len(extents)
    for i in order:
        start, end = extents[i]
        for lane, last in enumerate(lane_end):
            if last + gap <= start:
                lanes[i], lane_end[lane] = lane, end
                break
        else:
            lanes[i] = len(lane_end)
            lane_end.append(end)
    return lanes


def place_label(bar: tuple[float, float], width: float, limits: tuple[float, float],
                pad: float) -> tuple[float, str]:
    """Where a label of ``width`` goes next to ``bar``: ``(x, horizontal alignment)``.

    Right of the bar when it fits before ``limits[1]``, else left of it when it fits
    after ``limits[0]``, else inside the bar (centred); all in data units.

    Examples:
        >>> place_label((1.0, 2.0), 3.0, (0.0, 10.0), 0.1)
        (2.1, 'left')
        >>> place_label((8.0, 9.5), 3.0, (0.0, 10.0), 0.1)
        (7.9, 'right')
        >>> place_label((0.5, 9.5), 3.0, (0.0, 10.0), 0.1)
        (5.0, 'center')
    """
    start, end = bar
    if end + pad + width <= limits[1]:
        return end + pad, 'left'
    if start - pad - width >= limits[0]:
        return start - pad, 'right'
    return (start + end) / 2, 'center'


def text_colour_on(colour, alpha: float = 1.0) -> str:
    """``'white'`` or ``'black'``, whichever reads better on a bar of ``colour``.

    The bar is blended over a white background with ``alpha``; its relative luminance
    (ITU-R BT.709 weights) decides.

    Examples:
        >>> text_colour_on((0.1, 0.2, 0.5, 1.0)), text_colour_on((0.1, 0.2, 0.5, 1.0), 0.3)
        ('white', 'black')
    """
    from matplotlib.colors import to_rgb

    red, green, blue = (alpha * c + (1 - alpha) for c in to_rgb(colour))
    return 'white' if 0.2126 * red + 0.7152 * green + 0.0722 * blue < 0.5 else 'black'


def safe_file_name(name: str) -> str:
    """``name`` with every character outside ``[A-Za-z0-9._-]`` replaced by ``_``.

    Examples:
        >>> safe_file_name('v_1:q0 a/b')
        'v_1_q0_a_b'
    """
    cleaned = re.sub(r'[^A-Za-z0-9._-]', '_', str(name)).lstrip('.')
    return cleaned or '_'


def _best_tiou(segment: tuple[float, float], label: str,
               ground_truth: Sequence[tuple[float, float, str]], proposals: bool) -> float:
    from pal_eval.core.tiou import segment_tiou

    candidates = [g[:2] for g in ground_truth if proposals or g[2] == label]
    if not candidates:
        return 0.0
    return float(segment_tiou(segment, np.asarray(candidates, np.float64)).max())


def plot_timeline(ground_truth: Sequence[tuple[float, float, str]] | None,
                  predictions: Sequence[tuple[float, float, str, float]], duration: float, *,
                  out: str | os.PathLike | None = None, ax=None, top_k: int = 10,
                  title: str | None = None, proposals: bool | None = None):
    """Draw ground truth (top lanes) and the ``top_k`` best predictions (one row each).

    Args:
        ground_truth: ``(t_start, t_end, label)`` seconds; ``None``: no ground-truth row.
        predictions: ``(t_start, t_end, label, score)`` seconds; ranked by score here.
        duration: Video duration (x axis extent).
        out: Write the figure there (atomically; png/pdf/svg by suffix) when given.
        ax: Draw into this matplotlib axes instead of a new figure.
        top_k: Predictions to show.
        title: Axes title.
        proposals: Predictions are class-agnostic (their tIoU is taken with any
            instance); default: when they all share one label.

    Returns:
        The matplotlib ``Figure`` (the caller closes it: ``plt.close(fig)``).

    Examples:
        >>> fig = plot_timeline([(1.0, 3.0, 'jump')], [(1.2, 2.9, 'jump', 0.9)], 5.0)
        >>> len(fig.axes[0].collections)  # one bar per row
        2
    """
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    ranked = sorted(predictions, key=lambda p: -p[3])[:top_k]
    truth = list(ground_truth) if ground_truth is not None else []
    if proposals is None:
        proposals = len({p[2] for p in ranked}) <= 1 and (
            not truth or not ranked or ranked[0][2] not in {g[2] for g in truth})
    labels = list(dict.fromkeys([g[2] for g in truth] + [p[2] for p in ranked]))
    palette = plt.get_cmap('tab10')
    colour = {label: palette(i % 10) for i, label in enumerate(labels)}
    if proposals:  # class-agnostic: one neutral colour, never a ground-truth class's
        colour.update({p[2]: PROPOSAL_COLOUR for p in ranked})
    duration = float(duration) if duration and duration > 0 else max(
        [1.0] + [p[1] for p in ranked] + [g[1] for g in truth])

    own_figure = ax is None
    if own_figure:
        fig, ax = plt.subplots(figsize=(10, 1.4 + 0.34 * (len(ranked) + 2)))
    else:
        fig = ax.figure
    ax.set_xlim(0, duration)
    ax.set_xlabel('time (s)', fontsize=TICK_FONT)
    ax.tick_params(labelsize=TICK_FONT)
    if title:
        ax.set_title(title, fontsize=TITLE_FONT, loc='left')
    renderer = fig.canvas.get_renderer()
    font = matplotlib.font_manager.FontProperties(size=LABEL_FONT)

    def text_width(text: str) -> float:  # data units, at the current axes width
        pixels = renderer.get_text_width_height_descent(text, font, ismath=False)[0]
        return pixels * duration / max(ax.bbox.width, 1.0)

    pad = _GAP_PX * duration / max(ax.bbox.width, 1.0)
    # Ground truth: lanes wide enough for bars and their (outside) labels.
    items, extents = [], []
    for t_start, t_end, label in truth:
        width = text_width(label)
        if width + 2 * pad <= t_end - t_start:
            x, align = (t_start + t_end) / 2, 'center'
        else:
            x, align = place_label((t_start, t_end), width, (0, duration), pad)
        low = {'left': x, 'right': x - width, 'center': x - width / 2}[align]
        items.append(((t_start, t_end), (x, align)))
        extents.append((min(t_start, low), max(t_end, low + width)))
    lanes = pack_lanes(extents, gap=pad)
    gt_rows = (max(lanes) + 1) if lanes else (1 if ground_truth is not None else 0)
    rows = gt_rows + len(ranked)
    ax.set_ylim(0, max(rows, 1))
    ticks, tick_labels = [], []
    for ((t_start, t_end), (x, align)), (_, _, label), lane in zip(items, truth, lanes):
        y = rows - 1 - lane
        ax.broken_barh([(t_start, t_end - t_start)], (y + 0.12, 0.76), color=colour[label],
                       edgecolor='black', linewidth=0.6)
        ax.text(x, y + 0.5, label, ha=align, va='center', fontsize=LABEL_FONT, clip_on=True,
                color=text_colour_on(colour[label]) if align == 'center' else 'black')
    if gt_rows:
        ticks.append(rows - gt_rows / 2)
        tick_labels.append('ground truth')
        if ranked:
            ax.axhline(len(ranked), color='0.5', lw=0.8)
    best = max([p[3] for p in ranked] + [1e-12])
    for rank, (t_start, t_end, label, score) in enumerate(ranked):
        y = len(ranked) - 1 - rank
        # Opacity relative to the best shown score (heads' scales differ: BMN's are
        # products of probabilities); the printed number is the score itself.
        alpha = float(np.clip(0.3 + 0.7 * score / best, 0.3, 1.0)) if best > 0 else 0.3
        ax.broken_barh([(t_start, t_end - t_start)], (y + 0.15, 0.7), color=colour[label],
                       alpha=alpha, edgecolor='black', linewidth=0.4)
        text = f'{label} {score:.2f}' if not proposals else f'{score:.2f}'
        if ground_truth is not None:
            text += f'  tIoU {_best_tiou((t_start, t_end), label, truth, proposals):.2f}'
        x, align = place_label((t_start, t_end), text_width(text), (0, duration), pad)
        ax.text(x, y + 0.5, text, ha=align, va='center', fontsize=LABEL_FONT, clip_on=True,
                color=text_colour_on(colour[label], alpha) if align == 'center' else 'black')
        ticks.append(y + 0.5)
        tick_labels.append(f'#{rank + 1}')
    ax.set_yticks(ticks, tick_labels, fontsize=TICK_FONT)
    ax.grid(axis='x', alpha=0.25)
    if out is not None:
        import io

        from pal_eval.io import atomic_write
        from pal_eval.visualization.metric_plots import figure_format

        if own_figure:
            fig.tight_layout()
        image = io.BytesIO()   # rendered first: a failed drawing leaves no half-written file
        fig.savefig(image, format=figure_format(out), dpi=120)
        with atomic_write(out, 'wb') as handle:
            handle.write(image.getvalue())
    return fig

"""Plots of metric results: AR@AN curves, per-tIoU mAP bars, grounding recalls.

Each function takes one or several named series, so ``pal-eval evaluate --plot`` (one
series) and the demo's leaderboard (one series per encoder) draw the same figure.
"""
from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use('Agg')  # files only; no display needed
    import matplotlib.pyplot as plt

    return plt


def figure_format(out: str | os.PathLike) -> str:
    """The image format named by ``out``'s suffix (``png`` when it has none).

    Raises:
        PalEvalError: matplotlib cannot write that format (checked before any work, so
            that a typo never costs a computed result).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from pal_eval.errors import PalEvalError

    suffix = os.path.splitext(str(out))[1].lower().lstrip('.') or 'png'
    supported = FigureCanvasAgg(Figure()).get_supported_filetypes()
    if suffix not in supported:
        raise PalEvalError(f'{out}: cannot draw a .{suffix} image; use one of '
                           f'{", ".join("." + k for k in sorted(supported))}')
    return suffix


def render_figure(fig, fmt: str) -> bytes:
    """The encoded image of ``fig`` (then closed): render first, write later, so that a
    failed drawing never leaves a half-written set of outputs."""
    import io

    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=110)
    _pyplot().close(fig)
    return buffer.getvalue()


def save_figure(fig, out: str | os.PathLike) -> None:
    """Write ``fig`` atomically in the format given by ``out``'s suffix, then close it."""
    from pal_eval.io import atomic_write

    image = render_figure(fig, figure_format(out))
    with atomic_write(out, 'wb') as handle:
        handle.write(image)


def plot_ar_an(curves: Mapping[str, tuple[Sequence[float], Sequence[float], float]], *,
               title: str | None = None, marks: Sequence[int] = (1, 10, 50, 100)):
    """AR@AN curves: ``{name: (avg_proposals, average_recall, auc)}``, fractions in [0, 1].

    With a single curve, AR@n is marked and written at each ``n`` of ``marks`` inside
    the curve's range (read off the curve by linear interpolation).

    Returns:
        The matplotlib ``Figure``.

    Examples:
        >>> fig = plot_ar_an({'pal': ([1, 50, 100], [0.1, 0.5, 0.6], 0.45)})
        >>> fig.axes[0].get_lines()[0].get_label()
        'pal (AUC 45.00)'
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, (avg_proposals, recall, auc) in curves.items():
        ax.plot(avg_proposals, 100 * np.asarray(recall, float),
                label=f'{name} (AUC {100 * auc:.2f})')
        if len(curves) == 1:
            x = np.asarray(avg_proposals, float)
            for n in [m for m in marks if x.min() <= m <= x.max()]:
                value = float(np.interp(n, x, 100 * np.asarray(recall, float)))
                ax.plot([n], [value], 'o', color='black', ms=3)
                ax.annotate(f'AR@{n} {value:.1f}', (n, value), textcoords='offset points',
                            xytext=(4, 4 if value < 15 else -12), fontsize=8)
    ax.set_xlabel('average number of proposals per video')
    ax.set_ylabel('average recall (%)')
    ax.set_title(title or 'AR@AN', fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc='lower right')
    return fig


def plot_map_bars(series: Mapping[str, tuple[Sequence[float], Sequence[float], float]], *,
                  title: str | None = None):
    """Grouped bars of mAP per tIoU threshold: ``{name: (thresholds, mAP, average_mAP)}``.

    Bars carry their values when there are at most two series; the average mAP of a
    single series is a dashed line.

    Returns:
        The matplotlib ``Figure``.

    Examples:
        >>> fig = plot_map_bars({'a': ([0.5, 0.75], [0.4, 0.2], 0.3),
        ...                      'b': ([0.5, 0.75], [0.5, 0.1], 0.3)})
        >>> len(fig.axes[0].patches)
        4
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    names = list(series)
    width = 0.8 / max(len(names), 1)
    for index, name in enumerate(names):
        thresholds, values, average = series[name]
        x = np.arange(len(thresholds)) + (index - (len(names) - 1) / 2) * width
        bars = ax.bar(x, 100 * np.asarray(values, float), width,
                      label=f'{name} (average {100 * average:.2f})')
        if len(names) <= 2:
            ax.bar_label(bars, fmt='%.1f', fontsize=7, padding=1)
        if len(names) == 1:
            ax.axhline(100 * average, color='0.3', ls='--', lw=0.8)
    thresholds = series[names[0]][0] if names else []
    ax.set_xticks(np.arange(len(thresholds)), [f'{t:.2f}' for t in thresholds])
    ax.set_xlabel('tIoU threshold')
    ax.set_ylabel('mAP (%)')
    ax.margins(y=0.12)
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    return fig


def plot_named_values(series: Mapping[str, Mapping[str, float]], ylabel: str = '%', *,
                      title: str | None = None):
    """Grouped bars of named fractions (e.g. grounding ``R@1,IoU=0.5``): ``{name: {metric: v}}``.

    Bars carry their values when there are at most two series.

    Returns:
        The matplotlib ``Figure``.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    names = list(series)
    metrics = list(dict.fromkeys(k for values in series.values() for k in values))
    width = 0.8 / max(len(names), 1)
    for index, name in enumerate(names):
        x = np.arange(len(metrics)) + (index - (len(names) - 1) / 2) * width
        bars = ax.bar(x, [100 * series[name].get(m, np.nan) for m in metrics], width,
                      label=name)
        if len(names) <= 2:
            ax.bar_label(bars, fmt='%.1f', fontsize=7, padding=1)
    ax.set_xticks(np.arange(len(metrics)), metrics, rotation=30, ha='right')
    ax.set_ylabel(ylabel)
    ax.margins(y=0.12)
    if title:
        ax.set_title(title, fontsize=9)
    if len(names) > 1:
        ax.legend(fontsize=8)
    return fig

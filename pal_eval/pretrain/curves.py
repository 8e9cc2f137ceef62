"""Training curves of pretraining runs from their MMEngine logs (``vis_data/scalars.json``).

``python -m pal_eval.pretrain.curves NAME=WORK_DIR ... --out curves.png`` draws, per run,
the frozen-encoder region retrieval next to its chance level (``PretextMonitorHook``),
the contrastive loss, and the positive's accuracy next to *its* chance level.
"""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from pal_eval.errors import PalEvalError


def read_scalars(work_dir: str | os.PathLike) -> list[dict]:
    """Every line of the newest ``*/vis_data/scalars.json`` under ``work_dir``."""
    files = sorted(Path(work_dir).glob('*/vis_data/scalars.json'))
    if not files:
        raise PalEvalError(f'{work_dir}: no */vis_data/scalars.json (not an MMEngine work dir?)')
    return [json.loads(line) for line in files[-1].read_text().splitlines() if line.strip()]


def _series(lines: list[dict], key: str) -> tuple[list[int], list[float]]:
    rows = [(line['step'], line[key]) for line in lines if key in line]
    return [r[0] for r in rows], [r[1] for r in rows]


def plot_curves(runs: dict[str, list[dict]], out: str | os.PathLike) -> None:
    """Retrieval (vs chance), loss and positive accuracy (vs chance) of several runs."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from pal_eval.io import atomic_write

    fig, axes = plt.subplots(1, 3, figsize=(11, 3.1))
    for index, (name, lines) in enumerate(runs.items()):
        colour = f'C{index}'
        steps, values = _series(lines, 'retrieval')
        axes[0].plot(steps, values, 'o-', ms=3, color=colour, label=name)
        loss_key = next(k for k in ('loss_region', 'loss_contrast') if any(k in x for x in lines))
        axes[1].plot(*_series(lines, loss_key), color=colour, lw=1, label=f'{name} ({loss_key})')
        axes[2].plot(*_series(lines, 'pos_acc'), color=colour, lw=1, label=name)
        axes[2].plot(*_series(lines, 'pos_acc_chance'), color=colour, lw=1, ls=':')
    chance = next((x['retrieval_chance'] for lines in runs.values() for x in lines
                   if 'retrieval_chance' in x), None)
    if chance is not None:
        axes[0].axhline(chance, color='grey', ls='--', lw=1, label=f'chance {chance:.3f}')
    axes[0].set(title='region retrieval, frozen encoder', xlabel='iteration', ylim=(0, 1))
    axes[1].set(title='InfoNCE loss', xlabel='iteration')
    axes[2].set(title='positive accuracy (dotted: chance)', xlabel='iteration', ylim=(0, 1))
    for ax in axes:
        ax.legend(fontsize=7)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    with atomic_write(out, 'wb') as handle:
        fig.savefig(handle, format='png', dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('runs', nargs='+', help='NAME=WORK_DIR')
    parser.add_argument('--out', required=True)
    args = parser.parse_args(argv)
    runs = {}
    for item in args.runs:
        name, _, path = item.partition('=')
        runs[name] = read_scalars(path or name)
    plot_curves(runs, args.out)
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())

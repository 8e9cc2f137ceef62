"""``pal-eval synth``: generate the synthetic TAL benchmark, or print its statistics.

Examples::

    pal-eval synth --preset tiny --seed 0 --out work_dirs/synthetic/tiny-seed0
    pal-eval synth --stats work_dirs/synthetic/tiny-seed0
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from pal_eval.errors import PalEvalError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pal-eval synth``."""
    from pal_eval.data.synthetic import PRESETS

    parser.add_argument('--preset', choices=list(PRESETS), default='tiny',
                        help='benchmark size: tiny (CI, seconds), small (demo, < 2 min), '
                             'medium (benchmarks)')
    parser.add_argument('--seed', type=int, default=0,
                        help='master seed; the same seed gives identical output')
    parser.add_argument('--out', type=Path, default=None,
                        help='output folder (default work_dirs/synthetic/<preset>-seed<seed>)')
    parser.add_argument('--force', action='store_true',
                        help='replace an earlier pal-eval synth folder at --out')
    parser.add_argument('--stats', type=Path, metavar='DIR', default=None,
                        help='print class histogram, instance lengths and totals of DIR '
                             'instead of generating')
    parser.add_argument('--quiet', action='store_true', help='no progress bars')


def run(args: argparse.Namespace) -> int:
    """Generate (or describe, with ``--stats``) a synthetic benchmark."""
    from pal_eval.data import synthetic

    if args.stats is not None:
        if not (args.stats / 'annotations' / 'activitynet.json').is_file():
            raise PalEvalError(f'{args.stats} is not a pal-eval synth folder '
                               '(no annotations/activitynet.json)')
        print(synthetic.format_stats(synthetic.benchmark_stats(args.stats)))
        return 0
    out = args.out or Path('work_dirs') / 'synthetic' / f'{args.preset}-seed{args.seed}'
    summary = synthetic.generate(args.preset, args.seed, out, force=args.force,
                                 progress=not args.quiet)
    print(f'wrote {out} in {summary["seconds"]:.1f} s: '
          + json.dumps(summary['counts'], sort_keys=True))
    return 0

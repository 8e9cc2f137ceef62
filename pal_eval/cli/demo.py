"""``pal-eval demo``: the whole pipeline on the synthetic benchmark (``make demo``)."""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``pal-eval demo``."""
    parser.add_argument('--out', default='work_dirs/demo',
                        help='everything goes here; a rerun resumes (default: %(default)s)')
    parser.add_argument('--preset', default='small', choices=('tiny', 'small', 'medium'),
                        help='synthetic benchmark size (default: %(default)s)')
    parser.add_argument('--seed', type=int, default=0, help='synthetic benchmark seed')


def run(args: argparse.Namespace) -> int:
    """Run or resume the demo; print the leaderboard and the files written."""
    from pal_eval.demo import run_demo

    run_demo(args.out, preset=args.preset, seed=args.seed)
    return 0

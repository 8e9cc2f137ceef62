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
    parser.add_argument('--jobs', type=int, default=2,
                        help='stages run at once, one CPU thread each (default: %(default)s)')
    parser.add_argument('--resamples', type=int, default=None,
                        help='bootstrap resamples of the leaderboard intervals (default 1000)')


def run(args: argparse.Namespace) -> int:
    """Run or resume the demo; print the leaderboard and the files written."""
    from pal_eval.demo import run_demo
    from pal_eval.errors import PalEvalError
    from pal_eval.io import check_output_folder

    if args.jobs < 1 or (args.resamples is not None and args.resamples < 2):
        raise PalEvalError('--jobs must be >= 1 and --resamples >= 2')
    # A rerun resumes in its own folder (stage stamps, the benchmark); any other
    # non-empty folder is a user's, and the demo's files would land among theirs.
    check_output_folder('--out', args.out, writer='pal-eval demo',
                        ours=lambda p: (p / '.stages').is_dir()
                        or (p / 'data' / 'meta.json').is_file())
    run_demo(args.out, preset=args.preset, seed=args.seed, jobs=args.jobs,
             resamples=args.resamples)
    return 0

"""``pal-eval check-regression RESULTS.json [...] --baseline baseline.yaml``.

Exit status: 0 when every metric is at or above its bound, 1 when some dropped (each one
is named on its own line), 2 for unreadable or malformed files. Usable in any CI. The
baseline schema is in :mod:`pal_eval.leaderboard.regression`.
"""
from __future__ import annotations

import argparse
import sys

from pal_eval.errors import InputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('results', nargs='+',
                        help='metric JSON(s) written by `pal-eval evaluate --out`; several '
                             'files are merged (a metric present twice is an error)')
    parser.add_argument('--baseline', required=True,
                        help='YAML: metrics: {name: {value, tolerance} | {floor} | number}')


def run(args: argparse.Namespace) -> int:
    from pal_eval.leaderboard.metrics_io import load_metrics
    from pal_eval.leaderboard.regression import check_regression, load_baseline

    bounds = load_baseline(args.baseline)
    merged: dict[str, float] = {}
    for path in args.results:
        for name, value in load_metrics(path).items():
            if name in merged:
                raise InputError(path, 'metric also present in an earlier results file',
                                 field=name)
            merged[name] = value
    failures = check_regression(merged, bounds)
    for failure in failures:
        print(f'REGRESSION {failure.message()}', file=sys.stderr)
    if failures:
        print(f'{len(failures)} of {len(bounds)} metrics below the baseline '
              f'{args.baseline}', file=sys.stderr)
        return 1
    print(f'ok: {len(bounds)} metrics at or above the baseline {args.baseline}')
    return 0

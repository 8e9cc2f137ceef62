"""``pal-eval configs``: where the configs installed with pal-eval are.

The configs travel with the package (``pal_eval/.mim/configs``), so a ``pip install``
user trains without a git checkout::

    mim train mmaction2 "$(pal-eval configs proposal/bmn_feat_1xb4-t64-20e_synthetic.py)"

Without an argument it prints the folder; with glob patterns, each matching config.
"""
from __future__ import annotations

import argparse

from pal_eval.errors import PalEvalError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pal-eval configs``."""
    parser.add_argument('patterns', nargs='*', metavar='PATTERN',
                        help='configs under the folder, glob patterns allowed '
                             '(e.g. "detection/gtad_*_thumos14.py")')


def run(args: argparse.Namespace) -> int:
    """Print the configs folder, or the configs matching each pattern."""
    from pal_eval.io import configs_root

    root = configs_root()
    if not args.patterns:
        print(root)
        return 0
    for pattern in args.patterns:
        matches = sorted(p for p in root.glob(pattern) if p.is_file())
        if not matches:
            raise PalEvalError(f'{root}: no config matches {pattern!r}')
        for path in matches:
            print(path)
    return 0

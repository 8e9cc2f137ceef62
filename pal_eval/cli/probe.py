"""``pal-eval probe FEATURES_DIR --annotations A``: linear probe of extracted features.

Prints foreground/background accuracy and AP, and action-class accuracy, each next to its
chance level, cross-validated by video (see :mod:`pal_eval.extraction.probe`).
"""
from __future__ import annotations

import argparse
import json

from pal_eval.errors import PalEvalError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``pal-eval probe``."""
    parser.add_argument('features', help='feature folder written by pal-eval extract')
    parser.add_argument('--annotations', required=True,
                        help='ground truth (ActivityNet-style JSON, THUMOS14 csv or folder)')
    parser.add_argument('--subset', help='use only this subset of the annotations')
    parser.add_argument('--folds', type=int, default=5, help='GroupKFold folds (by video)')
    parser.add_argument('--max-rows', type=int, default=50_000,
                        help='cap on features used (seeded random subset)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--json', help='also write the result to this JSON file')
    parser.add_argument('--force', action='store_true', help='replace an existing --json file')


def run(args: argparse.Namespace) -> int:
    """Run ``pal-eval probe``."""
    from pal_eval.data.annotations import load_actions
    from pal_eval.data.features import FeatureStore
    from pal_eval.extraction.probe import gather, linear_probe
    from pal_eval.io import check_outputs, write_json

    if args.folds < 2:
        raise PalEvalError('--folds must be >= 2')
    if args.max_rows < 1:
        raise PalEvalError(f'--max-rows must be >= 1, got {args.max_rows}')
    check_outputs([('--json', args.json)], force=args.force, inputs=[args.annotations])
    store = FeatureStore(args.features)
    annotations = load_actions(args.annotations, args.subset)
    data = gather(store, annotations.instances, max_rows=args.max_rows, seed=args.seed)
    result = linear_probe(data, folds=args.folds, seed=args.seed)
    fg = result['foreground']
    print(f'{result["videos"]} videos, {result["features"]} features '
          f'(cross-validated by video, {min(args.folds, result["videos"])} folds)')
    print(f'foreground/background: accuracy {fg["accuracy"]:.3f}, balanced accuracy '
          f'{fg["balanced_accuracy"]:.3f}, AP {fg["ap"]:.3f} (chance AP {fg["chance_ap"]:.3f})')
    if result['class']:
        cls = result['class']
        print(f'action class ({cls["num_classes"]} classes, foreground features): accuracy '
              f'{cls["accuracy"]:.3f} (majority class {cls["chance_accuracy"]:.3f})')
    else:
        print('action class: not probed (needs >= 2 classes over >= 2 videos)')
    if args.json:
        write_json(args.json, {'features_dir': str(args.features), **result})
    print(json.dumps(result))
    return 0

"""``pal-eval evaluate``: score detections, proposals or grounding predictions.

Exact reproductions of the official evaluators (ActivityNet ``eval_detection.py`` /
``eval_proposal.py``, the THUMOS14 MATLAB kit, 2D-TAN ``eval.py``), vectorised; this
command never imports torch or mmaction.

Examples::

    pal-eval evaluate detection --gt activity_net.v1-3.min.json --pred det.json
    pal-eval evaluate detection --preset thumos14 --gt thumos_gt.json --pred det.json \\
        --out metrics.json --plot map.png
    pal-eval evaluate detection --protocol thumos14-matlab \\
        --gt thumos14_test_groundtruth.csv --pred det.json
    pal-eval evaluate proposal --gt activity_net.v1-3.min.json --pred props.json \\
        --plot ar_an.png
    pal-eval evaluate grounding --gt charades_sta_test.txt --pred preds.json
    pal-eval evaluate detection --gt activity_net.v1-3.min.json --pred det.json \\
        --blocked-videos blocked.json     # OpenTAD's 4,728-video protocol

Tables are printed in percent; ``--out`` JSON holds fractions in [0, 1].
"""
from __future__ import annotations

import argparse
import math
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from pal_eval.errors import InputError, PalEvalError

if TYPE_CHECKING:
    import pandas as pd

PRESETS = {'anet': {'subset': 'validation', 'tiou': 'anet'},
           'thumos14': {'subset': 'test', 'tiou': 'thumos14'}}
TABLE_FORMATS = ('text', 'md', 'csv', 'json')


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pal-eval evaluate``."""
    parser.add_argument('task', choices=['detection', 'proposal', 'grounding'],
                        help='what PRED contains')
    parser.add_argument('--gt', type=Path, required=True,
                        help='ground truth: ActivityNet-style JSON (also THUMOS14 CSV / txt '
                             'folder); grounding: canonical JSON, Charades-STA txt or '
                             'ActivityNet Captions JSON')
    parser.add_argument('--pred', type=Path, required=True,
                        help='predictions: ActivityNet submission JSON {"results": ...}')
    parser.add_argument('--preset', choices=list(PRESETS), default='anet',
                        help='defaults for --subset and --tiou-thresholds: anet '
                             '(validation, 0.5:0.95:0.05) or thumos14 (test, 0.3..0.7)')
    parser.add_argument('--protocol', choices=['anet', 'thumos14-matlab'], default='anet',
                        help='detection only: ActivityNet-style (the TAL literature) or the '
                             'official THUMOS14 MATLAB kit (implies --preset thumos14)')
    parser.add_argument('--subset', default=None,
                        help='ground-truth subset (default from --preset; grounding: all)')
    parser.add_argument('--tiou-thresholds', default=None, metavar='T',
                        help='"start:stop:step" (inclusive, e.g. 0.5:0.95:0.05) or a comma '
                             'list (default from --preset)')
    parser.add_argument('--max-avg-proposals', type=float, default=100,
                        help='proposal: x range of the AR@AN curve (default 100)')
    parser.add_argument('--recalls', default='1,5', help='grounding: n of R@n (default 1,5)')
    parser.add_argument('--ious', default='0.3,0.5,0.7',
                        help='grounding: m of IoU=m (default 0.3,0.5,0.7)')
    parser.add_argument('--nms-thresh', type=float, default=0.5,
                        help='grounding: NMS tIoU threshold before top-n (default 0.5)')
    parser.add_argument('--time-precision', choices=['float64', 'float32'], default='float64',
                        help="grounding: moment times as given (float64, default) or as "
                             "2D-TAN's code holds them (float32, for R@5 parity; needs "
                             'durations in --gt)')
    parser.add_argument('--blocked-videos', type=Path, default=None, metavar='FILE',
                        help='detection / proposal: leave these videos out of the ground '
                             'truth and the predictions, as the official ActivityNet '
                             'evaluator does with its blocked videos (a JSON list such as '
                             "OpenTAD's blocked.json, a txt with one id per line, or a CSV "
                             "with a 'video' column); default: every video")
    parser.add_argument('--strict', action='store_true',
                        help='error (instead of a counted warning) on predictions whose '
                             'label / query id is not in the ground truth')
    parser.add_argument('--ci', type=int, nargs='?', const=1000, default=None, metavar='N',
                        help='95%% bootstrap confidence intervals from N resamples of the '
                             'videos (queries for grounding), default 1000; printed and '
                             'written under "ci" in --out')
    parser.add_argument('--out', type=Path, default=None, help='write the metrics as JSON')
    parser.add_argument('--plot', type=Path, default=None,
                        help='draw the AR@AN curve (proposal) or the per-tIoU mAP (detection) '
                             'or R@n bars (grounding) to this image')
    parser.add_argument('--force', action='store_true',
                        help='overwrite existing --out / --plot files')
    parser.add_argument('--format', choices=list(TABLE_FORMATS), default='text',
                        help='how tables are printed: text (default), md (Markdown), csv '
                             '(each table after a "# title" line), json')
    parser.add_argument('--per-class', action='store_true',
                        help='detection: also print the AP of every class at each tIoU '
                             '(their mean over classes is the mAP row)')


def parse_float_list(text: str, option: str) -> list[float]:
    """``'0.5:0.95:0.05'`` (inclusive, = ``np.linspace(0.5, 0.95, 10)``) or ``'0.3,0.5'``.

    Examples:
        >>> parse_float_list('0.3,0.5', '--x')
        [0.3, 0.5]
        >>> len(parse_float_list('0.5:0.95:0.05', '--x'))
        10
    """
    import numpy as np

    try:
        if ':' in text:
            start, stop, step = (float(x) for x in text.split(':'))
            if step <= 0 or stop < start:
                raise ValueError
            count = int(round((stop - start) / step)) + 1
            if abs(start + (count - 1) * step - stop) > 1e-9:
                raise ValueError
            # linspace, as the official default np.linspace(0.5, 0.95, 10), bit for bit
            values = np.linspace(start, stop, count).tolist()
        else:
            values = [float(x) for x in text.split(',') if x.strip()]
    except ValueError:
        raise PalEvalError(f'{option}: cannot parse {text!r} (use start:stop:step or a '
                           'comma list)') from None
    if not values or not all(math.isfinite(v) for v in values):
        raise PalEvalError(f'{option}: cannot parse {text!r}')
    return values


def _thresholds(args: argparse.Namespace, preset: str) -> list[float]:
    from pal_eval.evaluation.detection import ANET_TIOU_THRESHOLDS, THUMOS14_TIOU_THRESHOLDS

    if args.tiou_thresholds is not None:
        values = parse_float_list(args.tiou_thresholds, '--tiou-thresholds')
        if not all(0 < v <= 1 for v in values):
            raise PalEvalError(f'--tiou-thresholds must be in (0, 1], got {values}')
        return values
    return list(ANET_TIOU_THRESHOLDS if PRESETS[preset]['tiou'] == 'anet'
                else THUMOS14_TIOU_THRESHOLDS)


def _check_outputs(args: argparse.Namespace) -> None:
    from pal_eval.io import check_outputs

    if args.pred is not None and args.gt is not None and args.pred.resolve() == \
            args.gt.resolve():
        raise InputError(args.pred, 'the prediction file is the ground-truth file')
    check_outputs([('--out', args.out), ('--plot', args.plot)], force=args.force,
                  inputs=[args.gt, args.pred])
    if args.plot is not None:
        from pal_eval.visualization.metric_plots import figure_format

        figure_format(args.plot)


def _read_actions(args: argparse.Namespace, annotations, with_labels: bool):
    """Read the submission; reconcile the ``v_`` id prefix; report unknown videos."""
    from pal_eval.data.submission import read_action_submission, reconcile_video_prefix

    predictions = read_action_submission(args.pred, with_labels=with_labels)
    if args.blocked_videos is not None:  # the official evaluator drops them from both
        from pal_eval.evaluation.inputs import blocked_video_ids

        ids = blocked_video_ids(args.blocked_videos)
        blocked = predictions['video_id'].isin(ids)
        print(f'note: {args.blocked_videos}: left out {len(ids) // 2} blocked videos '
              f'({int(blocked.sum())} predictions on them)', file=sys.stderr)
        predictions = predictions[~blocked].reset_index(drop=True)
    gt_videos = annotations.instances['video_id'].unique()
    predictions, note = reconcile_video_prefix(predictions, gt_videos)
    if note:
        _warn(f'{args.pred}: {note}')
    outside = ~predictions['video_id'].isin(set(gt_videos))
    if outside.all():
        raise _no_common_ids(args.pred, args.gt, predictions['video_id'], gt_videos, 'video')
    if outside.any():
        print(f'note: {int(outside.sum())} predictions are on '
              f'{predictions.loc[outside, "video_id"].nunique()} videos without ground truth '
              'in the subset (counted as false positives / in the proposal total, as '
              'officially)', file=sys.stderr)
    return predictions


def _no_common_ids(pred_path: Path, gt_path: Path, predicted, expected,
                   kind: str) -> InputError:
    """The error for a submission that shares no id with the ground truth (wrong file,
    wrong subset or another id convention): every number would be 0, silently."""
    def some(ids) -> str:
        unique = list(dict.fromkeys(map(str, ids)))
        return ', '.join(repr(i) for i in unique[:3]) + (', ...' if len(unique) > 3 else '')

    return InputError(pred_path, f'no {kind} id of the predictions is in the ground truth '
                                 f'{gt_path} (predictions: {some(predicted)}; ground truth: '
                                 f'{some(expected)})')


def _warn(message: str) -> None:
    print(f'warning: {message}', file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Evaluate and print the table; write ``--out`` / ``--plot`` when asked."""
    _check_outputs(args)
    # Loader warnings (e.g. segments clipped to the duration) as one 'warning:' line each.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        status = _evaluate(args)
    for warning in caught:
        _warn(str(warning.message))
    return status


def _evaluate(args: argparse.Namespace) -> int:
    if args.blocked_videos is not None and args.task == 'grounding':
        raise PalEvalError('--blocked-videos applies to detection and proposal only')
    if args.per_class and args.task != 'detection':
        raise PalEvalError('--per-class applies to detection only (AP per class)')
    if args.task == 'grounding':
        metrics, table, plot = _run_grounding(args)
    else:
        preset = 'thumos14' if args.protocol == 'thumos14-matlab' else args.preset
        if args.protocol != 'anet' and args.task != 'detection':
            raise PalEvalError('--protocol thumos14-matlab applies to detection only')
        subset = args.subset or PRESETS[preset]['subset']
        thresholds = _thresholds(args, preset)
        if args.task == 'detection':
            metrics, table, plot = _run_detection(args, subset, thresholds)
        else:
            metrics, table, plot = _run_proposal(args, subset, thresholds)
    print(table)
    # Machine-readable tables keep stdout to themselves.
    notes = sys.stderr if args.format in ('csv', 'json') else sys.stdout
    # Everything is computed and drawn before the first file is written: a failure
    # leaves no half-written set of outputs.
    image = _render_plot(plot, args.plot) if args.plot is not None else None
    if args.out is not None:
        from pal_eval.io import write_json

        write_json(args.out, metrics)
        print(f'wrote {args.out}', file=notes)
    if image is not None:
        from pal_eval.io import atomic_write

        with atomic_write(args.plot, 'wb') as handle:
            handle.write(image)
        print(f'wrote {args.plot}', file=notes)
    return 0


def _run_detection(args, subset: str, thresholds: list[float]):
    import pandas as pd

    from pal_eval.evaluation.detection import evaluate_detection
    from pal_eval.evaluation.inputs import load_action_ground_truth
    from pal_eval.evaluation.thumos_matlab import evaluate_thumos14_matlab

    annotations = load_action_ground_truth(args.gt, subset, args.blocked_videos)
    predictions = _read_actions(args, annotations, with_labels=True)
    if args.protocol == 'thumos14-matlab':
        if annotations.ambiguous.empty:
            _warn(f'{args.gt}: no Ambiguous segments in subset {subset!r}; the MATLAB '
                  'protocol drops detections that overlap them, so this result can be '
                  'lower than the official one (the THUMOS14 CSV or txt folder has them)')
        result = evaluate_thumos14_matlab(annotations.instances, predictions,
                                          annotations.ambiguous, thresholds, args.strict)
    else:
        result = evaluate_detection(annotations.instances, predictions, thresholds,
                                    args.strict)
    if result.num_ignored:
        shown = ', '.join(f'{k!r} ({v})' for k, v in list(result.ignored_labels.items())[:5])
        _warn(f'{args.pred}: ignored {result.num_ignored} predictions whose label is not a '
              f'ground-truth class of subset {subset!r}: {shown} (--strict makes this an '
              'error)')
    frame = pd.DataFrame({'tIoU': [f'{t:.2f}' for t in thresholds] + ['average'],
                          'mAP (%)': [100 * v for v in result.mAP] + [100 * result.average_mAP]})
    title = (f'detection mAP ({args.protocol} protocol, subset {subset!r}, '
             f'{len(result.ap_per_class)} classes, {len(predictions)} predictions)')
    blocks = [(title, frame, False)]
    if args.per_class:
        blocks.append((f'AP (%) per class ({len(result.ap_per_class)} classes; the mean of '
                       'each column is the mAP above)', per_class_frame(result), True))
    plot_title = _plot_title('detection mAP', args, subset, args.protocol)
    metrics, table = _with_ci(args, 'detection', result.to_dict(),
                              render_tables(blocks, args.format), annotations, predictions,
                              tiou_thresholds=thresholds)
    return metrics, table, ('detection', result, plot_title)


def _run_proposal(args, subset: str, thresholds: list[float]):
    import pandas as pd

    from pal_eval.evaluation.inputs import load_action_ground_truth
    from pal_eval.evaluation.proposal import DEFAULT_AR_AT, evaluate_proposals

    if not (math.isfinite(args.max_avg_proposals) and args.max_avg_proposals > 0):
        raise PalEvalError(f'--max-avg-proposals must be a positive number, got '
                           f'{args.max_avg_proposals}')
    annotations = load_action_ground_truth(args.gt, subset, args.blocked_videos)
    proposals = _read_actions(args, annotations, with_labels=False)
    ar_at = [n for n in DEFAULT_AR_AT if n <= args.max_avg_proposals
             and float(n * 100 / args.max_avg_proposals).is_integer()]
    try:
        result = evaluate_proposals(annotations.instances, proposals,
                                    args.max_avg_proposals, thresholds, ar_at)
    except PalEvalError as exc:   # e.g. no proposal kept: say which file
        raise InputError(args.pred, str(exc)) from None
    row = {f'AR@{n}': 100 * v for n, v in result.ar_at.items()}
    row['AUC'] = 100 * result.auc
    title = (f'proposal AR@AN (subset {subset!r}, {len(thresholds)} tIoU thresholds '
             f'{thresholds[0]:.2f}..{thresholds[-1]:.2f}, {len(proposals)} proposals)')
    plot_title = _plot_title('proposal AR@AN', args, subset, 'anet')
    metrics, table = _with_ci(args, 'proposal', result.to_dict(),
                              render_tables([(title, pd.DataFrame([row]), False)], args.format),
                              annotations, proposals, max_avg_proposals=args.max_avg_proposals,
                              tiou_thresholds=thresholds, ar_at=ar_at)
    return metrics, table, ('proposal', result, plot_title)


def _run_grounding(args):
    import pandas as pd

    from pal_eval.data.submission import read_grounding_predictions
    from pal_eval.evaluation.grounding import evaluate_grounding
    from pal_eval.evaluation.inputs import load_grounding_ground_truth

    recalls, ious = _grounding_options(args)
    queries = load_grounding_ground_truth(args.gt, args.subset)
    predictions = read_grounding_predictions(args.pred)
    if not predictions['query_id'].isin(set(queries['query_id'].astype(str))).any():
        raise _no_common_ids(args.pred, args.gt, predictions['query_id'],
                             queries['query_id'], 'query')
    result = evaluate_grounding(queries, predictions, recalls, ious, args.nms_thresh,
                                args.strict, time_precision=args.time_precision)
    if result.num_unmatched_predictions:
        _warn(f'{args.pred}: ignored {result.num_unmatched_predictions} predictions of '
              f'{len(result.unknown_queries)} query ids not in the ground truth '
              f'({", ".join(result.unknown_queries[:5])}) (--strict makes this an error)')
    frame = pd.DataFrame({f'IoU={m:g}': [100 * result.recall[(n, m)] for n in recalls]
                          for m in ious}, index=[f'R@{n}' for n in recalls])
    title = f'grounding recall (%) over {result.num_queries} queries, NMS {args.nms_thresh}'
    miou = pd.DataFrame({'mIoU': [100 * result.miou]})
    table = render_tables([(title, frame, True), ('mean tIoU of the top-1 (%)', miou, False)],
                          args.format)
    plot_title = _plot_title(f'grounding ({result.num_queries} queries, NMS {args.nms_thresh})',
                             args, args.subset, '2D-TAN')
    metrics, table = _with_ci(args, 'grounding', result.to_dict(), table, queries,
                              predictions, recalls=recalls, ious=ious,
                              nms_threshold=args.nms_thresh)
    return metrics, table, ('grounding', result, plot_title)


def _with_ci(args, task: str, metrics: dict, table: str, truth, predictions, **options):
    """With ``--ci``: add the bootstrap intervals to the metrics and the printed table
    (a text block; in ``--format json`` a ``ci`` key of the printed object)."""
    if args.ci is None:
        return metrics, table
    import json

    from pal_eval.evaluation.bootstrap import interval_report

    if getattr(args, 'protocol', 'anet') != 'anet':
        raise PalEvalError('--ci is available for the anet protocol only')
    report = interval_report(task, truth, predictions, resamples=args.ci, **options)
    if args.format == 'json':
        table = json.dumps({**json.loads(table), 'ci': report['json']}, indent=1)
    elif args.format == 'csv':
        table += '\n' + '\n'.join(f'# {line}' for line in report['text'].splitlines())
    else:
        table += '\n\n' + report['text']
    return {**metrics, 'ci': report['json']}, table


def per_class_frame(result) -> pd.DataFrame:
    """AP (%) of each class (rows, ground-truth order) at each tIoU, and their mean."""
    import pandas as pd

    columns = [f'{t:.2f}' for t in result.tiou_thresholds]
    frame = pd.DataFrame.from_dict({name: [100 * v for v in values]
                                    for name, values in result.ap_per_class.items()},
                                   orient='index', columns=columns)
    frame['average'] = frame[columns].mean(axis=1)
    frame.index.name = 'class'
    return frame


def render_tables(blocks, fmt: str) -> str:
    """Tables ``[(title, DataFrame, keep index)]`` as text, Markdown, CSV or JSON (percent).

    Examples:
        >>> import pandas as pd
        >>> print(render_tables([('t', pd.DataFrame({'a': [1.234]}), False)], 'csv'))
        # t
        a
        1.23
    """
    import json

    parts = []
    for title, frame, index in blocks:
        rounded = frame.round(2)
        if fmt == 'md':
            parts.append(f'**{title}**\n\n' + rounded.to_markdown(index=index))
        elif fmt == 'csv':
            parts.append(f'# {title}\n' + rounded.to_csv(index=index).rstrip('\n'))
        elif fmt == 'json':
            records = (rounded.reset_index() if index else rounded).to_dict('records')
            parts.append({'title': title, 'rows': records})
        else:
            parts.append(title + '\n' + frame.to_string(
                index=index, float_format=lambda v: f'{v:.2f}', na_rep=''))
    if fmt == 'json':
        return json.dumps({'tables': parts}, indent=1)
    return '\n\n'.join(parts)


def _plot_title(what: str, args: argparse.Namespace, subset: str | None, protocol: str) -> str:
    where = f'{Path(args.gt).name}' + (f', subset {subset!r}' if subset else '')
    return f'{what}: {where}, {protocol} protocol\npredictions: {Path(args.pred).name}'


def _grounding_options(args) -> tuple[list[int], list[float]]:
    """``--recalls`` (positive integers), ``--ious`` in [0, 1), a finite ``--nms-thresh``."""
    values = parse_float_list(args.recalls, '--recalls')
    if not all(v >= 1 and float(v).is_integer() for v in values):
        raise PalEvalError(f'--recalls must be positive integers, got {args.recalls!r}')
    ious = parse_float_list(args.ious, '--ious')
    if not all(0 <= m < 1 for m in ious):
        raise PalEvalError(f'--ious must be in [0, 1) (a hit needs IoU > m), got {ious}')
    if not (math.isfinite(args.nms_thresh) and args.nms_thresh >= 0):
        raise PalEvalError(f'--nms-thresh must be a number >= 0 (>= 1 disables NMS), got '
                           f'{args.nms_thresh}')
    return [int(v) for v in values], ious


def _render_plot(plot, path: Path) -> bytes:
    """Draw one result with the shared metric plots (matplotlib Agg) into image bytes."""
    from pal_eval.visualization.metric_plots import (
        figure_format,
        plot_ar_an,
        plot_map_bars,
        plot_named_values,
        render_figure,
    )

    kind, result, title = plot
    if kind == 'proposal':
        fig = plot_ar_an({'proposals': (result.avg_proposals, result.average_recall,
                                        result.auc)}, title=title)
    elif kind == 'detection':
        fig = plot_map_bars({'detections': (result.tiou_thresholds, result.mAP,
                                            result.average_mAP)}, title=title)
    else:
        fig = plot_named_values({'grounding': result.to_dict()}, title=title)
    return render_figure(fig, figure_format(path))

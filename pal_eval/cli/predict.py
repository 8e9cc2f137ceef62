"""``pal-eval predict``: actions (or sentence moments) in any video, no annotation file.

Examples::

    # proposals / detections of a BMN or G-TAD checkpoint, with one timeline PNG per video
    pal-eval predict my_videos/ --encoder backbone.pth \\
        --head work_dirs/bmn/best_AUC_epoch_6.pth --out detections.json --timeline figs/
    # 2D-TAN: where does each sentence happen?
    pal-eval predict clip.mp4 --encoder backbone.pth --head work_dirs/tan2d/epoch_4.pth \\
        --query "a red circle moves to the left" --out moments.json

The JSON is an ActivityNet submission (proposals, or detections when class scores are
available), or grounding predictions for 2D-TAN, in seconds: ``pal-eval evaluate``
scores it against ground truth and ``pal-eval visualize predictions`` draws it.
See :mod:`pal_eval.predict` for where every setting comes from.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pal_eval.errors import PalEvalError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``pal-eval predict``."""
    parser.add_argument('videos', nargs='+',
                        help='video files, folders of videos, or list files (one path per line)')
    parser.add_argument('--encoder', required=True,
                        help='exported backbone / PAL or MoCoV2 checkpoint (as for extract)')
    parser.add_argument('--head', required=True,
                        help='trained BMN, G-TAD or 2D-TAN checkpoint (mim train output)')
    parser.add_argument('--out', type=Path, required=True, help='prediction JSON to write')
    parser.add_argument('--query', action='append', default=None, metavar='SENTENCE',
                        help='2D-TAN: a sentence to ground in every video (repeatable)')
    parser.add_argument('--queries', type=Path, default=None, metavar='FILE',
                        help='2D-TAN: queries from a grounding annotation file (canonical '
                             'JSON, Charades-STA txt, ActivityNet Captions); their ids are kept')
    parser.add_argument('--config', type=Path, default=None,
                        help='head config (default: the one stored in the checkpoint)')
    parser.add_argument('--extract-config', type=Path, default=None,
                        help='extraction config (default: the sampling of the head\'s training '
                             'features, from their meta.json, else one clip every 4 frames)')
    parser.add_argument('--class-scores', type=Path, default=None,
                        help='detection: video-level class scores of these videos '
                             '({"results": {video: {class: score}}})')
    parser.add_argument('--timeline', type=Path, default=None, metavar='DIR',
                        help='also draw one timeline PNG per video (per query) into DIR')
    parser.add_argument('--top-k', type=int, default=10,
                        help='predictions per video printed and drawn (default 10)')
    parser.add_argument('--features', type=Path, default=None, metavar='DIR',
                        help='keep the extracted features in DIR (a rerun reuses them)')
    parser.add_argument('--device', default='cpu', help='cpu or cuda[:N]')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--workers', type=int, default=2, help='decoding processes')
    parser.add_argument('--force', action='store_true',
                        help='overwrite --out and existing timeline PNGs')
    parser.add_argument('--quiet', action='store_true', help='no progress bars, no summary')


def _check_outputs(args: argparse.Namespace) -> None:
    from pal_eval.extraction.folder import check_out_folder
    from pal_eval.io import check_outputs

    if args.out.suffix.lower() != '.json':
        raise PalEvalError(f'--out must name a .json file, got {args.out}')
    check_outputs([('--out', args.out)], force=args.force,
                  inputs=[args.encoder if args.encoder != 'random' else None, args.head,
                          args.queries, args.class_scores, args.config, args.extract_config])
    check_out_folder(args.features)
    if args.query is not None and args.queries is not None:
        raise PalEvalError('give --query or --queries, not both')
    if args.top_k < 1:
        raise PalEvalError('--top-k must be >= 1')
    if args.timeline is not None and args.timeline.exists() and not args.timeline.is_dir():
        raise PalEvalError(f'--timeline {args.timeline}: exists and is not a folder')


def run(args: argparse.Namespace) -> int:
    """Predict, write the JSON (and timelines), print the best predictions."""
    _check_outputs(args)
    log = (lambda line: None) if args.quiet else (lambda line: print(line, file=sys.stderr))
    queries = args.query
    if args.queries is not None:
        from pal_eval.data.datasets.grounding import read_grounding_queries

        queries = read_grounding_queries(args.queries)
    from pal_eval.io import write_json
    from pal_eval.predict import Predictor, predictions_json

    predictor = Predictor(args.encoder, args.head, config=args.config,
                          extract_config=args.extract_config, class_scores=args.class_scores,
                          device=args.device, batch_size=args.batch_size,
                          num_workers=args.workers, features_dir=args.features,
                          progress=not args.quiet, log=log)
    predictions = predictor.predict(args.videos, queries)
    figures = []
    if args.timeline is not None:
        figures = _timelines(predictions, args, predictor)
    write_json(args.out, predictions_json(predictions, predictor.describe()), indent=None)
    if not args.quiet:
        _summary(predictions, args.top_k, predictor.task)
    print(f'wrote {args.out} ({predictor.task}, {len(predictions)} '
          f'{"queries" if predictor.task == "grounding" else "videos"}, '
          f'{sum(len(p.scores) for p in predictions)} segments)')
    if figures:
        print(f'wrote {len(figures)} timeline(s) under {args.timeline}')
    return 0


def _summary(predictions, top_k: int, task: str) -> None:
    for p in predictions:
        head = (f'{p.query_id} {p.sentence!r}' if task == 'grounding'
                else f'{p.video_id} ({p.duration:.1f} s)')
        best = ', '.join(f'[{s:.1f}, {e:.1f}]' + (f' {label}' if label else '') + f' {score:.2f}'
                         for s, e, label, score in p.top(min(top_k, 3)))
        print(f'  {head}: {best or "nothing"}')


def _timelines(predictions, args: argparse.Namespace, predictor) -> list[Path]:
    """One PNG per video (per query), refusing to overwrite unless ``--force``."""
    from pal_eval.io import check_outputs
    from pal_eval.visualization.metric_plots import _pyplot
    from pal_eval.visualization.timeline import plot_timeline, safe_file_name

    targets = [args.timeline / f'{safe_file_name(p.query_id or p.video_id)}.png'
               for p in predictions]
    check_outputs([('--timeline', t) for t in targets], force=args.force)
    head = f'{predictor.head_type} ({Path(args.head).name})'
    for p, target in zip(predictions, targets):
        subject = f'{p.video_id}: {p.sentence!r}' if p.sentence else p.video_id
        fig = plot_timeline(None, [(s, e, label or 'proposal', score)
                                   for s, e, label, score in p.top(args.top_k)],
                            p.duration, out=target, top_k=args.top_k,
                            title=f'{subject}\npredicted by {head}, encoder '
                                  f'{Path(str(predictor.encoder_meta.get("checkpoint"))).name}')
        _pyplot().close(fig)
    return targets

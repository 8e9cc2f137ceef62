"""Timelines of any prediction file against optional ground truth (``visualize predictions``).

Reads ActivityNet-format detection or proposal submissions (ours, mmaction2's, the
official sample submission...) and the grounding predictions of ``pal-eval predict``;
ground truth in any format ``pal-eval evaluate`` reads. One panel per video (per
query), titled with the video, the ground-truth file and subset, and the prediction
file, drawn by :func:`pal_eval.visualization.timeline.plot_timeline`.
"""
from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pal_eval.errors import InputError, PalEvalError


@dataclass
class TimelinePanel:
    """One video (or query) to draw."""

    name: str                       # video id, or query id
    duration: float
    ground_truth: list | None       # [(t_start, t_end, label)] or None (no ground truth)
    predictions: list               # [(t_start, t_end, label, score)]
    title: str
    proposals: bool                 # class-agnostic predictions


def _task_of(data: dict, task: str) -> str:
    if task != 'auto':
        return task
    if isinstance(data, dict) and isinstance(data.get('pal_eval'), dict) and \
            'queries' in data['pal_eval']:
        return 'grounding'
    results = data.get('results') if isinstance(data, dict) else None
    if isinstance(results, dict):
        for items in results.values():
            if isinstance(items, list) and items and isinstance(items[0], dict):
                return 'detection' if 'label' in items[0] else 'proposal'
    return 'proposal'  # let the reader report what is wrong with the file


def timeline_panels(pred_path: str | os.PathLike, *, gt_path: str | os.PathLike | None = None,
                    subset: str | None = None, videos: Sequence[str] | None = None,
                    num_videos: int = 3, task: str = 'auto') -> list[TimelinePanel]:
    """The panels to draw for a prediction file.

    Args:
        pred_path: Prediction JSON (``{"results": ...}``).
        gt_path: Optional ground truth (ActivityNet-style JSON, THUMOS14 CSV / folder;
            grounding: canonical JSON, Charades-STA txt, ActivityNet Captions).
        subset: Ground-truth subset (default: every video / query).
        videos: Video (grounding: query) ids to draw; default the ``num_videos`` with
            the most ground-truth instances, or the first ones of the file.
        num_videos: See ``videos``.
        task: ``'auto'`` (from the file), ``'detection'``, ``'proposal'`` or ``'grounding'``.

    Raises:
        InputError: unreadable or malformed files (naming file and field).
        PalEvalError: a requested video that is in neither file.
    """
    from pal_eval.io import read_json

    pred_path = Path(pred_path)
    data = read_json(pred_path)
    task = _task_of(data, task)
    if task == 'grounding':
        return _grounding_panels(pred_path, data, gt_path, subset, videos, num_videos)
    from pal_eval.data.submission import parse_action_submission, reconcile_video_prefix

    predictions = parse_action_submission(pred_path, data, with_labels=task == 'detection')
    durations = dict((data.get('pal_eval') or {}).get('durations') or {})
    gt = None
    if gt_path is not None:
        from pal_eval.evaluation.inputs import load_action_ground_truth

        gt = load_action_ground_truth(gt_path, subset)
        predictions, _ = reconcile_video_prefix(predictions, list(gt.videos))
    by_video = dict(tuple(predictions.groupby('video_id', sort=False)))
    chosen = _choose(list(by_video), gt, videos, num_videos, pred_path)
    source = f'predictions: {pred_path.name}' + _made_by(data)
    where = ('no ground truth' if gt is None else
             f'ground truth: {Path(gt_path).name}' + (f', subset {subset!r}' if subset else ''))
    panels = []
    for video in chosen:
        rows = by_video.get(video)
        predicted = [] if rows is None else list(zip(
            rows['t_start'], rows['t_end'],
            rows['label'] if task == 'detection' else ['proposal'] * len(rows), rows['score']))
        truth = None
        if gt is not None:
            mine = gt.instances[gt.instances['video_id'] == video]
            truth = list(zip(mine['t_start'], mine['t_end'], mine['label']))
        duration, known = _duration(video, gt, durations, predicted, truth)
        length = f'{duration:.1f} s' if known else 'duration unknown: axis to the last end'
        panels.append(TimelinePanel(
            video, duration, truth, predicted,
            f'{video} ({length}) · {where} · {source} ({len(predicted)} {task}s)',
            proposals=task == 'proposal'))
    return panels


def _made_by(data: dict) -> str:
    """`` by <head> (<checkpoint>)`` for files written by ``pal-eval predict``."""
    made = data.get('pal_eval') if isinstance(data, dict) else None
    if not isinstance(made, dict) or not made.get('head_type'):
        return ''
    return f' by {made["head_type"]} ({Path(str(made.get("head"))).name})'


def _choose(predicted: list[str], gt, videos, num_videos: int, pred_path: Path) -> list[str]:
    if videos:
        known = set(predicted) | (set(gt.videos) if gt is not None else set())
        unknown = [v for v in videos if v not in known]
        if unknown:
            raise PalEvalError(f'--video {unknown[0]!r}: not in {pred_path}'
                               + (' nor in the ground truth' if gt is not None else ''))
        return list(videos)
    if gt is None:
        return predicted[:num_videos]
    counts = gt.instances['video_id'].value_counts()
    both = [v for v in counts.index if v in set(predicted)]
    if not both:
        raise InputError(pred_path, 'no predicted video is in the ground truth (wrong file '
                         'or --subset?)', field='results')
    return both[:num_videos]


def _duration(video: str, gt, durations: dict, predicted: list, truth: list | None
              ) -> tuple[float, bool]:
    """``(duration, known)``: from the ground truth, the prediction file, else the last end."""
    if gt is not None and video in gt.videos and math.isfinite(gt.videos[video].duration):
        return float(gt.videos[video].duration), True
    if video in durations:
        return float(durations[video]), True
    ends = [p[1] for p in predicted] + [g[1] for g in truth or []]
    return (float(max(ends)) if ends else 1.0), False


def _grounding_panels(pred_path: Path, data: dict, gt_path, subset, queries, count):
    from pal_eval.data.submission import parse_grounding_predictions

    predictions = parse_grounding_predictions(pred_path, data)
    info = dict((data.get('pal_eval') or {}).get('queries') or {})
    gt = None
    if gt_path is not None:
        from pal_eval.evaluation.inputs import load_grounding_ground_truth

        gt = load_grounding_ground_truth(gt_path, subset).set_index('query_id')
        for query_id, row in gt.iterrows():
            info.setdefault(str(query_id), {'video': row['video_id'],
                                            'sentence': row['sentence'],
                                            'duration': row['duration']})
    by_query = dict(tuple(predictions.groupby('query_id', sort=False)))
    chosen = list(queries) if queries else list(by_query)[:count]
    unknown = [q for q in chosen if q not in by_query]
    if unknown:
        raise PalEvalError(f'--video {unknown[0]!r}: no query of that id in {pred_path}')
    panels = []
    for query_id in chosen:
        rows = by_query[query_id]
        meta = info.get(query_id, {})
        predicted = list(zip(rows['t_start'], rows['t_end'], ['moment'] * len(rows),
                             rows['score']))
        truth = None
        if gt is not None and query_id in gt.index:
            row = gt.loc[query_id]
            truth = [(float(row['t_start']), float(row['t_end']), 'query')]
        duration = float(meta.get('duration') or max(p[1] for p in predicted))
        sentence = meta.get('sentence')
        panels.append(TimelinePanel(
            query_id, duration, truth, predicted,
            f'{meta.get("video", "?")}: {sentence!r} · predictions: {pred_path.name}'
            f'{_made_by(data)}' if sentence else
            f'query {query_id} · predictions: {pred_path.name}{_made_by(data)}',
            proposals=True))
    return panels


def is_image_path(out: str | os.PathLike) -> bool:
    """Whether ``out`` names one image file (a suffix, not an existing folder) rather than
    a folder of per-video PNGs; an image whose format matplotlib cannot write is an error.

    Raises:
        PalEvalError: a suffix that is no image format (``fig.banana``).
    """
    from pal_eval.visualization.metric_plots import figure_format

    out = Path(out)
    if out.is_dir() or not out.suffix:
        return False
    figure_format(out)
    return True


def draw_timelines(panels: Sequence[TimelinePanel], out: str | os.PathLike, *, top_k: int = 10,
                   overwrite: bool = False) -> list[Path]:
    """Draw the panels: stacked in one figure when ``out`` is an image file, else one
    ``<id>.png`` per panel in the folder ``out``. Written atomically; existing files
    are refused unless ``overwrite``.

    Returns:
        The files written.
    """
    from pal_eval.io import check_outputs
    from pal_eval.visualization.metric_plots import _pyplot, save_figure
    from pal_eval.visualization.timeline import plot_timeline, safe_file_name

    out = Path(out)
    single = is_image_path(out)
    targets = [out] if single else [out / f'{safe_file_name(p.name)}.png' for p in panels]
    check_outputs([('--out', t) for t in targets], force=overwrite)
    if not single:
        for panel, target in zip(panels, targets):
            _pyplot().close(plot_timeline(panel.ground_truth, panel.predictions,
                                          panel.duration, out=target, top_k=top_k,
                                          title=_wrap(panel.title),
                                          proposals=panel.proposals))
        return targets
    heights = [2.2 + 0.34 * (min(top_k, len(p.predictions)) + (3 if p.ground_truth else 0))
               for p in panels]
    fig, axes = _pyplot().subplots(len(panels), 1, figsize=(10, sum(heights)), squeeze=False,
                                   gridspec_kw={'height_ratios': heights})
    for ax, panel in zip(axes[:, 0], panels):
        plot_timeline(panel.ground_truth, panel.predictions, panel.duration, ax=ax,
                      top_k=top_k, title=_wrap(panel.title), proposals=panel.proposals)
    save_figure(fig, out)
    return targets


def _wrap(title: str, width: int = 110) -> str:
    """Break a long title at its ``·`` separators so it stays inside the figure."""
    lines, line = [], ''
    for part in title.split(' · '):
        candidate = f'{line} · {part}' if line else part
        if line and len(candidate) > width:
            lines.append(line)
            candidate = part
        line = candidate
    return '\n'.join(lines + [line])

"""``make demo``: the whole pipeline on the synthetic benchmark, then a leaderboard and plots.

Stages (each resumable; a rerun skips what is done):

1. ``pal-eval synth`` (``small`` preset by default) under ``<out>/data``;
2. the synthetic leaderboard plan (:func:`pal_eval.leaderboard.plan.synthetic_spec`):
   pretrain PAL and MoCoV2, export them and a random-init encoder, extract features
   with each, train BMN / G-TAD / 2D-TAN on each feature set, evaluate;
3. a report: ``leaderboard.md`` / ``leaderboard.csv`` (encoders x metrics), AR@AN curves,
   per-tIoU mAP bars, grounding recalls, a ground-truth vs prediction timeline and the
   clip-similarity maps of the three encoders.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pal_eval.io import atomic_write, read_json

#: (task, metric name in the metrics JSON, column title) of the leaderboard
LEADERBOARD_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ('proposal', 'AR@10', 'BMN AR@10'),
    ('proposal', 'AR@100', 'BMN AR@100'),
    ('proposal', 'AUC', 'BMN AUC'),
    ('detection', 'mAP@0.5', 'G-TAD mAP@0.5'),
    ('detection', 'average_mAP', 'G-TAD mAP@AVG'),
    ('grounding', 'R@1,IoU=0.5', '2D-TAN R@1,IoU=0.5'),
    ('grounding', 'R@5,IoU=0.5', '2D-TAN R@5,IoU=0.5'),
    ('grounding', 'mIoU', '2D-TAN mIoU'),
)


@dataclass
class DemoReport:
    """What the demo wrote."""

    leaderboard: pd.DataFrame
    files: dict[str, Path] = field(default_factory=dict)


def leaderboard_table(rows: list[Mapping], results: Mapping[str, str]) -> pd.DataFrame:
    """Encoders x headline metrics (percent) from the rows' metrics JSON files.

    Args:
        rows: Spec rows (``id``, ``encoder``, ``task``).
        results: Row id -> metrics.json path.

    Returns:
        One row per encoder, one column per :data:`LEADERBOARD_COLUMNS` entry (NaN when
        a row has no result).
    """
    from pal_eval.leaderboard.metrics_io import load_metrics

    table: dict[str, dict[str, float]] = {}
    for row in rows:
        path = results.get(row['id'])
        if path is None or not Path(path).is_file():
            continue
        flat = load_metrics(path)
        line = table.setdefault(row['encoder'], {})
        for task, metric, title in LEADERBOARD_COLUMNS:
            if task == row['task'] and metric in flat:
                line[title] = 100 * flat[metric]
    frame = pd.DataFrame.from_dict(table, orient='index')
    frame = frame.reindex(columns=[title for _, _, title in LEADERBOARD_COLUMNS])
    frame.index.name = 'encoder'
    return frame


def write_report(out: Path, rows: list[Mapping], results: Mapping[str, str], *,
                 data_dir: Path, feature_dirs: Mapping[str, str],
                 backbones: Mapping[str, str], extract_config: str,
                 log: Callable[[str], None] = print) -> DemoReport:
    """Write the leaderboard (markdown, CSV) and the plots under ``out``."""
    from pal_eval.visualization.metric_plots import (
        plot_ar_an,
        plot_map_bars,
        plot_named_values,
        save_figure,
    )

    frame = leaderboard_table(rows, results)
    report = DemoReport(frame)
    with atomic_write(out / 'leaderboard.md') as handle:
        handle.write(frame.round(2).to_markdown() + '\n')
    with atomic_write(out / 'leaderboard.csv') as handle:
        frame.round(4).to_csv(handle)
    report.files.update(leaderboard=out / 'leaderboard.md', leaderboard_csv=out / 'leaderboard.csv')

    by_task: dict[str, dict[str, dict]] = {}
    for row in rows:
        path = results.get(row['id'])
        if path and Path(path).is_file():
            by_task.setdefault(row['task'], {})[row['encoder']] = read_json(path)
    if 'proposal' in by_task:
        curves = {name: (m['curve']['avg_proposals'], m['curve']['average_recall'], m['AUC'])
                  for name, m in by_task['proposal'].items()}
        save_figure(plot_ar_an(curves), out / 'ar_an_curves.png')
        report.files['ar_an_curves'] = out / 'ar_an_curves.png'
    if 'detection' in by_task:
        series = {name: (m['tiou_thresholds'], m['mAP'], m['average_mAP'])
                  for name, m in by_task['detection'].items()}
        save_figure(plot_map_bars(series), out / 'map_per_tiou.png')
        report.files['map_per_tiou'] = out / 'map_per_tiou.png'
    if 'grounding' in by_task:
        series = {name: {k: v for k, v in m.items() if isinstance(v, (int, float))}
                  for name, m in by_task['grounding'].items()}
        save_figure(plot_named_values(series), out / 'grounding_recall.png')
        report.files['grounding_recall'] = out / 'grounding_recall.png'

    detection_row = next((r for r in rows if r['task'] == 'detection'
                          and r['encoder'] == 'pal'), None)
    if detection_row is not None:
        predictions = Path(results[detection_row['id']]).parents[2] / 'heads' / \
            detection_row['id'] / 'predictions.json'
        if predictions.is_file():
            report.files['timeline'] = _timeline(out / 'timeline.png', data_dir, predictions)
    try:
        report.files['similarity'] = _similarity(out / 'similarity.png', data_dir, backbones,
                                                 extract_config)
    except Exception as exc:  # a figure must not sink the whole demo; say why
        log(f'similarity maps skipped: {exc}')
    return report


def _timeline(out: Path, data_dir: Path, predictions: Path, videos: int = 3) -> Path:
    """GT vs the best G-TAD detections of the PAL encoder on a few validation videos."""
    from pal_eval.data.annotations.activitynet import load_activitynet
    from pal_eval.data.submission import read_action_submission
    from pal_eval.visualization.metric_plots import _pyplot, save_figure
    from pal_eval.visualization.timeline import plot_timeline

    gt = load_activitynet(data_dir / 'annotations' / 'activitynet.json', subset='validation')
    predicted = read_action_submission(predictions)
    busiest = gt.instances['video_id'].value_counts().index[:videos]
    fig, axes = _pyplot().subplots(len(busiest), 1, figsize=(9, 2.6 * len(busiest)))
    for ax, video in zip(list(getattr(axes, 'flat', [axes])), busiest):
        truth = gt.instances[gt.instances['video_id'] == video]
        mine = predicted[predicted['video_id'] == video]
        plot_timeline(list(zip(truth['t_start'], truth['t_end'], truth['label'])),
                      list(zip(mine['t_start'], mine['t_end'], mine['label'], mine['score'])),
                      gt.videos[video].duration, ax=ax, top_k=5,
                      title=f'{video}: ground truth vs PAL + G-TAD')
    save_figure(fig, out)
    return out


def _similarity(out: Path, data_dir: Path, backbones: Mapping[str, str],
                extract_config: str) -> Path:
    """Clip-similarity maps (PAL supplementary Figs 1-4) of every encoder on one video."""
    import subprocess
    import sys

    from pal_eval.data.annotations.activitynet import load_activitynet

    gt = load_activitynet(data_dir / 'annotations' / 'activitynet.json', subset='validation')
    lengths = (gt.instances['t_end'] - gt.instances['t_start']) / \
        gt.instances['video_id'].map(lambda v: gt.videos[v].duration)
    # An instance about a third of its video long: room for background on both sides.
    chosen = (lengths - 0.3).abs().idxmin()
    video = gt.instances.loc[chosen, 'video_id']
    in_video = gt.instances[gt.instances['video_id'] == video].sort_values('t_start', kind='stable')
    instance = list(in_video.index).index(chosen)  # the CLI counts in start-time order
    command = [sys.executable, '-m', 'pal_eval.cli', 'visualize', 'similarity', extract_config,
               '--video', str(data_dir / 'videos' / f'{video}.mp4'),
               '--annotation', str(data_dir / 'annotations' / 'activitynet.json'),
               '--instance', str(instance), '--out', str(out), '--overwrite']
    for name, path in backbones.items():
        command += ['--checkpoint', str(path), '--name', name]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError((result.stderr or result.stdout).strip().splitlines()[-1])
    return out


def run_demo(out: str | os.PathLike, *, preset: str = 'small', seed: int = 0,
             log: Callable[[str], None] = print) -> DemoReport:
    """Run (or resume) the demo under ``out`` and return what it wrote."""
    from pal_eval.data.synthetic import generate
    from pal_eval.leaderboard.plan import build_plan, synthetic_spec
    from pal_eval.leaderboard.runner import run_plan

    # The stage models are small: one intra-op thread each is much faster than two
    # threads contending with the DataLoader workers (measured: G-TAD step 0.05 s vs 2.5 s).
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    out = Path(out)
    start = time.monotonic()
    data_dir = out / 'data'
    if (data_dir / 'meta.json').is_file():
        log(f'[demo] synthetic benchmark: reusing {data_dir}')
    else:
        log(f'[demo] synthetic benchmark: generating the {preset!r} preset in {data_dir}')
        generate(preset, seed, data_dir)
    spec = synthetic_spec(data_dir)
    plan = build_plan(spec, work_dir=out, spec_path='<demo>')
    log(f'[demo] {len(plan.stages)} stages for {len(plan.rows)} leaderboard rows')
    run_plan(plan, out, log=lambda line: log(f'[demo] {line}'))

    feature_dirs = {s.id.split('/', 1)[1]: s.outputs[0] for s in plan.stages
                    if s.kind == 'extract'}
    backbones = {s.id.split('/', 1)[1]: s.outputs[0] for s in plan.stages if s.kind == 'export'}
    if 'random' in spec['encoders']:
        backbones['random'] = 'random'
    extract_config = spec['data']['synthetic_anet']['extract_config']
    report = write_report(out, spec['rows'], plan.results, data_dir=data_dir,
                          feature_dirs=feature_dirs, backbones=backbones,
                          extract_config=extract_config, log=log)
    minutes = (time.monotonic() - start) / 60
    log('')
    log(f'pal-eval demo finished in {minutes:.1f} min. Leaderboard (percent):')
    log(report.leaderboard.round(2).to_markdown())
    log('')
    for name, path in report.files.items():
        log(f'  {name:<17} {path}')
    return report

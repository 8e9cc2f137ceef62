"""Statistics of a written benchmark folder (``pal-eval synth --stats``)."""
from __future__ import annotations

import os
from pathlib import Path


def benchmark_stats(folder: str | os.PathLike) -> dict:
    """Class histogram, instance-length distribution and totals of a synth folder.

    Returns:
        ``{'classes': DataFrame (label x subset counts), 'lengths': DataFrame
        (quantiles of seconds and fraction of the video), 'totals': dict}``.
    """
    import pandas as pd

    from pal_eval.data.annotations import load_actions

    folder = Path(folder)
    ann = load_actions(folder / 'annotations' / 'activitynet.json')
    inst = ann.instances
    subset_of = {vid: info.subset for vid, info in ann.videos.items()}
    duration_of = {vid: info.duration for vid, info in ann.videos.items()}
    frame = inst.assign(subset=inst['video_id'].map(subset_of),
                        seconds=inst['t_end'] - inst['t_start'])
    frame['fraction'] = frame['seconds'] / frame['video_id'].map(duration_of)
    classes = pd.crosstab(frame['label'], frame['subset'], margins=True, margins_name='all')
    lengths = frame[['seconds', 'fraction']].quantile([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])
    lengths.index = [f'p{int(q * 100)}' for q in lengths.index]
    clip_list = folder / 'unlabeled' / 'list.txt'
    clips = clip_list.read_text().split() if clip_list.is_file() else []
    totals = {
        'videos': len(ann.videos),
        'videos_per_subset': pd.Series(subset_of).value_counts().to_dict(),
        'instances': int(len(inst)),
        'videos_without_instances': int(len(set(ann.videos) - set(inst['video_id']))),
        'video_hours': round(sum(duration_of.values()) / 3600, 3),
        'unlabeled_clips': len(clips),
    }
    return {'classes': classes, 'lengths': lengths, 'totals': totals}


def format_stats(stats: dict) -> str:
    """Human-readable text of :func:`benchmark_stats`."""
    totals = stats['totals']
    lines = ['totals:']
    lines += [f'  {key}: {value}' for key, value in totals.items()]
    lines += ['', 'class histogram (instances per subset):', stats['classes'].to_string(), '',
              'instance length (seconds, fraction of video):',
              stats['lengths'].round(3).to_string()]
    return '\n'.join(lines)

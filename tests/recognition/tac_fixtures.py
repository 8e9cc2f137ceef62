"""Labeled synthetic clips for the TAC tests: "<clip file name> <class index>" label files.

The synthetic generator (``pal-eval synth``) is gaining ``unlabeled/labels.txt`` in the
same format; until it lands, the tests write their own with the generator's clip
sampler, so the format and the labels are those the generator draws.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pal_eval.data.synthetic import CLASS_NAMES, Preset, render_video, sample_clip_spec
from pal_eval.data.video_io import write_video

#: small frames and short clips keep generation and training to seconds on a CPU
PRESET = Preset(num_videos=0, duration_range=(2.0, 3.0), fps_choices=(8.0, 10.0),
                max_instances=1, num_clips=0, clip_duration_range=(2.0, 3.0),
                width=64, height=48)


def write_labeled_clips(folder: Path, counts: dict[str, int], seed: int = 0) -> Path:
    """Write ``{label file stem: number of clips}`` under ``folder/unlabeled``.

    Each label file lists its clips as ``<clip file name> <class index>``; classes are
    balanced (round robin over the 10 motions) so chance accuracy is exactly 10 %.
    """
    rng = np.random.default_rng(seed)
    clip_dir = folder / 'unlabeled'
    clip_dir.mkdir(parents=True, exist_ok=True)
    for stem, count in counts.items():
        lines = []
        for index in range(count):
            label = index % len(CLASS_NAMES)
            for _ in range(1000):  # the sampler draws the class: redraw until it is `label`
                spec = sample_clip_spec(rng, f'{stem}_{index:03d}', PRESET)
                if spec.instances[0].label == label:
                    break
            write_video(clip_dir / f'{spec.video_id}.mp4', render_video(spec).frames, spec.fps)
            lines.append(f'{spec.video_id}.mp4 {label}\n')
        (clip_dir / f'{stem}.txt').write_text(''.join(lines))
    return folder

"""Writing a benchmark folder: annotation files, videos, metadata, atomically.

The folder appears whole or not at all: everything is written into a hidden staging
sibling renamed into place at the end; staging folders of killed runs are removed.
"""
from __future__ import annotations

import glob
import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path

from pal_eval.errors import PalEvalError

from .plan import UNLABELED_SCENES, BenchmarkPlan, plan_benchmark
from .render import render_video
from .spec import (
    CLASS_NAMES,
    CLASSES,
    COLOURS,
    GENERATOR_NAME,
    GENERATOR_VERSION,
    GROUNDING_SPLITS,
    SHAPES,
    SIZES,
    SUBSETS,
    THUMOS_SUBSETS,
)


def _seconds(frame: int, fps: float) -> float:
    # Rounded so the JSON is short; 1e-4 s is far below a frame (>= 83 ms here).
    return round(frame / fps, 4)


def build_annotations(plan: BenchmarkPlan) -> tuple:
    """Canonical annotations of a plan: ``(ActionAnnotations, GroundingAnnotations)``.

    Segments are frame boundaries divided by the fps, so an instance covering frames
    ``[a, b)`` is annotated ``[a / fps, b / fps]``.
    """
    from pal_eval.data.annotations.canonical import (
        ActionAnnotations,
        GroundingAnnotations,
        VideoInfo,
        instances_frame,
        queries_frame,
    )

    preset = plan.preset
    videos, rows, queries = {}, [], []
    for subset, spec in plan.videos:
        videos[spec.video_id] = VideoInfo(
            video_id=spec.video_id, subset=subset, duration=_seconds(spec.num_frames, spec.fps),
            fps=spec.fps, resolution=f'{preset.width}x{preset.height}')
        for number, inst in enumerate(spec.instances):
            start = _seconds(inst.frame_start, spec.fps)
            end = _seconds(inst.frame_end, spec.fps)
            rows.append((spec.video_id, start, end, CLASS_NAMES[inst.label]))
            # grounding subsets are the split names of the files ('train' / 'test')
            queries.append((f'{spec.video_id}_q{number}', spec.video_id,
                            videos[spec.video_id].duration, start, end,
                            plan.sentences[spec.video_id][number],
                            GROUNDING_SPLITS.get(subset, subset)))
    actions = ActionAnnotations(videos=videos, instances=instances_frame(rows),
                                taxonomy=list(CLASS_NAMES), source='pal-eval synth')
    grounding = GroundingAnnotations(queries=queries_frame(queries), source='pal-eval synth')
    return actions, grounding


def write_annotation_files(plan: BenchmarkPlan, folder: Path):
    """Write the plan's annotation files into ``folder``; return its ``ActionAnnotations``.

    ``activitynet.json``, ``thumos14.json``, ``grounding_{train,val,test}.json`` and
    ``charades_sta_{train,val,test}.txt``: they depend on the plan only, never on rendering
    (``tests/data/test_synthetic_annotation_pin.py`` pins their bytes).
    """
    from pal_eval.data.annotations.writers import (
        write_activitynet_gt,
        write_charades_sta,
        write_grounding_json,
    )

    actions, grounding = build_annotations(plan)
    write_activitynet_gt(folder / 'activitynet.json', actions)
    write_activitynet_gt(folder / 'thumos14.json', actions, subset_map=THUMOS_SUBSETS,
                         with_fps=True)
    for split in GROUNDING_SPLITS.values():
        part = grounding.select_subset(split)
        write_grounding_json(folder / f'grounding_{split}.json', part)
        write_charades_sta(folder / f'charades_sta_{split}.txt', part)
    return actions


def _prepare_output(out: Path, force: bool) -> Path:
    """Check ``out`` may be written; return the temporary sibling to generate into."""
    if out.exists() and not out.is_dir():
        raise PalEvalError(f'{out} exists and is not a folder')
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise PalEvalError(f'{out} exists and is not empty; pass --force to replace it')
        if not (out / 'meta.json').is_file():
            raise PalEvalError(f'{out} is not a pal-eval synth folder (no meta.json); '
                               'refusing to replace it')
        from pal_eval.io import read_json

        if read_json(out / 'meta.json').get('generator') != GENERATOR_NAME:
            raise PalEvalError(f'{out / "meta.json"} was not written by {GENERATOR_NAME}; '
                               'refusing to replace it')
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(out)
    staging = out.parent / f'.{out.name}.partial-{os.getpid()}'
    if staging.exists():
        shutil.rmtree(staging)
    return staging


def _remove_stale_staging(out: Path) -> list[Path]:
    """Delete the staging / trash folders of earlier runs at ``out`` that were killed.

    A run stages into ``.<name>.partial-<pid>`` (and swaps the old folder out through
    ``.<name>.old-<pid>``); ``kill -9`` leaves them behind. A folder whose pid no longer
    runs is garbage; one of a live process (a concurrent run) is left alone.
    """
    removed = []
    for path in out.parent.glob(f'.{glob.escape(out.name)}.*-*'):
        kind, _, pid = path.name[len(out.name) + 2:].rpartition('-')
        if kind in ('partial', 'old') and pid.isdigit() and path.is_dir() \
                and not _pid_alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)            # signal 0: existence check only
    except ProcessLookupError:
        return False
    except PermissionError:        # another user's live process
        return True
    return True


def generate(preset: str, seed: int, out: str | os.PathLike, *, force: bool = False,
             progress: bool = True) -> dict:
    """Generate the synthetic benchmark into ``out`` (see the module docstring).

    Output appears atomically: everything is written into a hidden sibling folder that
    is renamed to ``out`` at the end, so an interrupted run leaves no half benchmark.

    Args:
        preset: ``'tiny'``, ``'small'`` or ``'medium'``.
        seed: Master seed; the same seed gives byte-identical annotation files and
            identical decoded frames.
        out: Output folder; must be absent or empty unless ``force`` (then it must be
            an earlier ``pal-eval synth`` output).
        force: Replace an earlier synthetic benchmark at ``out``.
        progress: Show progress bars.

    Returns:
        The content of ``meta.json`` plus ``seconds`` (wall time).
    """
    from tqdm import tqdm

    from pal_eval.data.video_io import write_video
    from pal_eval.io import atomic_write, write_json

    started = time.perf_counter()
    out = Path(out)
    plan = plan_benchmark(preset, seed)
    staging = _prepare_output(out, force)
    try:
        for subset, spec in tqdm(plan.videos, desc='videos', disable=not progress):
            del subset
            write_video(staging / 'videos' / f'{spec.video_id}.mp4', render_video(spec).frames,
                        spec.fps)
        for spec in tqdm(plan.clips, desc='unlabeled clips', disable=not progress):
            write_video(staging / 'unlabeled' / f'{spec.video_id}.mp4',
                        render_video(spec).frames, spec.fps)
        with atomic_write(staging / 'unlabeled' / 'list.txt') as handle:
            handle.writelines(f'{spec.video_id}.mp4\n' for spec in plan.clips)
        with atomic_write(staging / 'unlabeled' / 'labels.txt') as handle:  # TAC only
            handle.writelines(f'{spec.video_id}.mp4 {spec.instances[0].label}\n'
                              for spec in plan.clips)
        actions = write_annotation_files(plan, staging / 'annotations')
        meta = _meta(plan, actions)
        write_json(staging / 'meta.json', meta)
        _swap_into_place(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return {**meta, 'seconds': round(time.perf_counter() - started, 2)}


def _swap_into_place(staging: Path, out: Path) -> None:
    if out.is_dir() and any(out.iterdir()):
        trash = out.parent / f'.{out.name}.old-{os.getpid()}'
        os.replace(out, trash)
        os.replace(staging, out)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        if out.is_dir():
            out.rmdir()
        os.replace(staging, out)


def _meta(plan: BenchmarkPlan, actions) -> dict:
    preset = plan.preset
    per_subset = {s: sum(1 for sub, _ in plan.videos if sub == s) for s in SUBSETS}
    return {
        'generator': GENERATOR_NAME,
        'generator_version': GENERATOR_VERSION,
        'preset': plan.preset_name,
        'seed': plan.seed,
        'preset_config': asdict(preset),
        'classes': [{'name': name, 'motion': motion, 'phrase': phrase}
                    for name, (motion, phrase) in CLASSES.items()],
        'colours': list(COLOURS), 'shapes': list(SHAPES), 'sizes': list(SIZES),
        'resolution': [preset.width, preset.height],
        'counts': {
            'videos': len(plan.videos), 'videos_per_subset': per_subset,
            'instances': int(len(actions.instances)),
            'queries': int(len(actions.instances)),
            'unlabeled_clips': len(plan.clips),
            'video_seconds': round(sum(s.duration for _, s in plan.videos), 2),
            'unlabeled_seconds': round(sum(s.duration for s in plan.clips), 2),
        },
        'unlabeled': {'scenes': UNLABELED_SCENES, 'labels_file': 'unlabeled/labels.txt',
                      'labels_format': '<file name> <class index>, for the supervised TAC '
                                       'baseline only'},
        'subsets': {'activitynet': list(SUBSETS), 'thumos14': THUMOS_SUBSETS,
                    'grounding': GROUNDING_SPLITS},
    }

"""The PAL supplementary's Table 1 on the synthetic benchmark: clip number J vs cost and mAP.

For each J in {4, 6, 8, 10, 12} it pretrains PAL with the same budget (same CPU config,
epochs, batch size and unlabeled clips; only ``clips_per_video`` changes), extracts
features of the synthetic untrimmed videos, trains the synthetic G-TAD detection head and
scores it (ActivityNet-style mAP@AVG on the ``validation`` subset). The cost per
composited video is counted exactly by the pretraining stage's own counter
(:mod:`pal_eval.pretrain.flops`, the one behind ``pal-eval flops``: MMEngine's
FlopAnalyzer on the configured encoder, J clip forwards per video). The paper's
"FLOPs/video" count multiply-adds, so our GMACs go next to them (strict GFLOPs = 2 x).
The table puts our row next to the paper's (``benchmarks/reference_results.yaml``, rows
``pal_table1_j*``).

Everything runs through the stage CLIs as a resumable leaderboard plan
(:mod:`pal_eval.leaderboard`): an interrupted run continues where it stopped.

Usage (run by the lead; minutes per J on a 2-core CPU)::

    .venv/bin/python benchmarks/table1_clip_number.py --work-dir work_dirs/table1
    .venv/bin/python benchmarks/table1_clip_number.py --plan        # print the commands
    .venv/bin/python benchmarks/table1_clip_number.py --dry-run     # check configs / data

Outputs: ``<work-dir>/table1.md`` (markdown) and ``<work-dir>/table1.json``; per J a
metrics file ``<work-dir>/results/pal_j<J>_gtad_synthetic/metrics.json`` that also holds
``GMACs_per_video`` and ``GFLOPs_per_video``, so
``pal-eval leaderboard compare --result pal_table1_j8=...`` works on it.
"""
from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd

from pal_eval.errors import PalEvalError
from pal_eval.io import read_json, write_json
from pal_eval.leaderboard.layout import check_plan
from pal_eval.leaderboard.metrics_io import load_metrics
from pal_eval.leaderboard.plan import Plan, build_plan, format_plan, synthetic_spec
from pal_eval.leaderboard.reference import load_reference
from pal_eval.leaderboard.runner import run_plan

CLIPS = (4, 6, 8, 10, 12)
#: config keys that hold J in the pretraining config (model and data pipeline must agree)
CLIP_KEYS = ('model.clips_per_video', 'train_dataloader.dataset.clips_per_video')


def table1_spec(synth_dir: str, clips: tuple[int, ...]) -> dict:
    """The synthetic leaderboard spec with one PAL encoder per J and one G-TAD row each.

    Data, extraction and head configs are those of
    :func:`pal_eval.leaderboard.plan.synthetic_spec` (one definition of the CPU setting).
    """
    base = synthetic_spec(synth_dir)
    pal = base['encoders']['pal']
    detection_row = next(r for r in base['rows'] if r['id'] == 'pal_gtad_synthetic')
    spec = {'data': base['data'], 'encoders': {}, 'rows': []}
    for j in clips:
        options = dict(pal.get('cfg_options', {}))
        options.update({key: j for key in CLIP_KEYS})
        spec['encoders'][f'pal_j{j}'] = {**pal, 'cfg_options': options}
        spec['rows'].append({**detection_row, 'id': f'pal_j{j}_gtad_synthetic',
                             'encoder': f'pal_j{j}', 'reference': [f'pal_table1_j{j}']})
    return spec


def build_table1_plan(synth_dir: str, work_dir: str, clips: tuple[int, ...]) -> Plan:
    """Leaderboard plan of the whole study (data generation and FLOPs counting excluded)."""
    return build_plan(table1_spec(synth_dir, clips), work_dir=work_dir, spec_path='table1')


def count_cost(config: str, clips: tuple[int, ...], out: str | Path) -> dict[int, dict]:
    """Exact multiply-adds per composited video for every J, written to ``out`` (JSON).

    Uses :mod:`pal_eval.pretrain.flops` (what ``pal-eval flops`` prints) on the encoder,
    frames per clip and input size of the pretraining config.

    Returns:
        J -> ``{gmacs_per_video, gflops_per_video}``.
    """
    import mmengine  # noqa: F401  (registers pal-eval modules)
    from mmengine.config import Config

    from pal_eval.pretrain.backbone import PALBackbone
    from pal_eval.pretrain.flops import clip_macs, video_table

    cfg = Config.fromfile(config)
    backbone_cfg = {k: v for k, v in cfg.model.backbone.items() if k not in ('type', 'init_cfg')}
    dataset = cfg.train_dataloader.dataset
    per_clip = clip_macs(PALBackbone(**backbone_cfg), int(dataset.get('frames_per_clip', 4)),
                         int(dataset.get('input_size', 112)))
    table = {row['clips']: {'gmacs_per_video': row['gmacs_per_video'],
                            'gflops_per_video': row['gflops_per_video']}
             for row in video_table(per_clip, clips)}
    write_json(out, {'config': config, 'macs_per_clip': per_clip,
                     'per_video': {str(j): v for j, v in table.items()}})
    return table


def cost_by_clips(path: str | Path) -> dict[int, dict]:
    """Read the JSON written by :func:`count_cost`: J -> ``{gmacs_per_video, ...}``."""
    data = read_json(path)
    table = data.get('per_video') if isinstance(data, dict) else None
    out = {int(j): v for j, v in (table or {}).items()
           if str(j).isdigit() and isinstance(v, dict) and 'gmacs_per_video' in v}
    if not out:
        raise PalEvalError(f'{path}: no per-video cost found (expected "per_video": '
                           '{J: {"gmacs_per_video": ...}})')
    return out


def summarise(plan: Plan, work_dir: str, clips: tuple[int, ...]) -> pd.DataFrame:
    """Our row next to the paper's, one line per J; also adds GFLOPs to each metrics file."""
    reference = load_reference()
    cost = cost_by_clips(f'{work_dir}/flops.json')
    records = []
    for j in clips:
        path = plan.results[f'pal_j{j}_gtad_synthetic']
        metrics = read_json(path)
        metrics['GMACs_per_video'] = cost[j]['gmacs_per_video']
        metrics['GFLOPs_per_video'] = cost[j]['gflops_per_video']
        write_json(path, metrics)
        ours = load_metrics(path)
        paper = reference.row(f'pal_table1_j{j}').metrics
        records.append({'J': j, 'GMACs/video (ours)': cost[j]['gmacs_per_video'],
                        'G "FLOPs"/video (paper, = MACs)': paper['GMACs_per_video'],
                        'mAP@AVG % (ours, synthetic)': 100 * ours['average_mAP'],
                        'mAP@AVG % (paper, ActivityNet)': paper['average_mAP']})
    return pd.DataFrame.from_records(records)


def calibration_line(plan: Plan) -> str:
    """The head's floor and ceiling on the same split (the plan's calibration rows), so
    the J rows can be read against what no features and perfect features give."""
    parts = []
    for name, label in (('floor', 'floor (no features)'),
                        ('oracle', 'oracle features (ceiling)')):
        path = plan.results.get(f'{name}_gtad_synthetic')
        if path and Path(path).is_file():
            parts.append(f"{label} {100 * load_metrics(path)['average_mAP']:.2f}")
    return f'Same head and split, mAP@AVG %: {", ".join(parts)}.\n' if parts else ''


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--synthetic', help='synthetic benchmark folder (default: generate '
                        'the small preset into <work-dir>/synth)')
    parser.add_argument('--work-dir', default='work_dirs/table1')
    parser.add_argument('--clips', default=','.join(map(str, CLIPS)),
                        help='comma list of J (default 4,6,8,10,12)')
    parser.add_argument('--seed', type=int, default=0, help='synthetic benchmark seed')
    parser.add_argument('--jobs', type=int, default=2,
                        help='stages run at once (default 2: the 2-core CPU machine); each '
                             "stage's output goes to <work-dir>/logs/")
    parser.add_argument('--plan', action='store_true', help='print the commands and exit')
    parser.add_argument('--dry-run', action='store_true', help='check inputs, run nothing')
    args = parser.parse_args(argv)
    clips = tuple(int(j) for j in args.clips.split(','))
    synth = args.synthetic or f'{args.work_dir}/synth'
    plan = build_table1_plan(synth, args.work_dir, clips)
    if args.plan:
        print(f'pal-eval synth --preset small --seed {args.seed} --out {shlex.quote(synth)}')
        print(format_plan(plan), end='')
        return 0
    if not Path(synth, 'meta.json').exists():
        if args.dry_run:
            print(f'error: {synth}: no synthetic benchmark (run without --dry-run to '
                  'generate it)', file=sys.stderr)
            return 2
        subprocess.run(['pal-eval', 'synth', '--preset', 'small', '--seed', str(args.seed),
                        '--out', synth], check=True)
    if args.dry_run:
        problems = check_plan(plan)
        for problem in problems:
            print(f'error: {problem}', file=sys.stderr)
        return 2 if problems else 0
    try:
        config = table1_spec(synth, clips)['encoders'][f'pal_j{clips[0]}']['pretrain_config']
        count_cost(config, clips, f'{args.work_dir}/flops.json')
        if args.jobs > 1:
            os.environ.setdefault('OMP_NUM_THREADS', '1')  # small models: one thread a stage
        run_plan(plan, args.work_dir, jobs=args.jobs, stage_logs=True)
        frame = summarise(plan, args.work_dir, clips)
    except PalEvalError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    markdown = frame.to_markdown(index=False, floatfmt=('.0f', '.4f', '.1f', '.2f', '.2f'))
    note = ('\nOurs: PAL on the synthetic benchmark (CPU config, same epochs and batch for '
            'every J), G-TAD head, ActivityNet-style mAP@AVG. Paper: Kinetics-400 '
            'pretraining, ActivityNet v1.3 (supplementary Table 1). Absolute mAPs are not '
            'comparable; the trend over J and the FLOPs ratios are.\n'
            + calibration_line(plan))
    with open(f'{args.work_dir}/table1.md', 'w', encoding='utf-8') as handle:
        handle.write(markdown + '\n' + note)
    write_json(f'{args.work_dir}/table1.json', frame.to_dict(orient='records'))
    print(markdown + '\n' + note)
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""``pal-eval leaderboard {plan,run,compare}``: reproduce and compare leaderboard rows.

* ``plan`` prints the exact stage commands (a bash script) for the full-scale rows
  (Kinetics-400 pretraining -> extraction on ActivityNet / THUMOS14 / Charades-STA ->
  heads -> metrics), or for a ``--spec`` / ``--synthetic DIR`` plan; ``--dry-run`` checks
  that every config, data folder and annotation file exists and that existing feature
  folders cover every annotated video with consistent metadata (one ``error:`` line per
  problem, exit 2).
* ``run`` executes a plan resumably (stamps under ``<work-dir>/.stages``; ``--jobs N``
  stages at once, their output then in ``<work-dir>/logs``), prints the calibrated tables
  (floor, encoders, oracle, with bootstrap intervals; ``<work-dir>/calibrated.md``), then
  compares with the published numbers.
* ``compare`` reads our metric JSONs and the reference YAML and prints markdown deltas.
"""
from __future__ import annotations

import argparse
import sys

from pal_eval.errors import PalEvalError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest='action', metavar='ACTION', required=True)
    for name, help_text in (('plan', 'print the stage commands of each row'),
                            ('run', 'run the stages (resumable), then compare')):
        p = sub.add_parser(name, help=help_text, description=help_text)
        source = p.add_mutually_exclusive_group()
        source.add_argument('--spec', help='plan spec YAML (default: the full-scale rows)')
        source.add_argument('--synthetic', metavar='DIR',
                            help='CPU plan on a synthetic benchmark folder (pal-eval synth)')
        p.add_argument('--data-root', default='data',
                       help='fills {data_root} in the spec (default: data)')
        p.add_argument('--work-dir', default='work_dirs/leaderboard',
                       help='every output goes here (default: work_dirs/leaderboard)')
        p.add_argument('--rows', help='comma list of row ids (default: all)')
        p.add_argument('--dry-run', action='store_true',
                       help='check configs, data and existing features; run nothing')
        p.add_argument('--no-config-parse', action='store_true',
                       help='with --dry-run: check that configs exist but do not parse them')
        if name == 'run':
            p.add_argument('--jobs', type=int, default=1,
                           help='stages run at once (default 1; give each one CPU thread)')
            p.add_argument('--resamples', type=int, default=1000,
                           help='bootstrap resamples of the calibrated tables (default 1000)')
            _compare_options(p)
    p = sub.add_parser('compare', help='our metrics vs published, in markdown')
    p.add_argument('--results-dir', help='folder with <row id>/metrics.json (what run writes '
                   'under <work-dir>/results)')
    p.add_argument('--result', action='append', default=[], metavar='ROW_ID=FILE',
                   help='a metric JSON for a reference row id (repeatable)')
    p.add_argument('--list', action='store_true', help='list the reference rows and exit')
    _compare_options(p)


def _compare_options(p: argparse.ArgumentParser) -> None:
    p.add_argument('--reference', help='reference YAML (default: '
                   'benchmarks/reference_results.yaml)')
    p.add_argument('--tolerance', type=float,
                   help='override every row\'s tolerance (percentage points)')
    p.add_argument('--out', help='also write the markdown table here')
    p.add_argument('--force', action='store_true', help='replace an existing --out file')
    p.add_argument('--fail-outside-tolerance', action='store_true',
                   help='exit 1 when some metric is outside its tolerance')


def run(args: argparse.Namespace) -> int:
    if args.action in ('compare', 'run'):
        _check_compare_options(args)
    if args.action == 'compare':
        return _compare(args)
    return _plan_or_run(args)


def _check_compare_options(args: argparse.Namespace) -> None:
    """``--tolerance`` and ``--out`` of compare, checked before any stage runs."""
    import math

    from pal_eval.io import check_outputs

    if args.tolerance is not None and not (math.isfinite(args.tolerance)
                                           and args.tolerance >= 0):
        raise PalEvalError(f'--tolerance must be a finite number >= 0 (percentage points), '
                           f'got {args.tolerance}')
    results = [pair.partition('=')[2] or None for pair in getattr(args, 'result', [])]
    check_outputs([('--out', args.out)], force=args.force,
                  inputs=[args.reference, *results])


def _build(args: argparse.Namespace):
    from pal_eval.leaderboard.plan import (
        FULL_SCALE_SPEC,
        build_plan,
        load_spec,
        synthetic_spec,
    )

    if args.spec:
        spec, spec_path = load_spec(args.spec), args.spec
    elif args.synthetic:
        spec, spec_path = synthetic_spec(args.synthetic), f'--synthetic {args.synthetic}'
    else:
        spec, spec_path = FULL_SCALE_SPEC, '<built-in full-scale spec>'
    rows = [r for r in (args.rows or '').split(',') if r]
    return build_plan(spec, work_dir=args.work_dir, data_root=args.data_root, rows=rows,
                      spec_path=spec_path)


def _plan_or_run(args: argparse.Namespace) -> int:
    from pal_eval.leaderboard.layout import check_plan
    from pal_eval.leaderboard.plan import format_plan

    plan = _build(args)
    if args.dry_run:
        problems = check_plan(plan, check_configs=not args.no_config_parse)
        for problem in problems:
            print(f'error: {problem}', file=sys.stderr)
        if problems:
            print(f'{len(problems)} problem(s) found; nothing was run', file=sys.stderr)
            return 2
        print(f'ok: {len(plan.stages)} stages for {len(plan.rows)} rows are ready to run')
        return 0
    if args.action == 'plan':
        print(format_plan(plan), end='')
        return 0
    from pal_eval.io import write_json
    from pal_eval.leaderboard.compare import REFERENCES_FILE
    from pal_eval.leaderboard.runner import run_plan

    if args.jobs < 1 or args.resamples < 2:
        raise PalEvalError('--jobs must be >= 1 and --resamples >= 2')
    run_plan(plan, args.work_dir, jobs=args.jobs, stage_logs=args.jobs > 1)
    results_dir = f'{args.work_dir}/results'
    _calibrated(plan, args)
    # Keeps `leaderboard compare --results-dir <work-dir>/results` able to pair our rows
    # with the published ones later, without the spec.
    write_json(f'{results_dir}/{REFERENCES_FILE}',
               {row: refs for row, refs in plan.references.items() if refs})
    if not any(plan.references.values()):
        print('done; no reference rows to compare with')
        return 0
    args.results_dir, args.result = results_dir, []
    return _compare(args)


def _calibrated(plan, args: argparse.Namespace) -> None:
    """Print (and write to ``<work-dir>/calibrated.md``) the calibrated tables."""
    from pal_eval.io import atomic_write
    from pal_eval.leaderboard.calibrated import head_tables, tables_markdown
    from pal_eval.leaderboard.plan import FLOOR, ORACLE

    if not any(info['encoder'] in (FLOOR, ORACLE) for info in plan.info.values()):
        return  # `calibration: false`: nothing to calibrate against
    tables = head_tables(plan, f'{args.work_dir}/results', resamples=args.resamples)
    if not tables:
        return
    markdown = tables_markdown(tables, resamples=args.resamples)
    with atomic_write(f'{args.work_dir}/calibrated.md') as handle:
        handle.write(markdown)
    print(markdown)


def _compare(args: argparse.Namespace) -> int:
    from pal_eval.leaderboard.compare import (
        collect_intervals,
        collect_results,
        compare_with_reference,
        comparison_markdown,
    )
    from pal_eval.leaderboard.reference import DEFAULT_REFERENCE, load_reference

    table = load_reference(args.reference or DEFAULT_REFERENCE)
    if getattr(args, 'list', False):
        print(table.to_frame().to_markdown(index=False))
        return 0
    results = collect_results(table, results_dir=args.results_dir, pairs=args.result)
    if not results:
        raise PalEvalError('no results found for any reference row (give --results-dir or '
                           '--result ROW_ID=metrics.json; `--list` shows the row ids)')
    intervals = (collect_intervals(args.results_dir, results) if args.results_dir
                 else None)
    frame = compare_with_reference(table, results, tolerance=args.tolerance,
                                   intervals=intervals)
    markdown = comparison_markdown(frame, unit=table.unit)
    print(markdown, end='')
    if args.out:
        from pal_eval.io import atomic_write

        with atomic_write(args.out) as handle:
            handle.write(markdown)
    outside = frame[frame['status'] != 'within']
    if args.fail_outside_tolerance and len(outside):
        for _, line in outside.iterrows():
            ours = f'{line["ours_row"]} vs ' if line['ours_row'] else ''
            print(f'outside tolerance: {ours}{line["id"]} {line["metric"]} '
                  f'({line["status"]})', file=sys.stderr)
        return 1
    return 0

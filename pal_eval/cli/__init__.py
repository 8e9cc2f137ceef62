"""The ``pal-eval`` command line.

Each sub-command lives in its own module ``pal_eval/cli/<module>.py`` exposing::

    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...

Modules are imported only when their command runs, so ``pal-eval evaluate`` and
``pal-eval synth`` never pay for torch. Errors a user can fix
(:class:`pal_eval.errors.PalEvalError`) are printed as one ``error:`` line with exit
status 2 and no traceback.
"""
from __future__ import annotations

import argparse
import importlib
import sys

#: command name -> (module under pal_eval.cli, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    'synth': ('synth', 'generate the synthetic TAL benchmark (videos + annotations)'),
    'evaluate': ('evaluate', 'score detections, proposals or grounding predictions'),
    'export-backbone': ('export_backbone', 'strip a pretraining checkpoint to encoder + metadata'),
    'flops': ('flops', 'FLOPs per clip and per composited video (PAL Table 1 column)'),
    'extract': ('extract', 'extract clip features from videos with a pretrained encoder'),
    'configs': ('configs', 'print where the configs installed with pal-eval are'),
    'features': ('features', 'published feature releases: import one as our feature folder'),
    'predict': ('predict', 'actions (or sentence moments) in any video: encoder + trained head'),
    'visualize': ('visualize', 'timelines of predictions, clip-similarity maps'),
    'probe': ('probe', 'linear probe of extracted features (foreground / class)'),
    'calibrate': ('calibrate', 'oracle features (ceiling) and fixed-prior predictions (floor)'),
    'leaderboard': ('leaderboard', 'plan, run and compare leaderboard reproductions'),
    'check-regression': ('check_regression', 'fail when metrics dropped below a baseline'),
    'demo': ('demo', 'the whole pipeline on the synthetic benchmark (make demo)'),
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Build the top-level parser; only ``command``'s module is imported."""
    parser = argparse.ArgumentParser(
        prog='pal-eval', description='PAL pretraining and TAL evaluation.')
    from pal_eval.version import __version__

    parser.add_argument('--version', action='version', version=f'pal-eval {__version__}')
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')
    for name, (module, help_text) in COMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        if name == command:
            _load(module).add_arguments(sub_parser)
    return parser


def _load(module: str):
    return importlib.import_module(f'pal_eval.cli.{module}')


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``pal-eval`` console script."""
    from pal_eval.errors import PalEvalError

    argv = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in argv if not a.startswith('-')), None)
    if command not in COMMANDS:
        command = None
    parser = build_parser(command)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(_load(COMMANDS[args.command][0]).run(args) or 0)
    except PalEvalError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    except OSError as exc:
        # A file the command needed could not be read or written (permissions, a full
        # disk, a vanished folder): the user's problem to fix, so one line, no traceback.
        where = f'{exc.filename}: ' if exc.filename else ''
        print(f'error: {where}{exc.strerror or exc}', file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        return 130


if __name__ == '__main__':
    sys.exit(main())

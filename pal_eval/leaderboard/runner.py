"""Run a leaderboard plan resumably, one stage CLI call at a time.

Each stage that succeeds (exit status 0 *and* its outputs exist) leaves a stamp
``<work_dir>/.stages/<stage id>.json`` holding its command; a rerun skips stamped stages
whose command is unchanged and whose outputs still exist, so an interrupted run resumes
at the first unfinished stage (and the stage CLIs themselves resume inside a stage:
``mim train --resume``, ``pal-eval extract`` skipping finished videos). A changed command
(other config, other paths) reruns the stage. A failure stops the run with the stage named.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pal_eval.errors import PalEvalError
from pal_eval.io import read_json, write_json
from pal_eval.leaderboard.plan import Plan, Stage

STAMP_DIR = '.stages'


@dataclass(frozen=True)
class StageOutcome:
    """What happened to one stage: ``ran``, ``skipped`` (stamped) or ``failed``."""

    stage: Stage
    status: str
    seconds: float = 0.0


def stamp_path(work_dir: str | os.PathLike, stage: Stage) -> Path:
    """Where the completion stamp of ``stage`` lives."""
    return Path(work_dir) / STAMP_DIR / f'{stage.id.replace("/", "__")}.json'


def is_done(work_dir: str | os.PathLike, stage: Stage) -> bool:
    """Whether ``stage`` finished with the same command and its outputs still exist."""
    path = stamp_path(work_dir, stage)
    if not path.is_file():
        return False
    try:
        stamp = read_json(path)
    except PalEvalError:
        return False  # a damaged stamp only costs a rerun of the stage
    return stamp.get('command') == stage.command and all(Path(p).exists()
                                                         for p in stage.outputs)


def _shell(command: str) -> int:
    # Stage commands name `mim` and `pal-eval` bare: find them beside this Python (the
    # project's venv) even when the venv is not activated.
    env = dict(os.environ)
    env['PATH'] = os.pathsep.join([str(Path(sys.executable).parent), env.get('PATH', '')])
    return subprocess.run(['bash', '-o', 'pipefail', '-c', command], check=False,
                          env=env).returncode


def run_plan(plan: Plan, work_dir: str | os.PathLike, *,
             execute: Callable[[str], int] | None = None,
             log: Callable[[str], None] = print) -> list[StageOutcome]:
    """Run every unfinished stage of ``plan`` in order.

    Args:
        plan: The stages.
        work_dir: Holds the stamps.
        execute: Runs one shell command and returns its exit status (default: bash;
            tests pass a fake).
        log: Receives one progress line per stage.

    Returns:
        One outcome per stage run or skipped.

    Raises:
        PalEvalError: a stage exited non-zero or did not write its outputs (named, with
            the command to rerun it alone).
    """
    execute = execute or _shell
    outcomes = []
    total = len(plan.stages)
    for number, stage in enumerate(plan.stages, 1):
        if is_done(work_dir, stage):
            log(f'[{number}/{total}] {stage.id}: done earlier, skipped')
            outcomes.append(StageOutcome(stage, 'skipped'))
            continue
        log(f'[{number}/{total}] {stage.id}: {stage.command}')
        start = time.monotonic()
        status = execute(stage.command)
        seconds = time.monotonic() - start
        missing = [p for p in stage.outputs if not Path(p).exists()]
        if status != 0 or missing:
            why = f'exit status {status}' if status != 0 else f'no output {missing[0]}'
            raise PalEvalError(f'stage {stage.id} failed ({why}); fix it and rerun the same '
                               'command to resume from this stage')
        write_json(stamp_path(work_dir, stage),
                   {'stage': stage.id, 'command': stage.command, 'seconds': round(seconds, 3),
                    'finished': time.strftime('%Y-%m-%dT%H:%M:%S%z')})
        log(f'[{number}/{total}] {stage.id}: ok in {seconds:.1f} s')
        outcomes.append(StageOutcome(stage, 'ran', seconds))
    return outcomes

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
    cpu_seconds: float | None = None  # user + system of the stage's processes


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


#: rough seconds of each stage kind on the CPU demo: only the *order* of ready stages
#: depends on them (longest remaining chain first), never the results
STAGE_WEIGHTS = {'pretrain': 150.0, 'export': 5.0, 'extract': 30.0, 'oracle': 5.0,
                 'head': 30.0, 'floor': 3.0, 'evaluate': 3.0}


def _shell(command: str, log_path: str | os.PathLike | None = None,
           usage: dict | None = None) -> int:
    """Run one stage command with bash; its output goes to ``log_path`` when given.

    ``usage``, when given, receives ``cpu_seconds``: user + system time of the command and
    every process it waited for (``os.wait4``), the number that stays meaningful when
    other jobs share the machine.
    """
    # Stage commands name `mim` and `pal-eval` bare: find them beside this Python (the
    # project's venv) even when the venv is not activated.
    env = dict(os.environ)
    env['PATH'] = os.pathsep.join([str(Path(sys.executable).parent), env.get('PATH', '')])
    log = None
    if log_path is not None:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        log = open(log_path, 'w')  # noqa: SIM115 - closed below, after the process ends
        log.write(f'$ {command}\n')
        log.flush()
    try:
        process = subprocess.Popen(['bash', '-o', 'pipefail', '-c', command], env=env,
                                   stdout=log, stderr=subprocess.STDOUT if log else None)
        _, status, rusage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if log is not None:
            log.close()
    if usage is not None:
        usage['cpu_seconds'] = rusage.ru_utime + rusage.ru_stime
    return process.returncode


def log_path(work_dir: str | os.PathLike, stage: Stage) -> Path:
    """Where the output of ``stage`` goes: ``<work_dir>/logs/<stage id>.log``."""
    return Path(work_dir) / 'logs' / f'{stage.id.replace("/", "__")}.log'


def critical_path(plan: Plan) -> dict[str, float]:
    """Per stage: its weight plus the heaviest chain of stages that wait for it.

    Running the ready stage with the longest remaining chain first is the classic list
    scheduling rule: long pretrainings start early, short stages fill the gaps.
    """
    waiting: dict[str, list[str]] = {s.id: [] for s in plan.stages}
    for stage in plan.stages:
        for need in stage.needs:
            waiting.setdefault(need, []).append(stage.id)
    weight = {s.id: STAGE_WEIGHTS.get(s.kind, 10.0) for s in plan.stages}
    chain: dict[str, float] = {}
    for stage in reversed(plan.stages):  # stages come after what they need
        chain[stage.id] = weight[stage.id] + max((chain.get(w, 0.0) for w in waiting[stage.id]),
                                                 default=0.0)
    return chain


def _tail(path: Path, lines: int = 15) -> str:
    try:
        text = path.read_text(errors='replace').splitlines()
    except OSError:
        return ''
    return '\n'.join(f'    {line}' for line in text[-lines:])


def run_plan(plan: Plan, work_dir: str | os.PathLike, *,
             execute: Callable[[str], int] | None = None,
             log: Callable[[str], None] = print, jobs: int = 1,
             stage_logs: bool = False) -> list[StageOutcome]:
    """Run every unfinished stage of ``plan``, up to ``jobs`` at a time.

    A stage starts once every stage it needs has finished; among the ready stages the
    one with the longest chain of stages waiting for it goes first
    (:func:`critical_path`). With ``jobs=1`` that is plan order when the plan has no
    parallel branches.

    Args:
        plan: The stages.
        work_dir: Holds the stamps (and the logs).
        execute: Runs one shell command and returns its exit status (default: bash;
            tests pass a fake).
        log: Receives one line per stage start and end.
        jobs: Stages run at once (each stage command is one process; give each one
            CPU thread, ``OMP_NUM_THREADS=1``, when ``jobs`` is the number of cores).
        stage_logs: Send each stage's output to ``<work_dir>/logs/<stage id>.log``
            (:func:`log_path`) instead of the terminal; a failure prints its last lines.

    Returns:
        One outcome per stage run or skipped, in plan order.

    Raises:
        PalEvalError: a stage exited non-zero or did not write its outputs (named, with
            its log, and the command to resume from it).
    """
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    def run_one(stage: Stage) -> tuple[int, float | None]:
        if execute is not None:
            return execute(stage.command), None
        usage: dict = {}
        status = _shell(stage.command, log_path(work_dir, stage) if stage_logs else None,
                        usage=usage)
        return status, usage.get('cpu_seconds')

    total = len(plan.stages)
    number = {s.id: i for i, s in enumerate(plan.stages, 1)}
    outcomes: dict[str, StageOutcome] = {}
    pending = []
    for stage in plan.stages:
        if is_done(work_dir, stage):
            log(f'[{number[stage.id]}/{total}] {stage.id}: done earlier, skipped')
            outcomes[stage.id] = StageOutcome(stage, 'skipped')
        else:
            pending.append(stage)
    if int(jobs) > 1 and pending:
        from pal_eval.compat import prime_yapf_grammar_cache

        prime_yapf_grammar_cache()  # before stage processes import MMEngine side by side
    priority = critical_path(plan)
    running: dict = {}
    failure: str | None = None
    with ThreadPoolExecutor(max_workers=max(1, int(jobs))) as pool:
        while (pending and failure is None) or running:
            finished = set(outcomes)
            ready = [s for s in pending if all(n in finished for n in s.needs)]
            ready.sort(key=lambda s: -priority[s.id])
            while failure is None and ready and len(running) < max(1, int(jobs)):
                stage = ready.pop(0)
                pending.remove(stage)
                log(f'[{number[stage.id]}/{total}] {stage.id}: started' if stage_logs
                    else f'[{number[stage.id]}/{total}] {stage.id}: {stage.command}')
                running[pool.submit(run_one, stage)] = (stage, time.monotonic())
            if not running:
                if pending and failure is None:  # nothing can start: a need is missing
                    failure = f'stage {pending[0].id} waits for a stage that never ran'
                break
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in done:
                stage, started = running.pop(future)
                seconds = time.monotonic() - started
                status, cpu = future.result()
                missing = [p for p in stage.outputs if not Path(p).exists()]
                if status != 0 or missing:
                    why = f'exit status {status}' if status != 0 else f'no output {missing[0]}'
                    if stage_logs and execute is None:
                        path = log_path(work_dir, stage)
                        log(f'[{number[stage.id]}/{total}] {stage.id}: FAILED ({why}); last '
                            f'lines of {path}:\n{_tail(path)}')
                    failure = failure or (f'stage {stage.id} failed ({why}); fix it and '
                                          'rerun the same command to resume from this stage')
                    continue
                write_json(stamp_path(work_dir, stage),
                           {'stage': stage.id, 'command': stage.command,
                            'seconds': round(seconds, 3),
                            'cpu_seconds': None if cpu is None else round(cpu, 3),
                            'finished': time.strftime('%Y-%m-%dT%H:%M:%S%z')})
                cpu_text = '' if cpu is None else f' ({cpu:.1f} s CPU)'
                log(f'[{number[stage.id]}/{total}] {stage.id}: ok in {seconds:.1f} s{cpu_text}')
                outcomes[stage.id] = StageOutcome(stage, 'ran', seconds, cpu)
    if failure:
        raise PalEvalError(failure)
    return [outcomes[s.id] for s in plan.stages if s.id in outcomes]

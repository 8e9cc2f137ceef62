"""Run ``mim`` / ``torchrun`` in a subprocess from tests, with readable failures."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mim  # noqa: F401  (fail early and clearly if openmim is missing)

BIN = Path(sys.executable).parent


def _env() -> dict:
    env = dict(os.environ)
    env.setdefault('OMP_NUM_THREADS', '1')
    env.setdefault('PYTHONWARNINGS', 'ignore')
    return env


def _run(cmd: list[str], cwd: str | os.PathLike, timeout: float) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-4000:]
        raise AssertionError(f'{" ".join(map(str, cmd))} exited {proc.returncode}:\n{tail}')
    return proc


def run_mim(args: list, cwd: str | os.PathLike,
            timeout: float = 300) -> subprocess.CompletedProcess:
    """Run ``mim <args>`` (e.g. ``['train', 'mmaction2', cfg, '--work-dir', w]``) in ``cwd``."""
    return _run([BIN / 'mim', *args], cwd, timeout)


def mmaction_tool(name: str) -> Path:
    """Path of an MMAction2 tool script shipped in the wheel (e.g. ``'train.py'``)."""
    import mmaction

    return Path(mmaction.__file__).parent / '.mim' / 'tools' / name


def run_torchrun(script_args: list, cwd: str | os.PathLike, nproc: int = 2,
                 port: int = 29641, timeout: float = 300) -> subprocess.CompletedProcess:
    """``torchrun --nproc_per_node N <mmaction tools/train.py> ... --launcher pytorch``."""
    return _run([BIN / 'torchrun', '--nproc_per_node', nproc, '--master_port', port,
                 mmaction_tool('train.py'), *script_args, '--launcher', 'pytorch'], cwd, timeout)

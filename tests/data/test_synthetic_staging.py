"""A killed ``pal-eval synth`` leaves no staging folder behind for good (issue 11, item 11)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest


@pytest.mark.slow
def test_the_next_run_removes_the_staging_folder_of_a_killed_run(tmp_path):
    out = tmp_path / 'bench'
    command = [sys.executable, '-m', 'pal_eval.cli', 'synth', '--preset', 'small', '--out',
               str(out), '--quiet']
    victim = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    staging = tmp_path / f'.bench.partial-{victim.pid}'
    deadline = time.monotonic() + 120
    while not (staging / 'videos').is_dir() and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    assert staging.is_dir() and not out.exists()   # what kill -9 leaves
    # A concurrent run's staging folder (its process is alive) must survive.
    alive = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    try:
        concurrent = tmp_path / f'.bench.partial-{alive.pid}'
        concurrent.mkdir()
        subprocess.run([*command[:5], 'tiny', *command[6:]], check=True)
        assert not staging.exists()
        assert concurrent.is_dir()
        assert (out / 'meta.json').is_file()
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            ['bench', concurrent.name])
    finally:
        alive.kill()
        alive.wait()

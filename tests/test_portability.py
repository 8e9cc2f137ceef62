"""The numerical tests pass on another CPU's floating-point code paths too.

numpy and torch pick SIMD kernels (``exp``, reductions, sorts) by the CPU they run on, and
the last ulp of a result can differ between those kernels. A test that compares floats bit
for bit then passes on one machine and fails on the next (it happened: numpy's AVX-512
``exp`` against ``math.exp`` in the Soft-NMS tests). This test reruns the numerical test
modules with every optional numpy SIMD feature disabled and torch on its generic kernels,
which is what a CPU without them computes. Together with the normal run that covers two
different code paths on every machine CI uses.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NUMERICAL_TEST_FOLDERS = ['tests/postprocess', 'tests/evaluation', 'tests/heads']


def _optional_numpy_features() -> list[str]:
    """The SIMD features numpy may dispatch to beyond its compiled-in baseline."""
    from numpy._core._multiarray_umath import __cpu_baseline__, __cpu_dispatch__

    return [name for name in __cpu_dispatch__ if name not in __cpu_baseline__]


@pytest.mark.slow
def test_numerical_tests_pass_on_baseline_simd_kernels():
    env = dict(os.environ,
               NPY_DISABLE_CPU_FEATURES=' '.join(_optional_numpy_features()),
               ATEN_CPU_CAPABILITY='default')
    result = subprocess.run(
        [sys.executable, '-m', 'pytest', '-q', '-m', 'not slow', '-p', 'no:cacheprovider',
         *NUMERICAL_TEST_FOLDERS],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert 'passed' in result.stdout

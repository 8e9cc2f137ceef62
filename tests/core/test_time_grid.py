"""Boundary positions <-> seconds, checked by hand."""
from __future__ import annotations

import numpy as np

from pal_eval.core.time_grid import boundary_to_seconds, seconds_to_boundary, uniform_centers


def test_uniform_grid_is_bmn_convention():
    # 100 bins over 50 s: boundary b is at b * 0.5 s.
    centers = uniform_centers(50.0, 100)
    np.testing.assert_allclose(boundary_to_seconds(np.array([0, 1, 37.5, 100]), centers),
                               [0.0, 0.5, 18.75, 50.0])


def test_raw_features_use_real_stride_and_offset():
    # 16-frame snippets every 8 frames at 25 fps: centres at (8 + 8 i) / 25 s.
    centers = (8 + 8 * np.arange(10)) / 25.0
    # Boundary 0 lies half a stride before the first centre: (8 - 4) / 25.
    assert boundary_to_seconds(np.array(0.0), centers) == 4 / 25
    # Boundary 3 lies between centres 2 and 3: (24 + 32) / 2 / 25.
    assert np.isclose(boundary_to_seconds(np.array(3.0), centers), 28 / 25)
    times = np.array([0.1, 1.0, 2.9, 4.0])
    np.testing.assert_allclose(boundary_to_seconds(seconds_to_boundary(times, centers),
                                                   centers), times)


def test_single_snippet():
    np.testing.assert_allclose(boundary_to_seconds(np.array([0, 1]), np.array([2.0])),
                               [0.0, 4.0])

"""Resampling onto a time grid: numpy's interp, hand-worked means, the dataset's grid."""
from __future__ import annotations

import numpy as np

from pal_eval.core.resample import interpolate_features, resample_features


def test_interpolation_is_linear_and_clamped():
    features = np.arange(6, dtype=np.float64)[:, None] * np.array([[1.0, -1.0]])
    centers = np.arange(6) + 0.5
    out = interpolate_features(features, centers, np.array([0.0, 1.0, 2.5, 9.0]))
    np.testing.assert_allclose(out[:, 0], [0.0, 0.5, 2.0, 5.0])
    np.testing.assert_allclose(out[:, 1], -out[:, 0])


def test_linear_resampling_matches_numpy_interp():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(13, 5))
    centers = np.sort(rng.uniform(0.3, 9.7, size=13))
    out, new_centers = resample_features(features, centers, 10.0, 100, 'linear')
    assert out.shape == (100, 5)
    np.testing.assert_allclose(new_centers, (np.arange(100) + 0.5) / 10)
    for channel in range(5):
        expected = np.interp(new_centers, centers, features[:, channel])
        np.testing.assert_allclose(out[:, channel], expected, rtol=1e-5, atol=1e-6)


def test_mean_resampling_hand_worked():
    # 6 clips over 3 s into 3 bins of 1 s: two clips per bin.
    features = np.arange(6, dtype=float)[:, None]
    centers = np.array([0.25, 0.75, 1.25, 1.75, 2.25, 2.75])
    out, _ = resample_features(features, centers, 3.0, 3, 'mean')
    assert out[:, 0].tolist() == [0.5, 2.5, 4.5]


def test_mean_resampling_empty_bins_fall_back_to_linear():
    features = np.array([[0.0], [4.0]])
    centers = np.array([0.5, 3.5])
    out, new_centers = resample_features(features, centers, 4.0, 4, 'mean')
    linear = np.interp(new_centers, centers, features[:, 0])
    assert out[0, 0] == 0.0 and out[3, 0] == 4.0  # bins holding one clip: that clip
    np.testing.assert_allclose(out[1:3, 0], linear[1:3])  # empty bins: interpolated

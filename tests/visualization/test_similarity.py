"""Similarity maps: frame re-indexing, the localization score, the figure."""
from __future__ import annotations

import numpy as np
import pytest

from pal_eval.visualization.similarity import (
    cosine_similarity_matrix,
    inside,
    localization_score,
    plot_similarity_maps,
    similarity_map,
    transform_frame_indices,
)


@pytest.mark.parametrize('offset', [-5, -2, 0, 3, 40])
def test_shift_moves_the_action_and_keeps_the_background_order(offset):
    indices, new_start, new_end = transform_frame_indices(20, 6, 10, 'shift', offset)
    assert sorted(indices.tolist()) == list(range(20))  # a permutation: nothing lost
    assert indices[new_start:new_end].tolist() == [6, 7, 8, 9]
    background = [i for i in indices.tolist() if not 6 <= i < 10]
    assert background == [i for i in range(20) if not 6 <= i < 10]
    assert new_start == min(max(6 + offset, 0), 16)


@pytest.mark.parametrize('factor, length', [(0.5, 3), (2.0, 12), (1.0, 6)])
def test_speed_resamples_only_the_action(factor, length):
    indices, new_start, new_end = transform_frame_indices(20, 4, 10, 'speed', factor)
    assert new_end - new_start == length and len(indices) == 20 - 6 + length
    assert indices[:4].tolist() == [0, 1, 2, 3] and indices[new_end:].tolist() == list(
        range(10, 20))
    action = indices[new_start:new_end]
    assert action[0] == 4 and np.all(np.diff(action) >= 0) and action.max() <= 9


def brute_force_score(sim, rows_in, cols_in):
    inside_values, cross_values = [], []
    for i in range(sim.shape[0]):
        for j in range(sim.shape[1]):
            if rows_in[i] and cols_in[j]:
                inside_values.append(sim[i, j])
            elif rows_in[i] or cols_in[j]:
                cross_values.append(sim[i, j])
    return np.mean(inside_values) - np.mean(cross_values)


def test_localization_score_matches_a_loop():
    rng = np.random.default_rng(1)
    sim = rng.uniform(-1, 1, size=(9, 11))
    rows_in, cols_in = rng.random(9) < 0.4, rng.random(11) < 0.4
    rows_in[0] = cols_in[0] = True
    rows_in[1] = cols_in[1] = False
    assert localization_score(sim, rows_in, cols_in) == pytest.approx(
        brute_force_score(sim, rows_in, cols_in))


def test_cosine_similarity_hand_worked():
    sim = cosine_similarity_matrix(np.array([[3.0, 4.0]]), np.array([[4.0, 3.0], [-3.0, -4.0]]))
    np.testing.assert_allclose(sim, [[24 / 25, -1.0]])


def test_constant_action_feature_scores_higher_than_random_features():
    rng = np.random.default_rng(0)
    centers = np.arange(40) * 0.5 + 0.25
    action_a, action_b = (5.0, 9.0), (11.0, 15.0)  # the instance, moved by 6 s
    in_a, in_b = inside(centers, *action_a), inside(centers, *action_b)
    constant = rng.normal(size=16)

    def features_with_constant_action(mask):
        feats = rng.normal(size=(40, 16))
        feats[mask] = constant + 0.05 * rng.normal(size=(mask.sum(), 16))
        return feats

    localized = similarity_map('localized', 'shift', features_with_constant_action(in_a),
                               centers, action_a, features_with_constant_action(in_b),
                               centers, action_b)
    random = similarity_map('random', 'shift', rng.normal(size=(40, 16)), centers, action_a,
                            rng.normal(size=(40, 16)), centers, action_b)
    assert localized.score > 0.8
    assert abs(random.score) < 0.15
    assert localized.score > random.score


def test_figure_is_written(tmp_path):
    rng = np.random.default_rng(0)
    centers = np.arange(6) + 0.5
    maps = [similarity_map(name, transform, rng.normal(size=(6, 4)), centers, (1.0, 3.0),
                           rng.normal(size=(6, 4)), centers, (2.0, 4.0))
            for name in ('a', 'b') for transform in ('shift', 'speed')]
    plot_similarity_maps(maps, tmp_path / 'fig.png', title='test')
    assert (tmp_path / 'fig.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_mean_localization_score_prefers_action_distinct_features(tmp_path):
    import pandas as pd

    from pal_eval.data.features import FeatureStore, write_video_features
    from pal_eval.visualization.similarity import mean_localization_score

    rng = np.random.default_rng(0)
    centers = np.arange(20) + 0.5
    action = (centers >= 5) & (centers <= 12)
    distinct = rng.normal(size=(20, 8))
    distinct[action] = np.r_[1.0, np.zeros(7)] + 0.01 * rng.normal(size=(action.sum(), 8))
    write_video_features(tmp_path / 'a', 'v', distinct, centers, duration=20.0)
    write_video_features(tmp_path / 'b', 'v', rng.normal(size=(20, 8)), centers, duration=20.0)
    instances = pd.DataFrame({'video_id': ['v'], 't_start': [5.0], 't_end': [12.0]})
    tight = mean_localization_score(FeatureStore(tmp_path / 'a'), instances)
    noise = mean_localization_score(FeatureStore(tmp_path / 'b'), instances)
    # hand check: inside ~1 (near-identical clips), across ~0 (random directions)
    assert tight > 0.8 and abs(noise) < 0.2


def test_localization_score_ignores_a_common_offset(tmp_path):
    """Anisotropy (a large vector shared by every feature) leaves the standardised score
    unchanged; raw cosines would all go to 1 and the score to 0."""
    import pandas as pd

    from pal_eval.data.features import FeatureStore, write_video_features
    from pal_eval.visualization.similarity import mean_localization_score

    rng = np.random.default_rng(1)
    centers = np.arange(30) + 0.5
    features = rng.normal(size=(30, 8))
    features[10:20] += 2.0 * rng.normal(size=8)          # the action: its own direction
    write_video_features(tmp_path / 'a', 'v', features, centers, duration=30.0)
    write_video_features(tmp_path / 'b', 'v', features + 100.0, centers, duration=30.0)
    instances = pd.DataFrame({'video_id': ['v'], 't_start': [10.0], 't_end': [20.0]})
    plain = mean_localization_score(FeatureStore(tmp_path / 'a'), instances)
    offset = mean_localization_score(FeatureStore(tmp_path / 'b'), instances)
    assert plain > 0.3 and offset == pytest.approx(plain, abs=1e-9)

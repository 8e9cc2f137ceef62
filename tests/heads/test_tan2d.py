"""2D-TAN head: map geometry and targets on hand-worked cases, OOV words, a tiny training run."""
from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
import torch
from mmaction.structures import ActionDataSample

import pal_eval  # noqa: F401  (compat fixes and registration come first)
from heads.tan2d import (
    TAN2D,
    Vocabulary,
    load_word_vectors,
    max_pool_moment_map,
    moment_boundaries,
    moment_iou_map,
    rank_moments,
    scaled_iou_targets,
    sparse_moment_mask,
    tokenize,
)
from pal_eval.data.datasets.grounding import pool_features_to_clips
from pal_eval.data.features import dump_meta, write_video_features

# ------------------------------------------------------------------------- 2D map geometry


def cells(mask: np.ndarray) -> set[tuple[int, int]]:
    return {(int(a), int(b)) for a, b in zip(*np.nonzero(mask))}


def test_dense_mask_is_upper_triangle():
    assert cells(sparse_moment_mask(4, (4,))) == {(a, b) for a in range(4) for b in range(a, 4)}
    # More diagonals than clips: still the upper triangle, nothing out of range.
    assert sparse_moment_mask(3, (16,)).sum() == 6


def test_sparse_mask_hand_worked():
    # N = 8, scales (4, 2): offsets 0..3 at every start; then offsets 5 and 7 at stride 2,
    # starts 0, 2, 4, ... with the end inside the map: (0, 5), (2, 7) and (0, 7).
    expected = {(a, a + d) for d in range(4) for a in range(8 - d)} | {(0, 5), (2, 7), (0, 7)}
    assert cells(sparse_moment_mask(8, (4, 2))) == expected


def test_sparse_mask_activitynet_matches_the_paper_rule():
    # The paper's rule for N = 64, (16, 8, 8), written independently as a predicate.
    def valid(a: int, b: int) -> bool:
        d = b - a
        if 0 <= d < 16:
            return True
        if 17 <= d <= 31:
            return d % 2 == 1 and a % 2 == 0
        if 35 <= d <= 63:
            return (d - 35) % 4 == 0 and a % 4 == 0
        return False

    mask = sparse_moment_mask(64, (16, 8, 8))
    expected = {(a, b) for a in range(64) for b in range(a, 64) if valid(a, b)}
    assert cells(mask) == expected
    # Counted by hand: 904 + (24+23+...+17) + (8+7+...+1) = 904 + 164 + 36.
    assert mask.sum() == 1104


def test_candidate_to_seconds_hand_worked():
    # Features every second, centres 0.5..7.5 s, video 8.3 s: the map spans [0, 8] s.
    clips, span = pool_features_to_clips(np.zeros((8, 1)), np.arange(8) + 0.5, 8.3, 4)
    assert span == (0.0, 8.0)
    bounds = moment_boundaries(4, *span)
    assert bounds[1, 2].tolist() == [2.0, 6.0]
    assert bounds[0, 3].tolist() == [0.0, 8.0]
    assert bounds[3, 3].tolist() == [6.0, 8.0]
    # Features that start late (centres 2.5..5.5 s): clip 0 of a 2-clip map is [2, 4] s.
    _, late = pool_features_to_clips(np.zeros((4, 1)), np.array([2.5, 3.5, 4.5, 5.5]), 9, 2)
    assert late == (2.0, 6.0)
    assert moment_boundaries(2, *late)[0, 0].tolist() == [2.0, 4.0]


def test_rank_moments_orders_by_score_and_clips_to_duration():
    scores = np.array([[0.1, 0.9], [0.0, 0.5]])
    mask = np.array([[True, True], [False, True]])
    segments, ranked = rank_moments(scores, mask, 0.0, 10.0, duration=9.0)
    assert ranked.tolist() == [0.9, 0.5, 0.1]
    # (0, 1) = [0, 10] clipped to the 9 s video; (1, 1) = [5, 10] -> [5, 9]; (0, 0) = [0, 5].
    assert segments.tolist() == [[0.0, 9.0], [5.0, 9.0], [0.0, 5.0]]


def test_max_pool_moment_map_matches_brute_force():
    clips = torch.randn(2, 3, 5)
    moment_map = max_pool_moment_map(clips)
    for a in range(5):
        for b in range(5):
            expected = clips[..., a:b + 1].amax(-1) if a <= b else torch.zeros(2, 3)
            assert torch.equal(moment_map[..., a, b], expected)


# ---------------------------------------------------------------------------- targets
def test_scaled_iou_targets_hand_worked():
    iou = np.array([0.0, 0.5, 0.6, 0.75, 0.9, 1.0])
    assert np.allclose(scaled_iou_targets(iou), [0, 0, 0.2, 0.5, 0.8, 1.0])
    assert np.allclose(scaled_iou_targets(iou, 0.3, 0.7), [0, 0.5, 0.75, 1, 1, 1])


def test_moment_iou_map_hand_worked():
    # Map of 4 clips over [0, 8] s, ground truth [2, 6] s.
    iou = moment_iou_map([2.0, 6.0], 4, 0.0, 8.0)
    assert iou[1, 2] == 1.0                          # [2, 6]
    assert iou[0, 1] == pytest.approx(2 / 6)         # [0, 4]: overlap 2, union 6
    assert iou[1, 3] == pytest.approx(4 / 6)         # [2, 8]: overlap 4, union 6
    assert iou[3, 3] == 0.0                          # [6, 8]: touches only
    target = scaled_iou_targets(iou)
    assert target[1, 2] == 1.0 and target[0, 1] == 0.0
    assert target[1, 3] == pytest.approx((4 / 6 - 0.5) / 0.5)


# ------------------------------------------------------------------------- vocabulary
def tiny_model(vocabulary, **overrides) -> TAN2D:
    kwargs = dict(feat_dim=16, num_clips=8, hidden_dim=32, map_layers=2, map_kernel=3,
                  vocabulary=vocabulary, word_dim=16, lstm_layers=1, lstm_hidden=32)
    kwargs.update(overrides)
    return TAN2D(**kwargs)


def sample(sentence: str, duration: float = 8.0, gt=(2.0, 6.0)) -> ActionDataSample:
    return ActionDataSample(metainfo=dict(sentence=sentence, duration=duration,
                                          time_span=(0.0, duration), gt_segment=list(gt)))


def test_unknown_words_map_to_oov_and_do_not_crash():
    vocab = Vocabulary.from_sentences(['a red circle moves left', 'a blue square'])
    assert tokenize('A RED circle, moves!') == ['a', 'red', 'circle', 'moves']
    unk = vocab.index['<unk>']
    assert vocab.encode('a purple circle') == [vocab.index['a'], unk, vocab.index['circle']]
    assert vocab.encode('zzz ...') == [unk]   # nothing known, nothing at all: one OOV token
    assert vocab.encode('') == [unk]
    model = tiny_model(vocab).eval()
    out = model.predict(torch.randn(2, 16, 8), [sample('a purple hexagon spins'), sample('')])
    for data_sample in out:
        assert data_sample.pred_segments.shape[1] == 2
        assert len(data_sample.pred_segments) == len(data_sample.pred_scores) >= 1


def test_wrong_feature_size_says_which_setting_to_fix():
    model = tiny_model(['red'])
    with pytest.raises(ValueError, match='model.feat_dim is 16'):
        model.predict(torch.randn(1, 12, 8), [sample('red')])
    with pytest.raises(ValueError, match='expects 8'):
        model.predict(torch.randn(1, 16, 6), [sample('red')])


def test_vocabulary_travels_with_the_checkpoint():
    model = tiny_model(['red', 'circle'])
    state = model.state_dict()
    other = tiny_model(['blue', 'square'])
    other.load_state_dict(state)
    assert other.sentence_encoder.vocabulary.words == ['<pad>', '<unk>', 'red', 'circle']
    # The checkpoint survives torch's safe loading (the vocabulary is plain strings).
    buffer = __import__('io').BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    assert torch.load(buffer, weights_only=True).keys() == state.keys()


def test_word_vectors_file(tmp_path):
    path = tmp_path / 'vectors.txt'
    path.write_text('red 1 2 3\nunused 9 9 9\ncircle 4 5 6\n')
    vocab = Vocabulary(['red', 'circle', 'left'])
    weights, found = load_word_vectors(path, vocab, 3)
    assert found == 2
    assert weights[vocab.index['red']].tolist() == [1, 2, 3]
    assert weights[vocab.index['circle']].tolist() == [4, 5, 6]
    assert weights[0].abs().sum() == 0  # padding stays zero
    model = tiny_model(vocab, word_dim=3, word_vectors=str(path), freeze_word_vectors=True)
    assert model.sentence_encoder.embedding.weight[vocab.index['red']].tolist() == [1, 2, 3]
    assert not model.sentence_encoder.embedding.weight.requires_grad


def test_word_vectors_errors_name_the_file(tmp_path):
    from pal_eval.errors import InputError

    with pytest.raises(InputError, match='not found'):
        load_word_vectors(tmp_path / 'missing.txt', Vocabulary(['red']), 3)
    bad = tmp_path / 'bad.txt'
    bad.write_text('red 1 2\n')
    with pytest.raises(InputError, match=r"bad\.txt, line '1'.*expected 3"):
        load_word_vectors(bad, Vocabulary(['red']), 3)


# --------------------------------------------------------- tiny training vs fixed prior
COLOURS = ('red', 'green', 'blue', 'yellow')
SHAPES = ('circle', 'square', 'triangle')
MOTIONS = ('left', 'right', 'up', 'down')
FEAT_DIM = 16


def synthetic_grounding(num_videos: int, seed: int) -> list[dict]:
    """Videos with two actions each; features inside an action encode its attributes.

    The sentence names colour, shape and motion, so the right segment can only be found
    by reading the sentence: the two actions of a video always differ.
    """
    rng = np.random.default_rng(seed)
    queries = []
    for v in range(num_videos):
        num_features = int(rng.integers(20, 40))
        duration = float(rng.uniform(20, 60))
        centers = (np.arange(num_features) + 0.5) * duration / num_features
        features = rng.normal(0, 0.5, (num_features, FEAT_DIM))
        cut = rng.uniform(0.3, 0.7) * duration
        segments = [np.sort(rng.uniform(0, cut, 2)), np.sort(rng.uniform(cut, duration, 2))]
        for k, combo in enumerate(rng.permutation(48)[:2]):
            start, end = segments[k]
            end = max(end, min(duration, start + 0.1 * duration))
            colour, rest = divmod(int(combo), 12)
            shape, motion = divmod(rest, 4)
            code = np.zeros(FEAT_DIM)
            code[[colour, 4 + shape, 7 + motion]] = 1
            features[(centers >= start) & (centers <= end)] += 2 * code
            queries.append(dict(
                query_id=f'v{v}_{k}', video=f'v{v}', duration=duration,
                segment=[float(start), float(end)],
                sentence=f'The {COLOURS[colour]} {SHAPES[shape]} moves {MOTIONS[motion]}.',
                features=features, centers=centers))
    return queries


def hull_iou(a, b) -> float:
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    return inter / (max(a[1], b[1]) - min(a[0], b[0]))


def recall_at_1(predictions, queries, threshold=0.5) -> float:
    return float(np.mean([hull_iou(p, q['segment']) > threshold
                          for p, q in zip(predictions, queries)]))


def fixed_prior_predictions(train, test, num_bins: int) -> list[list[float]]:
    """Best fixed prior: the training set's most frequent relative segment (on the clip grid)."""
    relative = Counter((round(q['segment'][0] / q['duration'] * num_bins),
                        round(q['segment'][1] / q['duration'] * num_bins)) for q in train)
    (start, end), _ = relative.most_common(1)[0]
    return [[start / num_bins * q['duration'], end / num_bins * q['duration']] for q in test]


def best_fixed_predictions(train, test, num_bins: int) -> list[list[float]]:
    """Stronger prior: the relative grid segment with the most training hits at IoU > 0.5."""
    def hits(a, b):
        return sum(hull_iou([a / num_bins * q['duration'], (b + 1) / num_bins * q['duration']],
                            q['segment']) > 0.5 for q in train)

    _, a, b = max((hits(a, b), a, b) for a in range(num_bins) for b in range(a, num_bins))
    return [[a / num_bins * q['duration'], (b + 1) / num_bins * q['duration']] for q in test]


def to_batch(queries, num_clips):
    inputs, samples = [], []
    for q in queries:
        clips, span = pool_features_to_clips(q['features'], q['centers'], q['duration'],
                                             num_clips)
        inputs.append(torch.from_numpy(clips.T.copy()))
        samples.append(ActionDataSample(metainfo=dict(
            sentence=q['sentence'], duration=q['duration'], time_span=span,
            gt_segment=q['segment'])))
    return torch.stack(inputs), samples


def test_tiny_training_beats_the_fixed_prior():
    torch.manual_seed(0)
    num_clips = 16
    train, test = synthetic_grounding(60, seed=0), synthetic_grounding(20, seed=1)
    model = tiny_model([w for q in train for w in tokenize(q['sentence'])],
                       num_clips=num_clips)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    for _ in range(10):
        order = rng.permutation(len(train))
        for i in range(0, len(order), 16):
            inputs, samples = to_batch([train[j] for j in order[i:i + 16]], num_clips)
            loss = model.loss(inputs, samples)['loss_bce']
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()
    out = model.predict(*to_batch(test, num_clips))
    ours = recall_at_1([s.pred_segments[0].tolist() for s in out], test)
    prior = recall_at_1(fixed_prior_predictions(train, test, num_clips), test)
    best_fixed = recall_at_1(best_fixed_predictions(train, test, num_clips), test)
    assert ours > max(prior, best_fixed) + 0.2, (ours, prior, best_fixed)


# ----------------------------------------------------------------- mim train / mim test
def write_synthetic_benchmark(root, num_train=24, num_test=8) -> None:
    """The synthetic benchmark's grounding layout, with features instead of videos."""
    features_dir = root / 'features' / 'random'
    for split, queries in (('train', synthetic_grounding(num_train, 0)),
                           ('test', synthetic_grounding(num_test, 1))):
        for q in queries:
            write_video_features(features_dir, f'{split}_{q["video"]}', q['features'],
                                 q['centers'], duration=q['duration'])
        records = [dict(query_id=f'{split}_{q["query_id"]}', video=f'{split}_{q["video"]}',
                        duration=q['duration'], segment=q['segment'],
                        sentence=q['sentence']) for q in queries]
        (root / 'annotations').mkdir(parents=True, exist_ok=True)
        (root / 'annotations' / f'grounding_{split}.json').write_text(
            json.dumps({'queries': records}))
    dump_meta(features_dir, {'feature_dim': FEAT_DIM})


def synthetic_config_options(root, feature_dir='features/random', feat_dim=FEAT_DIM) -> list:
    """``--cfg-options`` pointing the synthetic CPU config at the benchmark in ``root``."""
    options = [f'model.feat_dim={feat_dim}',
               f'model.vocabulary.ann_file={root}/annotations/grounding_train.json']
    for split in ('train', 'val', 'test'):
        options += [f'{split}_dataloader.dataset.data_root={root}',
                    f'{split}_dataloader.dataset.feature_dir={feature_dir}']
    for split in ('val', 'test'):
        options.append(f'{split}_evaluator.ann_file={root}/annotations/grounding_test.json')
        options.append(f'{split}_dataloader.dataset.ann_file=annotations/grounding_test.json')
    return ['--cfg-options', *options]


@pytest.mark.slow
def test_cpu_config_runs_with_mim_train_and_test(tmp_path, repo_root):
    from tests.mim_utils import run_mim

    config = repo_root / 'configs' / 'grounding' / \
        'tan2d_feat_1xb8-16x16-30e_synthetic-grounding.py'
    write_synthetic_benchmark(tmp_path / 'synth')
    work_dir = tmp_path / 'work'
    options = synthetic_config_options(tmp_path / 'synth')
    train = run_mim(['train', 'mmaction2', config, '--work-dir', work_dir, *options,
                     'train_cfg.max_epochs=1', 'train_cfg.val_begin=1'], cwd=tmp_path)
    assert 'R@1,IoU=0.5' in train.stdout + train.stderr   # in-loop validation ran
    checkpoint = work_dir / 'epoch_1.pth'
    assert checkpoint.exists()
    test = run_mim(['test', 'mmaction2', config, '--checkpoint', checkpoint, '--work-dir',
                    work_dir, *options], cwd=tmp_path)
    assert 'R@1,IoU=0.5' in test.stdout + test.stderr
    # The dumped predictions are the canonical grounding prediction JSON, one entry per query.
    dumped = json.loads((tmp_path / 'work_dirs' /
                         'tan2d_synthetic-grounding_predictions.json').read_text())
    test_queries = json.loads((tmp_path / 'synth' / 'annotations' /
                               'grounding_test.json').read_text())['queries']
    assert set(dumped['results']) == {q['query_id'] for q in test_queries}

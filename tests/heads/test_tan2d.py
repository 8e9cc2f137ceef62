"""2D-TAN head: map geometry and targets on hand-worked cases, OOV words, a tiny training run."""
from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmaction.structures import ActionDataSample

import pal_eval  # noqa: F401  (compat fixes and registration come first)
from heads.tan2d import (
    TAN2D,
    FrozenWordVectors,
    Vocabulary,
    apply_map_convs,
    load_word_vectors,
    map_conv_paddings,
    map_conv_weights,
    max_pool_moment_map,
    moment_boundaries,
    moment_iou_map,
    rank_moments,
    scaled_iou_targets,
    sparse_moment_mask,
    tokenize,
    tokenize_whitespace,
    tokenize_whitespace_drop_final_period,
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
    """Learned embeddings started from a file: its vectors, small random ones for the rest."""
    path = tmp_path / 'vectors.txt'
    path.write_text('red 1 2 3\nunused 9 9 9\ncircle 4 5 6\n')
    vocab = Vocabulary(['red', 'circle', 'left'])
    weights, found = load_word_vectors(path, vocab, 3)
    assert found == 2
    assert weights[vocab.index['red']].tolist() == [1, 2, 3]
    assert weights[vocab.index['circle']].tolist() == [4, 5, 6]
    assert weights[0].abs().sum() == 0  # padding stays zero
    model = tiny_model(vocab, word_dim=3, word_vectors=str(path), freeze_word_vectors=False)
    assert model.sentence_encoder.embedding.weight[vocab.index['red']].tolist() == [1, 2, 3]
    assert model.sentence_encoder.embedding.weight.requires_grad


def test_word_vectors_errors_name_the_file(tmp_path):
    from pal_eval.errors import InputError

    with pytest.raises(InputError, match='not found'):
        load_word_vectors(tmp_path / 'missing.txt', Vocabulary(['red']), 3)
    bad = tmp_path / 'bad.txt'
    bad.write_text('red 1 2\n')
    with pytest.raises(InputError, match=r"bad\.txt, line '1'.*expected 3"):
        load_word_vectors(bad, Vocabulary(['red']), 3)


def test_word_vector_value_errors_name_the_line(tmp_path):
    from pal_eval.errors import InputError

    bad = tmp_path / 'bad.txt'
    bad.write_text('red 1 2 3\ncircle 1 x 3\n')
    with pytest.raises(InputError, match=r"bad\.txt, line '2'.*non-numeric"):
        load_word_vectors(bad, Vocabulary(['red', 'circle']), 3)


# ------------------------------------------------- 2D-TAN's text input: frozen GloVe vectors
GLOVE_LINES = 'the 0.1 0.2 0.3\nperson 1 0 0\nopens 0 1 0\ndoor 0 0 1\nman 2 0 0\n'


@pytest.fixture
def glove(tmp_path):
    path = tmp_path / 'glove.tiny.3d.txt'
    path.write_text(GLOVE_LINES)
    return str(path)


def test_official_tokenizers():
    """2D-TAN's words are ``sentence.split()``, lower-cased (``lib/datasets/*.py``).

    The Charades loader first keeps the text before ``'.\\n'`` (every line of
    ``charades_sta_*.txt`` ends so), so the final period goes; ActivityNet keeps it glued
    to the last word, and inner punctuation stays glued in both.
    """
    assert tokenize_whitespace('A man holds the Camera.') == \
        ['a', 'man', 'holds', 'the', 'camera.']
    for sentence in ('person opens the door.', 'person opens the door'):
        assert tokenize_whitespace_drop_final_period(sentence) == \
            ['person', 'opens', 'the', 'door']
    assert tokenize_whitespace_drop_final_period("Person's door, then.") == \
        ["person's", 'door,', 'then']
    assert Vocabulary(['a'], tokenizer='whitespace').encode('A b.') == [2, 1]
    with pytest.raises(ValueError, match='unknown tokenizer'):
        tiny_model(['red'], tokenizer='spaces')


def test_frozen_word_vectors_are_the_file_lookups(glove):
    """Frozen vectors (2D-TAN): every word of the file, unknown words zero, no parameters.

    From the file: 'The person opens the door.' (Charades words) -> rows ``the``,
    ``person``, ``opens``, ``the``, ``door`` = [.1 .2 .3], [1 0 0], [0 1 0], [.1 .2 .3],
    [0 0 1]; 'Man camera.' (ActivityNet words) -> ``man`` = [2 0 0] although no training
    sentence has it, and ``camera.`` is unknown -> [0 0 0].
    """
    charades = FrozenWordVectors(glove, 3, 'whitespace_drop_final_period')
    assert len(charades) == 5
    assert torch.equal(charades.embed('The person opens the door.'), torch.tensor(
        [[0.1, 0.2, 0.3], [1, 0, 0], [0, 1, 0], [0.1, 0.2, 0.3], [0, 0, 1]]))
    model = tiny_model(['unused'], word_dim=3, word_vectors=glove, tokenizer='whitespace')
    assert not any('embedding' in key for key in model.state_dict())
    encoder = model.sentence_encoder
    _, (hidden, _) = encoder.lstm(torch.tensor([[[2.0, 0, 0], [0, 0, 0]]]))
    assert torch.allclose(encoder(['Man camera.']), hidden[-1])
    # A padded batch: each sentence's state after its own last word.
    both = encoder(['Man camera.', 'the person opens the door'])
    assert torch.allclose(both[0], hidden[-1][0], atol=1e-6)


def test_missing_word_vector_file_is_one_clear_error(tmp_path):
    from pal_eval.errors import InputError

    with pytest.raises(InputError, match=r"missing\.txt, field 'word_vectors': word-vector "
                                         r'file not found.*model\.word_vectors=None'):
        tiny_model(['red'], word_dim=3, word_vectors=str(tmp_path / 'missing.txt'))


def test_learned_and_frozen_checkpoints_do_not_mix(glove):
    learned = tiny_model(['red'], word_dim=3)
    frozen = tiny_model(['red'], word_dim=3, word_vectors=glove)
    with pytest.raises(ValueError, match='learned its word embeddings'):
        frozen.load_state_dict(learned.state_dict(), strict=False)
    with pytest.raises(ValueError, match='frozen word vectors'):
        learned.load_state_dict(frozen.state_dict(), strict=False)
    frozen.load_state_dict(tiny_model(['red'], word_dim=3, word_vectors=glove).state_dict())


# ----------------------------------------------------------- 2D-TAN's MapConv, hand-worked
UPPER_4X4 = torch.triu(torch.ones(4, 4, dtype=torch.bool))


def test_map_conv_paddings():
    """All padding in the first layer: ``2 P = (k - 1) L`` (PADDINGS of the pool configs)."""
    assert map_conv_paddings(5, 8) == [16] + [0] * 7      # Charades-STA K5L8
    assert map_conv_paddings(9, 4) == [16, 0, 0, 0]       # ActivityNet K9L4
    assert map_conv_paddings(3, 2, 2) == [2, 0]
    with pytest.raises(ValueError, match='must be even'):
        map_conv_paddings(4, 1)
    with pytest.raises(ValueError, match='needs 2'):
        map_conv_paddings(3, 2, 1)


def test_map_conv_weights_hand_worked_4x4():
    """One layer, k = 3, padding 1, on the dense 4 x 4 map (valid cells a <= b).

    Valid cells in each 3 x 3 window, counted by hand, e.g. (0, 0): (0,0) (0,1) (1,1) = 3;
    (1, 2): rows 0..2 x cols 1..3 hold 3 + 3 + 2 = 8; (2, 0): only (1, 1) = 1; (3, 0):
    rows 2..3 x cols 0..1 hold none = 0. Weight = 1 / count, 0 where the count is 0.
    """
    counts = torch.tensor([[3, 5, 6, 4], [3, 6, 8, 6], [1, 3, 6, 5], [0, 1, 3, 3]],
                          dtype=torch.float64)
    [weight] = map_conv_weights(UPPER_4X4, 3, [1])
    expected = torch.where(counts > 0, 1 / counts.clamp(min=1), 0.0)
    assert torch.equal(weight, expected)


def test_map_conv_layer_hand_worked_4x4():
    """``ReLU(conv(x)) / count`` with a 3 x 3 kernel of ones and bias -3.

    x = [[1 2 3 4], [0 5 6 7], [0 0 8 9], [0 0 0 10]] (zero below the diagonal).
    Window sums by hand, then (sum - 3) / count: (0,0): 1+2+5 = 8 -> 5/3; (0,1):
    1+2+3+5+6 = 17 -> 14/5; (1,2): 9 + 18 + 17 = 44 -> 41/8; (2,0): 5 -> 2/1; (3,0):
    0 -> ReLU(-3) = 0; (3,1): 8 -> 5/1 (a cell outside the moment mask: not zeroed).
    The former same-padding conv times the binary mask would give 5, 14, 41, 0, 0, 0.
    """
    x = torch.tensor([[1, 2, 3, 4], [0, 5, 6, 7], [0, 0, 8, 9], [0, 0, 0, 10]],
                     dtype=torch.float64)[None, None]
    conv = torch.nn.Conv2d(1, 1, 3, padding=1).double()
    conv.weight.data.fill_(1.0)
    conv.bias.data.fill_(-3.0)
    out = apply_map_convs(x, [conv], map_conv_weights(UPPER_4X4, 3, [1]))
    expected = torch.tensor([[5 / 3, 14 / 5, 4, 17 / 4], [5 / 3, 11 / 3, 41 / 8, 17 / 3],
                             [2, 16 / 3, 7, 37 / 5], [0, 5, 8, 8]], dtype=torch.float64)
    assert torch.allclose(out[0, 0], expected, rtol=1e-12, atol=0)


def test_map_conv_mask_dilates_by_one_radius_per_layer():
    """Two layers, k = 3: padding 2 then 0, the map grows to 6 x 6 and comes back to 4 x 4.

    Layer 1 cell (i, j) sees input rows i-2..i and cols j-2..j: it has no valid cell
    exactly when every row in range exceeds every col, i.e. (3,0), (4,0), (4,1), (5,0),
    (5,1), (5,2). Layer 2 cell (3, 0) sees layer-1 rows 3..5 x cols 0..2, of which
    (3,1), (3,2) and (4,2) are valid: weight 1/3 although (3, 0) is not a moment; cell
    (0, 0) sees 9 valid cells: 1/9.
    """
    first, second = map_conv_weights(UPPER_4X4, 3, map_conv_paddings(3, 2))
    assert first.shape == (6, 6) and second.shape == (4, 4)
    invalid = {(int(i), int(j)) for i, j in zip(*torch.nonzero(first == 0, as_tuple=True))}
    assert invalid == {(3, 0), (4, 0), (4, 1), (5, 0), (5, 1), (5, 2)}
    assert second[3, 0] == pytest.approx(1 / 3) and second[0, 0] == pytest.approx(1 / 9)
    assert (second > 0).all()


def brute_force_map_conv(x, mask, weights, biases, paddings):
    """2D-TAN's MapConv by loops: zero-padded cross-correlation, valid-cell counts."""
    valid = mask.double()
    for weight, bias, pad in zip(weights, biases, paddings):
        out_ch, in_ch, k, _ = weight.shape
        size = x.shape[-1] + 2 * pad - k + 1
        y = torch.zeros(x.shape[0], out_ch, size, size, dtype=torch.float64)
        count = torch.zeros(size, size, dtype=torch.float64)
        for i in range(size):
            for j in range(size):
                for u in range(k):
                    for v in range(k):
                        a, b = i + u - pad, j + v - pad
                        if 0 <= a < x.shape[-1] and 0 <= b < x.shape[-1]:
                            y[:, :, i, j] += x[:, :, a, b] @ weight[:, :, u, v].T
                            count[i, j] += valid[a, b]
                y[:, :, i, j] += bias
        x = torch.relu(y) * torch.where(count > 0, 1 / count.clamp(min=1), 0.0)
        valid = (count > 0).double()
    return x


def test_map_conv_matches_loops_of_the_definition():
    torch.manual_seed(0)
    mask = torch.from_numpy(sparse_moment_mask(6, (3, 2)))
    paddings = map_conv_paddings(3, 3)
    convs = [torch.nn.Conv2d(4, 4, 3, padding=p).double() for p in paddings]
    x = torch.randn(2, 4, 6, 6, dtype=torch.float64) * mask
    ours = apply_map_convs(x, convs, map_conv_weights(mask, 3, paddings))
    expected = brute_force_map_conv(x, mask, [c.weight.data for c in convs],
                                    [c.bias.data for c in convs], paddings)
    assert torch.allclose(ours, expected, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------- official 2D-TAN checkpoints
#: State dict keys and shapes of 2D-TAN's ``TAN`` (``lib/models/tan.py``) for a small pool
#: model: FrameAvgPool(INPUT_SIZE 6, HIDDEN_SIZE 8) -> ``frame_layer.vis_conv`` Conv1d(6, 8,
#: 1); SparsePropMaxPool: no parameters; BaseFusion(TXT_INPUT_SIZE 3, TXT_HIDDEN_SIZE 8,
#: LSTM 2 layers, unidirectional) -> ``fusion_layer.textual_encoder`` (gates 4 x 8 = 32),
#: ``fusion_layer.tex_linear`` Linear(8, 8), ``fusion_layer.vis_conv`` Conv2d(8, 8, 1);
#: MapConv(HIDDEN_SIZES [8, 8], KERNEL_SIZES [3, 3]) -> ``map_layer.convs.{0,1}``;
#: ``pred_layer`` Conv2d(8, 1, 1).
OFFICIAL_KEYS = {
    'frame_layer.vis_conv.weight': (8, 6, 1), 'frame_layer.vis_conv.bias': (8,),
    'fusion_layer.textual_encoder.weight_ih_l0': (32, 3),
    'fusion_layer.textual_encoder.weight_hh_l0': (32, 8),
    'fusion_layer.textual_encoder.bias_ih_l0': (32,),
    'fusion_layer.textual_encoder.bias_hh_l0': (32,),
    'fusion_layer.textual_encoder.weight_ih_l1': (32, 8),
    'fusion_layer.textual_encoder.weight_hh_l1': (32, 8),
    'fusion_layer.textual_encoder.bias_ih_l1': (32,),
    'fusion_layer.textual_encoder.bias_hh_l1': (32,),
    'fusion_layer.tex_linear.weight': (8, 8), 'fusion_layer.tex_linear.bias': (8,),
    'fusion_layer.vis_conv.weight': (8, 8, 1, 1), 'fusion_layer.vis_conv.bias': (8,),
    'map_layer.convs.0.weight': (8, 8, 3, 3), 'map_layer.convs.0.bias': (8,),
    'map_layer.convs.1.weight': (8, 8, 3, 3), 'map_layer.convs.1.bias': (8,),
    'pred_layer.weight': (1, 8, 1, 1), 'pred_layer.bias': (1,),
}


def official_forward(state, word_vectors, visual, *, pool, scales, paddings):
    """2D-TAN's forward written from its definition, reading the official keys.

    ``word_vectors``: per sentence the ``[L, 3]`` GloVe rows; ``visual``: ``[B, T, C]``.
    FrameAvgPool: ReLU(conv1d) then AvgPool1d(pool, pool). SparsePropMaxPool: per scale a
    cascade MaxPool1d(1, 1) (scale 0) or (3, 2), then MaxPool1d(2, 1); layer i of a scale
    fills cells (a, a + acc + i * stride) for a = 0, stride, ... (recover_to_original_map).
    BaseFusion: LSTM over the padded batch, output at index len - 1, Linear, times the 1x1
    conv of the map, L2-normalised over channels, masked. MapConv: ReLU(conv), times
    1 / round(conv2d(mask, ones)) where > 0, mask := weight > 0. pred_layer, masked.
    """
    x = torch.relu(F.conv1d(visual.transpose(1, 2), state['frame_layer.vis_conv.weight'],
                            state['frame_layer.vis_conv.bias']))
    x = F.avg_pool1d(x, pool, pool)
    batch, hidden, n = x.shape
    map_h = x.new_zeros(batch, hidden, n, n)
    map_mask = x.new_zeros(batch, 1, n, n)
    accumulated, stride = 0, 1
    for scale, layers in enumerate(scales):
        for i in range(layers):
            kernel, step = ((1, 1) if scale == 0 else (3, 2)) if i == 0 else (2, 1)
            x = F.max_pool1d(x, kernel, step)
            stride *= step
            for j, a in enumerate(range(0, n - accumulated - i * stride, stride)):
                map_h[:, :, a, a + accumulated + i * stride] = x[:, :, j]
                map_mask[:, :, a, a + accumulated + i * stride] = 1
        accumulated += stride * (layers + 1)
    lstm = torch.nn.LSTM(3, 8, num_layers=2, batch_first=True)
    prefix = 'fusion_layer.textual_encoder.'
    lstm.load_state_dict({k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)})
    padded = torch.nn.utils.rnn.pad_sequence(word_vectors, batch_first=True)
    text_mask = torch.nn.utils.rnn.pad_sequence([torch.ones(len(w), 1) for w in word_vectors],
                                                batch_first=True)
    txt = lstm(padded)[0] * text_mask
    txt = torch.stack([txt[i, len(w) - 1] for i, w in enumerate(word_vectors)])
    txt = F.linear(txt, state['fusion_layer.tex_linear.weight'],
                   state['fusion_layer.tex_linear.bias'])[:, :, None, None]
    map_h = F.conv2d(map_h, state['fusion_layer.vis_conv.weight'],
                     state['fusion_layer.vis_conv.bias'])
    fused = F.normalize(txt * map_h) * map_mask
    padded_mask = map_mask
    for i, padding in enumerate(paddings):
        weight = state[f'map_layer.convs.{i}.weight']
        fused = torch.relu(F.conv2d(fused, weight, state[f'map_layer.convs.{i}.bias'],
                                    padding=padding))
        counts = torch.round(F.conv2d(padded_mask, torch.ones(1, 1, *weight.shape[-2:]),
                                      padding=padding))
        counts[counts > 0] = 1 / counts[counts > 0]
        padded_mask = (counts > 0).float()
        fused = fused * counts
    return (F.conv2d(fused, state['pred_layer.weight'], state['pred_layer.bias'])
            * map_mask)[:, 0]


def test_official_checkpoint_loads_and_gives_the_official_scores(tmp_path, glove):
    """Random weights in the official layout -> our TAN2D gives 2D-TAN's scores.

    Map of 8 clips from 16 sampled ones (pool 2), sparse scales (4, 2), 2 map layers of
    kernel 3 (paddings 2, 0), Charades words over the tiny GloVe file.
    """
    from heads.tan2d import load_official_tan2d

    generator = torch.Generator().manual_seed(0)
    state = {k: torch.randn(shape, generator=generator) * 0.5
             for k, shape in OFFICIAL_KEYS.items()}
    path = tmp_path / 'iter000001-0.1-0.2.pkl'
    torch.save(state, path)
    model = load_official_tan2d(path, num_clips=8, clip_pool=2, diagonals_per_scale=(4, 2),
                                word_vectors=glove,
                                tokenizer='whitespace_drop_final_period')
    assert (model.feat_dim, model.num_clips, len(model.map_convs)) == (6, 8, 2)
    visual = torch.randn(2, 16, 6, generator=generator)
    sentences = ['The person opens the door.', 'person man']
    rows = {line.split()[0]: [float(v) for v in line.split()[1:]]
            for line in GLOVE_LINES.splitlines()}
    vectors = [torch.tensor([rows['the'], rows['person'], rows['opens'], rows['the'],
                             rows['door']]), torch.tensor([rows['person'], rows['man']])]
    expected = official_forward(state, vectors, visual, pool=2, scales=(4, 2),
                                paddings=(2, 0))
    ours = model.score_logits(visual.transpose(1, 2), sentences)
    assert torch.allclose(ours, expected, rtol=1e-5, atol=1e-6)
    assert expected.abs().amax() > 0.1     # a non-trivial comparison
    # DataParallel checkpoints ('module.' prefix) load too; foreign keys are refused.
    torch.save({'module.' + k: v for k, v in state.items()}, path)
    load_official_tan2d(path, num_clips=8, clip_pool=2, diagonals_per_scale=(4, 2),
                        word_vectors=glove)
    torch.save({**state, 'frame_layer.extra': torch.zeros(1)}, path)
    from pal_eval.errors import InputError

    with pytest.raises(InputError, match='not an official 2D-TAN'):
        load_official_tan2d(path, num_clips=8, clip_pool=2, word_vectors=glove)


def test_clip_pool_input_length_error_names_both_settings():
    model = tiny_model(['red'], num_clips=4, clip_pool=2)
    with pytest.raises(ValueError, match='expects 8 = num_clips 4 x clip_pool 2'):
        model.predict(torch.randn(1, 16, 4), [sample('red')])
    [out] = model.predict(torch.randn(1, 16, 8), [sample('red')])
    assert len(out.pred_scores) >= 1


def test_float32_nms_keeps_what_2d_tan_keeps():
    """Head NMS at 0.5 on a 16-clip map of a 30.96 s video (hand-worked).

    Cells (0, 0) = [0, d/16] and (0, 1) = [0, d/8]: tIoU = (d/16) / (d/16 + d/8 - d/16).
    float64: d/16 + d/8 = 3d/16 loses its last bit, the quotient is 0.5000000000000001
    > 0.5 and (0, 1) is suppressed. 2D-TAN holds the times in float32 (24-bit mantissas),
    so the float64 sum of two of them is exact and the tIoU is 0.5: (0, 1) is kept.
    """
    model = tiny_model(['red'], num_clips=16, nms_thresh=0.5)
    logits = torch.full((1, 16, 16), -5.0)
    logits[0, 0, 0], logits[0, 0, 1] = 3.0, 2.0
    model.score_logits = lambda clips, sentences: logits
    kept = {}
    for precision in ('float64', 'float32'):
        model.time_precision = precision
        [out] = model.predict(torch.zeros(1, 16, 16), [sample('red', duration=30.96)])
        kept[precision] = out.pred_segments[:2].tolist()
    assert kept['float64'][1] != [0.0, 30.96 / 8]
    assert kept['float32'] == [[0.0, 30.96 / 16], [0.0, 30.96 / 8]]  # output stays float64


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
    # The dumped predictions are the canonical grounding prediction JSON, one entry per
    # query, under --work-dir (the config's relative dump_path).
    dumped = json.loads((work_dir / 'predictions.json').read_text())
    test_queries = json.loads((tmp_path / 'synth' / 'annotations' /
                               'grounding_test.json').read_text())['queries']
    assert set(dumped['results']) == {q['query_id'] for q in test_queries}


# ------------------------------------------------------------------- reproducing configs
@pytest.mark.parametrize('name, pool, nms, tokenizer, kernel, layers', [
    ('tan2d_feat_1xb32-16x16-k5l8-100e_charades-sta.py', 16, 0.45,
     'whitespace_drop_final_period', 5, 8),
    ('tan2d_feat_1xb32-64x64-k9l4-100e_activitynet-captions.py', 4, 0.5, 'whitespace', 9, 4),
])
def test_reproducing_configs_hold_the_official_settings(repo_root, tmp_path, name, pool, nms,
                                                        tokenizer, kernel, layers):
    """Values of microsoft/2D-TAN ``experiments/*/2D-TAN-*-pool.yaml`` and ``train.py``:
    NUM_SAMPLE_CLIPS 256 with TARGET_STRIDE = FrameAvgPool stride ``pool``, NORMALIZE
    True, PADDINGS [16, 0, ...], NMS_THRESH (Charades 0.45, ActivityNet 0.5),
    ``clip_grad_norm_(..., 10)``, Adam 1e-4, batch 32, frozen glove.6B.300d."""
    from mmengine.config import Config

    from pal_eval.errors import InputError

    cfg = Config.fromfile(repo_root / 'configs' / 'grounding' / name)
    model = cfg.model
    assert model.clip_pool == pool and model.num_clips * model.clip_pool == 256
    assert cfg.train_pipeline[0] == dict(type='LoadGroundingClips', num_clips=256,
                                         l2_normalize=True)
    assert (model.map_kernel, model.map_layers, model.map_padding) == (kernel, layers, 16)
    assert model.nms_thresh == cfg.val_evaluator.nms_thresh == cfg.test_evaluator.nms_thresh \
        == nms
    assert model.word_vectors.endswith('glove.6B.300d.txt') and model.freeze_word_vectors
    assert model.tokenizer == tokenizer and model.word_dim == 300
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=10, norm_type=2)
    assert cfg.optim_wrapper.optimizer.lr == 1e-4 and cfg.train_dataloader.batch_size == 32
    # No checkpoint is picked on the test split.
    save_best = cfg.default_hooks.checkpoint.save_best
    assert save_best is None or cfg.val_dataloader.dataset.ann_file != \
        cfg.test_dataloader.dataset.ann_file
    # The GloVe file is not shipped: building the model says which setting to fix.
    with pytest.raises(InputError, match=r"field 'word_vectors'.*model\.word_vectors=None"):
        TAN2D(**{k: v for k, v in model.items() if k != 'type'} | dict(
            feat_dim=512, word_vectors=str(tmp_path / 'glove.6B.300d.txt')))

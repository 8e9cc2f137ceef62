"""2D-TAN: natural-language moment grounding on a 2D temporal map of candidate moments.

Zhang, Peng, Fu and Luo, "Learning 2D Temporal Adjacent Networks for Moment
Localization with Natural Language", AAAI 2020 (https://arxiv.org/abs/1912.03590).

A video's clip features (pooled to ``N`` clips by the grounding dataset) are arranged on
an ``N x N`` map whose cell ``(a, b)`` is the candidate moment from clip ``a`` to clip
``b`` (``a <= b``). Its feature is the max over the clips it covers (the paper's
"pooling" variant). The sentence, encoded by word embeddings and an LSTM, is fused with
every cell (Hadamard product, then L2 normalisation); stacked 2D convolutions let each
candidate see its temporal neighbours; a 1x1 convolution scores every cell. Training uses
binary cross-entropy against the moment's IoU with the ground truth, rescaled so that
IoU <= ``min_iou`` is 0 and IoU >= ``max_iou`` is 1.

Long videos use the paper's sparse sampling: all short moments are kept, longer moments
only at coarser start/end strides (:func:`sparse_moment_mask`).

The file has a functional core (vocabulary, map geometry, targets, ranking; numpy and
torch only) and the MMEngine model :class:`TAN2D` on top of it.
"""
from __future__ import annotations

import os
import re
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from pal_eval.errors import InputError

PAD_TOKEN = '<pad>'
OOV_TOKEN = '<unk>'
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


# --------------------------------------------------------------------------- vocabulary
def tokenize(sentence: str) -> list[str]:
    """Lower-case words of a sentence; punctuation is dropped (tokenizer ``'words'``).

    Examples:
        >>> tokenize('The RED circle moves left.')
        ['the', 'red', 'circle', 'moves', 'left']
    """
    return _WORD.findall(sentence.lower())


def tokenize_whitespace(sentence: str) -> list[str]:
    """2D-TAN's ActivityNet tokens: ``sentence.split()``, lower-cased (tokenizer ``'whitespace'``).

    Punctuation stays glued to its word (``'camera.'``), which GloVe does not know: in
    ActivityNet Captions ``val_1`` 21,846 of 237,772 tokens (9.2 %) are such words, and the
    official model sees them as zero vectors.

    Examples:
        >>> tokenize_whitespace('A man is Shown, then leaves.')
        ['a', 'man', 'is', 'shown,', 'then', 'leaves.']
    """
    return [word.lower() for word in sentence.split()]


def tokenize_whitespace_drop_final_period(sentence: str) -> list[str]:
    """2D-TAN's Charades-STA tokens: one final ``'.'`` removed, then :func:`tokenize_whitespace`.

    The official Charades loader keeps the text before ``'.\\n'`` (every line of
    ``charades_sta_{train,test}.txt`` ends so); our loader keeps the period.

    Examples:
        >>> tokenize_whitespace_drop_final_period('person turn a light on.')
        ['person', 'turn', 'a', 'light', 'on']
    """
    return tokenize_whitespace(sentence.strip().removesuffix('.'))


#: Sentence -> tokens, by the name a config gives (``model.tokenizer``).
TOKENIZERS = {'words': tokenize, 'whitespace': tokenize_whitespace,
              'whitespace_drop_final_period': tokenize_whitespace_drop_final_period}


def get_tokenizer(name: str):
    """The tokenizer called ``name`` (a key of :data:`TOKENIZERS`)."""
    if name not in TOKENIZERS:
        raise ValueError(f'unknown tokenizer {name!r}: choose one of {sorted(TOKENIZERS)}')
    return TOKENIZERS[name]


class Vocabulary:
    """Word <-> index map with a padding token (index 0) and an OOV token (index 1).

    Args:
        words: The known words (duplicates and the special tokens are ignored).
        tokenizer: Name of the tokenizer splitting sentences (:data:`TOKENIZERS`).

    Examples:
        >>> vocab = Vocabulary.from_sentences(['a red circle', 'a blue square'])
        >>> vocab.encode('a green circle')   # 'green' was never seen: OOV
        [2, 1, 4]
    """

    def __init__(self, words: Iterable[str], tokenizer: str = 'words'):
        self.index: dict[str, int] = {PAD_TOKEN: 0, OOV_TOKEN: 1}
        for word in words:
            self.index.setdefault(word, len(self.index))
        self.words: list[str] = list(self.index)
        self.tokenizer = tokenizer
        self._tokenize = get_tokenizer(tokenizer)

    @classmethod
    def from_sentences(cls, sentences: Iterable[str], min_count: int = 1,
                       tokenizer: str = 'words') -> Vocabulary:
        """Build a vocabulary from training sentences, words sorted for determinism.

        Args:
            sentences: Training sentences.
            min_count: Words seen fewer times become OOV.
            tokenizer: Name of the tokenizer (:data:`TOKENIZERS`).
        """
        split = get_tokenizer(tokenizer)
        counts = Counter(word for sentence in sentences for word in split(sentence))
        return cls(sorted(word for word, count in counts.items() if count >= min_count),
                   tokenizer)

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, sentence: str) -> list[int]:
        """Word indices of ``sentence``; unknown words map to the OOV index (1)."""
        oov = self.index[OOV_TOKEN]
        return [self.index.get(word, oov) for word in self._tokenize(sentence)] or [oov]


def read_word_vectors(path: str | os.PathLike, dim: int, words: Iterable[str] | None = None
                      ) -> tuple[dict[str, int], np.ndarray]:
    """Read a GloVe-style text file (``word v1 ... vD`` per line).

    Args:
        path: The word-vector file (never downloaded: the user gives it).
        dim: Expected vector dimension.
        words: Keep only these words (``None``: every word of the file). A multi-GB file
            then costs one pass and little memory.

    Returns:
        ``{word: row}`` (first occurrence wins, file order) and the float32 ``[V, dim]``
        vectors.

    Raises:
        InputError: missing file, or a line without ``dim`` numbers.
    """
    if not os.path.isfile(path):
        raise InputError(path, 'word-vector file not found (give GloVe text vectors by path, '
                         'or set model.word_vectors=None to learn embeddings)',
                         field='word_vectors')
    wanted = None if words is None else set(words)
    index: dict[str, int] = {}
    rows: list[np.ndarray] = []
    # GloVe 6B-300d is 1 GB: show progress in bytes read.
    progress = tqdm(total=os.path.getsize(path), unit='B', unit_scale=True,
                    desc=f'word vectors {os.path.basename(path)}', leave=False,
                    mininterval=2.0)
    with open(path, encoding='utf-8', errors='replace') as handle, progress:
        for line_number, line in enumerate(handle, 1):
            progress.update(len(line))
            word, _, rest = line.rstrip('\n').partition(' ')
            if word in index or (wanted is not None and word not in wanted):
                continue
            # numpy's C text parser: ~20x faster than float() per value on 400k x 300.
            count = len(rest.split())
            if count != dim:
                raise InputError(path, f'{count} values, expected {dim} (word_dim)',
                                 record=str(line_number), record_kind='line')
            try:
                with warnings.catch_warnings():  # numpy < 2.3 warns and stops at a non-number
                    warnings.simplefilter('ignore', DeprecationWarning)
                    values = np.fromstring(rest, dtype=np.float32, sep=' ')
            except ValueError:
                values = np.zeros(0, dtype=np.float32)
            if values.shape[0] != dim or not np.isfinite(values).all():
                raise InputError(path, 'non-numeric vector value', record=str(line_number),
                                 record_kind='line')
            index[word] = len(rows)
            rows.append(values)
    vectors = np.stack(rows) if rows else np.zeros((0, dim), dtype=np.float32)
    return index, vectors


def load_word_vectors(path: str | os.PathLike, vocabulary: Vocabulary,
                      dim: int) -> tuple[torch.Tensor, int]:
    """Embedding matrix of the vocabulary's words initialised from a GloVe-style file.

    For *learned* embeddings started from pretrained vectors: words absent from the
    file keep a small random vector, the padding row is zero.

    Args:
        path: The word-vector file (never downloaded: the user gives it).
        vocabulary: The words wanted.
        dim: Expected vector dimension.

    Returns:
        The ``[len(vocabulary), dim]`` embedding matrix and the number of words found.
    """
    index, vectors = read_word_vectors(path, dim, vocabulary.words[2:])
    generator = torch.Generator().manual_seed(0)
    weights = torch.randn(len(vocabulary), dim, generator=generator) * 0.1
    weights[vocabulary.index[PAD_TOKEN]] = 0
    for word, row in index.items():
        weights[vocabulary.index[word]] = torch.from_numpy(vectors[row])
    return weights, len(index)


class FrozenWordVectors:
    """Fixed word vectors looked up by word, unknown words -> zero (2D-TAN's text input).

    2D-TAN embeds every word of every split with torchtext's ``glove.6B.300d`` (400,000
    words) plus a zero vector for unknown words, frozen (``nn.Embedding.from_pretrained``
    in ``lib/datasets/{charades,activitynet}.py``). The vectors are data, not weights:
    they are kept out of the state dict (the official checkpoints have none) and read
    again from ``path`` when a model is built.

    Args:
        path: GloVe-style text file.
        dim: Vector size.
        tokenizer: Name of the tokenizer (:data:`TOKENIZERS`).
    """

    def __init__(self, path: str | os.PathLike, dim: int, tokenizer: str = 'whitespace'):
        self.path = str(path)
        self.index, vectors = read_word_vectors(path, dim)
        # One zero row for unknown words, as 2D-TAN's appended '<unk>' vector.
        self.vectors = torch.from_numpy(np.concatenate([vectors, np.zeros((1, dim),
                                                                          np.float32)]))
        self.tokenizer = tokenizer
        self._tokenize = get_tokenizer(tokenizer)

    def __len__(self) -> int:
        return len(self.index)

    def embed(self, sentence: str) -> torch.Tensor:
        """``[num_tokens, dim]`` vectors of ``sentence`` (one zero row if it has no token)."""
        oov = len(self.index)
        rows = [self.index.get(word, oov) for word in self._tokenize(sentence)] or [oov]
        return self.vectors[torch.tensor(rows, dtype=torch.long)]


# ------------------------------------------------------------------------ map geometry
def sparse_moment_mask(num_clips: int, diagonals_per_scale: Sequence[int]) -> np.ndarray:
    """Valid cells of the 2D map under the paper's sparse sampling.

    Cell ``(a, b)`` is the moment from clip ``a`` to clip ``b`` inclusive. Scale ``k``
    contributes ``diagonals_per_scale[k]`` diagonals (moment lengths) at stride
    ``2**k``: scale 0 keeps every start ``a`` for the offsets ``b - a = 0, 1, ...``;
    each later scale continues the offsets in steps of ``2**k`` and keeps only starts
    that are multiples of ``2**k`` (what the paper's stride-2 max-pooling cascade
    produces). ``(N,)`` gives the dense upper triangle (Charades-STA, N = 16);
    ActivityNet Captions uses N = 64 with ``(16, 8, 8)``: offsets 0..15, 17..31 step 2
    and 35..63 step 4.

    Args:
        num_clips: N.
        diagonals_per_scale: Number of diagonals kept at each scale.

    Returns:
        Boolean ``[N, N]`` mask.

    Examples:
        >>> sparse_moment_mask(3, (3,)).astype(int)
        array([[1, 1, 1],
               [0, 1, 1],
               [0, 0, 1]])
    """
    mask = np.zeros((num_clips, num_clips), dtype=bool)
    offset = -1  # the first diagonal (offset 0) is the single-clip moments
    for scale, count in enumerate(diagonals_per_scale):
        stride = 2 ** scale
        for _ in range(count):
            offset += stride
            if offset >= num_clips:
                return mask
            starts = np.arange(0, num_clips - offset, stride)
            mask[starts, starts + offset] = True
    return mask


def moment_boundaries(num_clips: int, t_start: float, t_end: float) -> np.ndarray:
    """Start and end (seconds) of every cell of the map.

    Clip ``i`` spans ``[t_start + i * step, t_start + (i + 1) * step]`` with
    ``step = (t_end - t_start) / N``; cell ``(a, b)`` spans from the start of clip
    ``a`` to the end of clip ``b``.

    Returns:
        Float64 ``[N, N, 2]`` array (cells below the diagonal are meaningless).

    Examples:
        >>> moment_boundaries(2, 0.0, 4.0)[0, 1].tolist()
        [0.0, 4.0]
    """
    edges = np.linspace(t_start, t_end, num_clips + 1, dtype=np.float64)
    starts = np.broadcast_to(edges[:-1, None], (num_clips, num_clips))
    ends = np.broadcast_to(edges[None, 1:], (num_clips, num_clips))
    return np.stack([starts, ends], axis=-1)


def moment_iou_map(gt_segment: Sequence[float], num_clips: int, t_start: float,
                   t_end: float) -> np.ndarray:
    """tIoU of every cell's moment with the ground-truth segment (shared tIoU).

    Returns:
        Float64 ``[N, N]`` array.
    """
    from pal_eval.core.tiou import segment_tiou

    cells = moment_boundaries(num_clips, t_start, t_end).reshape(-1, 2)
    # 2D-TAN computes its training IoU with the hull union (max end - min start).
    return segment_tiou(gt_segment, cells, union='hull').reshape(num_clips, num_clips)


def scaled_iou_targets(iou: np.ndarray | torch.Tensor, min_iou: float = 0.5,
                       max_iou: float = 1.0):
    """Rescale IoU to a soft BCE target: ``<= min_iou`` -> 0, ``>= max_iou`` -> 1, linear between.

    Examples:
        >>> scaled_iou_targets(np.array([0.2, 0.5, 0.75, 1.0])).tolist()
        [0.0, 0.0, 0.5, 1.0]
    """
    scaled = (iou - min_iou) / (max_iou - min_iou)
    return scaled.clip(0.0, 1.0)


def max_pool_moment_map(clips: torch.Tensor) -> torch.Tensor:
    """Feature of every moment = element-wise max over the clips it covers.

    Args:
        clips: ``[B, C, N]`` clip features.

    Returns:
        ``[B, C, N, N]``; cell ``(a, b)`` with ``a <= b`` holds ``max(clips[..., a:b+1])``,
        cells below the diagonal are 0.
    """
    batch, channels, num_clips = clips.shape
    moment_map = clips.new_zeros(batch, channels, num_clips, num_clips)
    starts = torch.arange(num_clips, device=clips.device)
    running = clips  # running[..., a] = max over clips a .. a + offset
    for offset in range(num_clips):
        if offset:
            running = torch.maximum(running[..., :-1], clips[..., offset:])
        moment_map[:, :, starts[:num_clips - offset], starts[offset:]] = running
    return moment_map


def map_conv_paddings(kernel_size: int, num_layers: int,
                      first_padding: int | None = None) -> list[int]:
    """Paddings of 2D-TAN's map convolutions: all of it in the first layer, none after.

    2D-TAN's ``MapConv`` (``lib/models/map_modules/map_conv.py``, ``PADDINGS`` of the pool
    configs: ``[16, 0, ...]``) pads the ``N x N`` map by ``P`` once; each stride-1 layer of
    kernel ``k`` then shrinks it by ``k - 1``, so the output is ``N x N`` again when
    ``2 P = (k - 1) L``: ``P = 16`` for ``k = 5, L = 8`` (Charades-STA) and for
    ``k = 9, L = 4`` (ActivityNet Captions).

    Args:
        kernel_size: ``k``.
        num_layers: ``L``.
        first_padding: ``P``; default ``(k - 1) L / 2``.

    Returns:
        The padding of each layer.

    Examples:
        >>> map_conv_paddings(5, 8)
        [16, 0, 0, 0, 0, 0, 0, 0]
    """
    if first_padding is None:
        if (kernel_size - 1) * num_layers % 2:
            raise ValueError(f'map_kernel={kernel_size} with map_layers={num_layers}: '
                             '(kernel - 1) x layers must be even to pad the map back to N x N')
        first_padding = (kernel_size - 1) * num_layers // 2
    if 2 * first_padding != (kernel_size - 1) * num_layers:
        raise ValueError(f'map_padding={first_padding} does not bring the map back to N x N '
                         f'after {num_layers} layers of kernel {kernel_size} (needs '
                         f'{(kernel_size - 1) * num_layers / 2:g})')
    return [first_padding] + [0] * (num_layers - 1) if num_layers else []


def map_conv_weights(mask: torch.Tensor, kernel_size: int,
                     paddings: Sequence[int]) -> list[torch.Tensor]:
    """Output weights of each map convolution: 1 / (valid cells under its kernel), else 0.

    2D-TAN's ``get_padded_mask_and_weight`` (``lib/models/map_modules/__init__.py``):
    the count is a convolution of the layer's valid mask with a ``k x k`` kernel of ones
    (same padding as the layer); the cells with a count > 0 are the next layer's valid
    mask, i.e. the mask grows by one kernel radius per layer.

    Args:
        mask: ``[N, N]`` valid cells of the moment map.
        kernel_size: ``k`` (stride 1, dilation 1).
        paddings: Padding of each layer (:func:`map_conv_paddings`).

    Returns:
        One float64 ``[N_l, N_l]`` weight map per layer.

    Examples:
        >>> [w] = map_conv_weights(torch.tensor([[1, 1], [0, 1]]), 3, [1])
        >>> (w * 3).tolist()   # every 3 x 3 window holds the 3 valid cells
        [[1.0, 1.0], [1.0, 1.0]]
    """
    valid = mask.to(torch.float64)[None, None]
    ones = torch.ones(1, 1, kernel_size, kernel_size, dtype=torch.float64)
    weights = []
    for padding in paddings:
        counts = F.conv2d(valid, ones, padding=padding).round()[0, 0]
        weights.append(torch.where(counts > 0, 1 / counts.clamp(min=1), 0.0))
        valid = (counts > 0).to(torch.float64)[None, None]
    return weights


def apply_map_convs(fused: torch.Tensor, convs: Sequence[nn.Module],
                    weights: Sequence[torch.Tensor]) -> torch.Tensor:
    """2D-TAN's ``MapConv``: each layer is ``ReLU(conv(x)) * weight``.

    ``weight`` is 1 / (valid cells under the kernel) on the mask dilated by one kernel
    radius per layer, 0 outside it (:func:`map_conv_weights`); the map grows by the first
    layer's padding and shrinks back to ``N x N`` (:func:`map_conv_paddings`). Cells
    outside the moment mask but inside the dilated one carry activations to the next
    layer, as in 2D-TAN; only the final scores are masked.

    Args:
        fused: ``[B, C, N, N]`` fused map (zero outside the moment mask).
        convs: The 2D convolutions.
        weights: Their ``[N_l, N_l]`` output weights.
    """
    for conv, weight in zip(convs, weights):
        fused = F.relu(conv(fused)) * weight.to(fused.dtype)
    return fused


def rank_moments(scores: np.ndarray, mask: np.ndarray, t_start: float, t_end: float,
                 duration: float) -> tuple[np.ndarray, np.ndarray]:
    """Valid cells sorted by descending score, as segments in seconds.

    Args:
        scores: ``[N, N]`` scores.
        mask: ``[N, N]`` valid cells.
        t_start: Start (seconds) of the map's time span.
        t_end: End (seconds) of the map's time span.
        duration: Video duration; segments are clipped to ``[0, duration]``.

    Returns:
        Segments ``[K, 2]`` (float64 seconds) and their scores ``[K]``, best first
        (stable sort: equal scores keep row-major cell order).
    """
    num_clips = scores.shape[0]
    rows, cols = np.nonzero(mask)
    cell_scores = scores[rows, cols].astype(np.float64)
    order = np.argsort(-cell_scores, kind='stable')
    segments = moment_boundaries(num_clips, t_start, t_end)[rows[order], cols[order]]
    return segments.clip(0.0, duration), cell_scores[order]


# ---------------------------------------------------------------------------- modules
class SentenceEncoder(nn.Module):
    """Word vectors + LSTM; the sentence is the top layer's hidden state after its last word.

    Two kinds of word vectors:

    * *frozen pretrained* (``word_vectors`` given, ``freeze_word_vectors=True``), 2D-TAN's
      choice: :class:`FrozenWordVectors` over every word of the file, unknown words are
      zero vectors, nothing of it in the state dict;
    * *learned*: an ``nn.Embedding`` over the training vocabulary, from scratch
      (``word_vectors=None``) or started from the file (``freeze_word_vectors=False``).
      The vocabulary travels with the weights (``get_extra_state``), so a checkpoint
      decodes sentences exactly as in training.

    Args:
        vocabulary: Training vocabulary (learned embeddings only; ``None`` when frozen).
        word_dim: Word vector size.
        hidden_dim: LSTM hidden size.
        num_layers: LSTM layers.
        word_vectors: GloVe-style text file (by path, never downloaded).
        freeze_word_vectors: Frozen lookup of the file (True) or learned embeddings
            initialised from it (False).
        tokenizer: Name of the tokenizer of the frozen lookup (:data:`TOKENIZERS`); learned
            embeddings use the vocabulary's.
    """

    def __init__(self, vocabulary: Vocabulary | None, *, word_dim: int = 300,
                 hidden_dim: int = 512, num_layers: int = 3, word_vectors: str | None = None,
                 freeze_word_vectors: bool = True, tokenizer: str = 'words'):
        super().__init__()
        self.frozen: FrozenWordVectors | None = None
        self.vocabulary = vocabulary
        if word_vectors and freeze_word_vectors:
            self.frozen = FrozenWordVectors(word_vectors, word_dim, tokenizer)
        else:
            if vocabulary is None:
                raise ValueError('learned word embeddings need a vocabulary')
            self.embedding = nn.Embedding(len(vocabulary), word_dim, padding_idx=0)
            if word_vectors:
                weights, _ = load_word_vectors(word_vectors, vocabulary, word_dim)
                self.embedding.weight.data.copy_(weights)
        self.lstm = nn.LSTM(word_dim, hidden_dim, num_layers=num_layers, batch_first=True)
        self.out_dim = hidden_dim

    def forward(self, sentences: Sequence[str]) -> torch.Tensor:
        """Encode sentences to ``[B, hidden_dim]``."""
        device = self.lstm.weight_hh_l0.device
        if self.frozen is not None:
            vectors = [self.frozen.embed(s) for s in sentences]
            lengths = torch.tensor([len(v) for v in vectors])
            embedded = nn.utils.rnn.pad_sequence(vectors, batch_first=True).to(device)
        else:
            encoded = [torch.tensor(self.vocabulary.encode(s), dtype=torch.long)
                       for s in sentences]
            lengths = torch.tensor([len(e) for e in encoded])
            embedded = self.embedding(nn.utils.rnn.pad_sequence(encoded, batch_first=True)
                                      .to(device))
        packed = nn.utils.rnn.pack_padded_sequence(embedded, lengths, batch_first=True,
                                                   enforce_sorted=False)
        _, (hidden, _) = self.lstm(packed)
        # A unidirectional LSTM's state after a sentence's own last word does not depend on
        # padding, so this equals 2D-TAN's output at index len - 1 of the padded batch.
        return hidden[-1]

    def get_extra_state(self) -> dict:
        if self.frozen is not None:
            return {'frozen_word_vectors': len(self.frozen), 'tokenizer': self.frozen.tokenizer}
        return {'words': list(self.vocabulary.words), 'tokenizer': self.vocabulary.tokenizer}

    def set_extra_state(self, state: dict) -> None:
        if self.frozen is not None:
            if 'frozen_word_vectors' not in state:
                raise ValueError('the checkpoint learned its word embeddings, the model reads '
                                 'frozen word vectors (set model.word_vectors=None)')
            if state['frozen_word_vectors'] != len(self.frozen):
                raise ValueError(f'the checkpoint was trained with {state["frozen_word_vectors"]}'
                                 f' word vectors, {self.frozen.path} has {len(self.frozen)}')
            return
        if 'words' not in state:
            raise ValueError('the checkpoint was trained on frozen word vectors: set '
                             'model.word_vectors to the same file')
        words = state['words']
        if len(words) != len(self.vocabulary):
            raise ValueError(f'checkpoint vocabulary has {len(words)} words, the model '
                             f'{len(self.vocabulary)}')
        self.vocabulary = Vocabulary(words[2:], state.get('tokenizer', 'words'))


def _build_vocabulary(vocabulary: Vocabulary | Sequence[str] | dict, min_count: int,
                      tokenizer: str) -> Vocabulary:
    if isinstance(vocabulary, Vocabulary):
        return vocabulary
    if isinstance(vocabulary, dict):
        # Sentences of the training annotation file, read by the grounding dataset's loader.
        from pal_eval.data.datasets.grounding import read_grounding_queries

        queries = read_grounding_queries(**vocabulary)
        return Vocabulary.from_sentences(queries['sentence'], min_count=min_count,
                                         tokenizer=tokenizer)
    return Vocabulary(vocabulary, tokenizer)


# ------------------------------------------------------------ MMEngine/MMAction2 adapter
from mmaction.registry import MODELS  # noqa: E402

from heads.base import BaseHead, concrete_feat_dim  # noqa: E402


@MODELS.register_module()
class TAN2D(BaseHead):
    """2D-TAN grounding head (pooling variant) as an MMEngine model.

    The layers follow 2D-TAN's ``lib/models/tan.py`` with the pool configs
    (``experiments/*/2D-TAN-*-pool.yaml``): 1x1 Conv1d + ReLU on the sampled clips, then
    average pooling by ``clip_pool`` (``FrameAvgPool``), the max-pooled moment map
    (``SparsePropMaxPool``), Hadamard fusion with the LSTM sentence, L2 normalisation
    and the mask (``BaseFusion``), ``map_layers`` convolutions normalised by the valid
    cells under each kernel (``MapConv``, :func:`map_conv_weights`), a 1x1 score layer.
    Official checkpoints load with :func:`load_official_tan2d`.

    Args:
        feat_dim: Input clip feature size.
        num_clips: N, the map size.
        clip_pool: The dataset delivers ``num_clips * clip_pool`` clips, averaged by
            ``clip_pool`` after the Conv1d + ReLU (2D-TAN: 256 sampled clips, 16 on
            Charades-STA, 4 on ActivityNet Captions); 1: the dataset delivers N clips.
        diagonals_per_scale: Sparse sampling (:func:`sparse_moment_mask`); default dense.
        hidden_dim: Map feature size.
        map_layers: Stacked 2D convolutions.
        map_kernel: Their kernel size.
        map_padding: Padding of the first map convolution (the others have none);
            default ``(map_kernel - 1) * map_layers / 2`` (2D-TAN's 16).
        vocabulary: Word list, or ``dict(ann_file=..., ...)`` naming the training
            annotations (keyword arguments of ``read_grounding_queries``); learned word
            embeddings only.
        min_word_count: Training words seen fewer times become OOV (learned embeddings).
        word_dim: Word vector size.
        word_vectors: GloVe-style word-vector file (by path, never downloaded; 2D-TAN:
            ``glove.6B.300d.txt``); ``None``: learn the embeddings from scratch.
        freeze_word_vectors: With ``word_vectors``: frozen lookup of every word of the
            file, unknown words zero (2D-TAN), or learned embeddings initialised from it.
        tokenizer: ``'words'`` (lower-case words, punctuation dropped), ``'whitespace'``
            (2D-TAN ActivityNet) or ``'whitespace_drop_final_period'`` (2D-TAN Charades).
        lstm_layers: Sentence LSTM layers.
        lstm_hidden: Sentence LSTM size.
        min_iou: IoU mapped to target 0 (and below).
        max_iou: IoU mapped to target 1 (and above).
        nms_thresh: tIoU of the NMS applied to the ranked candidates.
        max_predictions: Candidates kept per query after NMS.
        time_precision: Moment times of that NMS: ``'float64'`` (exact) or ``'float32'``
            (2D-TAN's, :func:`pal_eval.evaluation.grounding.float32_moment_times`); the
            output times stay float64 either way.
        dropout: Dropout on the fused map during training (2D-TAN: none).
        data_preprocessor: MMEngine data preprocessor config.
        init_cfg: MMEngine init config.

    Examples:
        >>> import torch
        >>> from mmaction.structures import ActionDataSample
        >>> model = TAN2D(feat_dim=4, num_clips=4, hidden_dim=8, map_layers=1,
        ...               map_kernel=3, vocabulary=['red', 'circle'], word_dim=4,
        ...               lstm_layers=1, lstm_hidden=8)
        >>> sample = ActionDataSample(metainfo=dict(
        ...     sentence='the red circle', duration=8.0, time_span=(0.0, 8.0)))
        >>> [out] = model.predict(torch.randn(1, 4, 4), [sample])
        >>> out.pred_segments.shape[1], len(out.pred_scores) <= 10
        (2, True)
    """

    def __init__(self, feat_dim: int, num_clips: int = 16, clip_pool: int = 1,
                 diagonals_per_scale: Sequence[int] | None = None, hidden_dim: int = 512,
                 map_layers: int = 8, map_kernel: int = 5, map_padding: int | None = None,
                 vocabulary: Vocabulary | Sequence[str] | dict = (), min_word_count: int = 1,
                 word_dim: int = 300, word_vectors: str | None = None,
                 freeze_word_vectors: bool = True, tokenizer: str = 'words',
                 lstm_layers: int = 3, lstm_hidden: int = 512,
                 min_iou: float = 0.5, max_iou: float = 1.0, nms_thresh: float = 0.5,
                 max_predictions: int = 10, time_precision: str = 'float64',
                 dropout: float = 0.0,
                 data_preprocessor: dict | None = None, init_cfg: dict | None = None):
        from pal_eval.evaluation.grounding import check_time_precision

        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if clip_pool < 1:
            raise ValueError(f'clip_pool must be >= 1, got {clip_pool}')
        self.feat_dim = feat_dim = concrete_feat_dim(feat_dim)
        self.num_clips = num_clips
        self.clip_pool = int(clip_pool)
        self.min_iou, self.max_iou = min_iou, max_iou
        self.nms_thresh = nms_thresh
        self.max_predictions = max_predictions
        self.time_precision = check_time_precision(time_precision)
        mask = torch.from_numpy(sparse_moment_mask(num_clips, diagonals_per_scale or
                                                   (num_clips,)))
        self.register_buffer('moment_mask', mask, persistent=False)

        self.clip_projection = nn.Sequential(nn.Conv1d(feat_dim, hidden_dim, 1), nn.ReLU())
        frozen = bool(word_vectors) and freeze_word_vectors
        get_tokenizer(tokenizer)  # fail early on an unknown name
        self.sentence_encoder = SentenceEncoder(
            None if frozen else _build_vocabulary(vocabulary, min_word_count, tokenizer),
            word_dim=word_dim, hidden_dim=lstm_hidden, num_layers=lstm_layers,
            word_vectors=word_vectors, freeze_word_vectors=freeze_word_vectors,
            tokenizer=tokenizer)
        self.sentence_projection = nn.Linear(lstm_hidden, hidden_dim)
        self.map_projection = nn.Conv2d(hidden_dim, hidden_dim, 1)
        self.dropout = nn.Dropout(dropout)
        paddings = map_conv_paddings(map_kernel, map_layers, map_padding)
        self.map_convs = nn.ModuleList(
            nn.Conv2d(hidden_dim, hidden_dim, map_kernel, padding=padding)
            for padding in paddings)
        for layer, weight in enumerate(map_conv_weights(mask, map_kernel, paddings)):
            self.register_buffer(f'map_weight_{layer}', weight.float(), persistent=False)
        self.score_layer = nn.Conv2d(hidden_dim, 1, 1)

    # ---------------------------------------------------------------- forward passes
    def raw_outputs(self, clips: torch.Tensor, data_samples) -> torch.Tensor:
        """``mode='tensor'`` (the dispatch is :class:`heads.base.BaseHead`'s): the logits."""
        return self.score_logits(clips, [s.metainfo['sentence'] for s in data_samples])

    def score_logits(self, clips: torch.Tensor, sentences: Sequence[str]) -> torch.Tensor:
        """Logits ``[B, N, N]`` of every candidate moment (invalid cells are 0)."""
        if clips.shape[1] != self.feat_dim:
            raise ValueError(f'features have {clips.shape[1]} channels, model.feat_dim is '
                             f'{self.feat_dim}: set model.feat_dim to the feature_dim of the '
                             'feature folder\'s meta.json')
        expected = self.num_clips * self.clip_pool
        if clips.shape[-1] != expected:
            pooled = f' = num_clips {self.num_clips} x clip_pool {self.clip_pool}' \
                if self.clip_pool > 1 else ''
            raise ValueError(f'inputs have {clips.shape[-1]} clips, the model expects '
                             f'{expected}{pooled} (num_clips of the dataset and the model '
                             'differ)')
        clips = clips.float()
        mask = self.moment_mask.to(clips.dtype)[None, None]
        # 2D-TAN's FrameAvgPool: Conv1d + ReLU on the sampled clips, then the average.
        projected = F.avg_pool1d(self.clip_projection(clips), self.clip_pool)
        moments = max_pool_moment_map(projected) * mask
        sentence = self.sentence_projection(self.sentence_encoder(sentences))
        fused = F.normalize(sentence[:, :, None, None] * self.map_projection(moments), dim=1)
        fused = self.dropout(fused * mask)
        weights = [getattr(self, f'map_weight_{i}') for i in range(len(self.map_convs))]
        fused = apply_map_convs(fused, self.map_convs, weights)
        return self.score_layer(fused).squeeze(1) * mask[:, 0]

    def loss(self, clips: torch.Tensor, data_samples) -> dict:
        """Scaled-IoU binary cross-entropy over the valid cells."""
        logits = self.score_logits(clips, [s.metainfo['sentence'] for s in data_samples])
        targets = torch.stack([torch.from_numpy(scaled_iou_targets(
            moment_iou_map(s.metainfo['gt_segment'], self.num_clips, *s.metainfo['time_span']),
            self.min_iou, self.max_iou)) for s in data_samples]).to(logits)
        valid = self.moment_mask.expand_as(logits)
        loss = F.binary_cross_entropy_with_logits(logits[valid], targets[valid])
        return {'loss_bce': loss}

    @torch.no_grad()
    def predict(self, clips: torch.Tensor, data_samples) -> list:
        """Ranked segments in seconds, after NMS: sets ``pred_segments`` and ``pred_scores``."""
        from pal_eval.evaluation.grounding import float32_moment_times
        from pal_eval.postprocess.nms import nms

        logits = self.score_logits(clips, [s.metainfo['sentence'] for s in data_samples])
        scores = torch.sigmoid(logits).cpu().numpy()
        mask = self.moment_mask.cpu().numpy()
        for sample, score_map in zip(data_samples, scores):
            meta = sample.metainfo
            segments, cell_scores = rank_moments(score_map, mask, *meta['time_span'],
                                                 meta['duration'])
            # float32: the NMS sees 2D-TAN's float32 times (same decisions as its eval).
            nms_segments = segments if self.time_precision == 'float64' else \
                float32_moment_times(segments, np.full(len(segments), meta['duration']))
            keep = nms(nms_segments, cell_scores, self.nms_thresh, top_k=self.max_predictions)
            sample.pred_segments = torch.from_numpy(segments[keep])
            sample.pred_scores = torch.from_numpy(cell_scores[keep])
        return data_samples


# ------------------------------------------------------------- official 2D-TAN weights
#: 2D-TAN module prefixes (``lib/models/tan.py``) -> ours. The pool variant's
#: ``prop_layer`` (max pooling) has no parameters.
_OFFICIAL_PREFIXES = (('frame_layer.vis_conv.', 'clip_projection.0.'),
                      ('fusion_layer.textual_encoder.', 'sentence_encoder.lstm.'),
                      ('fusion_layer.tex_linear.', 'sentence_projection.'),
                      ('fusion_layer.vis_conv.', 'map_projection.'),
                      ('map_layer.convs.', 'map_convs.'),
                      ('pred_layer.', 'score_layer.'))


def convert_official_tan2d_state_dict(state: dict) -> dict:
    """Rename an official 2D-TAN (pool variant) state dict to :class:`TAN2D`'s keys.

    Args:
        state: ``model.state_dict()`` of 2D-TAN's ``TAN`` (a ``module.`` prefix of
            ``DataParallel`` is removed).

    Returns:
        The same tensors under our names (``sentence_encoder._extra_state`` is not
        included: it belongs to the model that loads them).

    Raises:
        ValueError: a key that the pool variant with a unidirectional LSTM does not have.
    """
    converted = {}
    for key, value in state.items():
        key = key.removeprefix('module.')
        for official, ours in _OFFICIAL_PREFIXES:
            if key.startswith(official):
                if '_reverse' in key:
                    raise ValueError(f'{key}: bidirectional sentence LSTMs are not supported')
                converted[ours + key[len(official):]] = value
                break
        else:
            raise ValueError(f'{key}: not a parameter of 2D-TAN (pool variant)')
    return converted


def load_official_tan2d(path: str | os.PathLike, **kwargs) -> TAN2D:
    """Build a :class:`TAN2D` holding the weights of an official 2D-TAN checkpoint.

    Widths (feature size, hidden size, word size, LSTM size and layers, map layers and
    kernel) are read from the weights; what they do not hold comes from ``kwargs``:
    2D-TAN's Charades-STA pool model needs ``num_clips=16, clip_pool=16,
    word_vectors='.../glove.6B.300d.txt', tokenizer='whitespace_drop_final_period',
    nms_thresh=0.45``; ActivityNet Captions ``num_clips=64, clip_pool=4,
    diagonals_per_scale=(16, 8, 8), tokenizer='whitespace'``.

    Args:
        path: ``.pkl`` written by 2D-TAN's ``train.py`` (``torch.save(state_dict)``).
        **kwargs: The other :class:`TAN2D` arguments.

    Raises:
        InputError: the file holds no 2D-TAN weights.
    """
    from mmengine.runner.checkpoint import _load_checkpoint

    checkpoint = _load_checkpoint(str(path), map_location='cpu')
    state = checkpoint.get('state_dict', checkpoint)
    try:
        converted = convert_official_tan2d_state_dict(state)
        frame = converted['clip_projection.0.weight']            # [H, C, 1]
        lstm_input = converted['sentence_encoder.lstm.weight_ih_l0']  # [4 H_txt, D_word]
        lstm_hidden = converted['sentence_encoder.lstm.weight_hh_l0'].shape[1]
        map_kernel = converted['map_convs.0.weight'].shape[-1]    # [H, H, k, k]
    except (KeyError, ValueError) as exc:
        raise InputError(path, f'not an official 2D-TAN (pool) checkpoint ({exc})',
                         field='state_dict') from None
    settings = dict(
        feat_dim=frame.shape[1], hidden_dim=frame.shape[0], word_dim=lstm_input.shape[1],
        lstm_hidden=lstm_hidden,
        lstm_layers=sum(k.startswith('sentence_encoder.lstm.weight_ih_l') for k in converted),
        map_layers=sum(k.startswith('map_convs.') and k.endswith('.weight')
                       for k in converted),
        map_kernel=map_kernel)
    settings.update(kwargs)
    model = TAN2D(**settings)
    extra = 'sentence_encoder._extra_state'
    converted[extra] = model.state_dict()[extra]
    model.load_state_dict(converted, strict=True)
    return model

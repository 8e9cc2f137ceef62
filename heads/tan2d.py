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
    """Lower-case words of a sentence; punctuation is dropped.

    Examples:
        >>> tokenize('The RED circle moves left.')
        ['the', 'red', 'circle', 'moves', 'left']
    """
    return _WORD.findall(sentence.lower())


class Vocabulary:
    """Word <-> index map with a padding token (index 0) and an OOV token (index 1).

    Args:
        words: The known words (duplicates and the special tokens are ignored).

    Examples:
        >>> vocab = Vocabulary.from_sentences(['a red circle', 'a blue square'])
        >>> vocab.encode('a green circle')   # 'green' was never seen: OOV
        [2, 1, 4]
    """

    def __init__(self, words: Iterable[str]):
        self.index: dict[str, int] = {PAD_TOKEN: 0, OOV_TOKEN: 1}
        for word in words:
            self.index.setdefault(word, len(self.index))
        self.words: list[str] = list(self.index)

    @classmethod
    def from_sentences(cls, sentences: Iterable[str], min_count: int = 1) -> Vocabulary:
        """Build a vocabulary from training sentences, words sorted for determinism.

        Args:
            sentences: Training sentences.
            min_count: Words seen fewer times become OOV.
        """
        counts = Counter(word for sentence in sentences for word in tokenize(sentence))
        return cls(sorted(word for word, count in counts.items() if count >= min_count))

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, sentence: str) -> list[int]:
        """Word indices of ``sentence``; unknown words map to the OOV index (1)."""
        oov = self.index[OOV_TOKEN]
        return [self.index.get(word, oov) for word in tokenize(sentence)] or [oov]


def load_word_vectors(path: str | os.PathLike, vocabulary: Vocabulary,
                      dim: int) -> tuple[torch.Tensor, int]:
    """Read a GloVe-style text file (``word v1 ... vD`` per line) for the vocabulary's words.

    Only the words of ``vocabulary`` are kept, so a multi-GB file costs one pass and
    little memory. Words absent from the file keep a small random vector.

    Args:
        path: The word-vector file (never downloaded: the user gives it).
        vocabulary: The words wanted.
        dim: Expected vector dimension.

    Returns:
        The ``[len(vocabulary), dim]`` embedding matrix and the number of words found.
    """
    if not os.path.isfile(path):
        raise InputError(path, 'word-vector file not found', field='word_vectors')
    generator = torch.Generator().manual_seed(0)
    weights = torch.randn(len(vocabulary), dim, generator=generator) * 0.1
    weights[vocabulary.index[PAD_TOKEN]] = 0
    found = 0
    # GloVe 840B is 5.6 GB: show progress in bytes read.
    progress = tqdm(total=os.path.getsize(path), unit='B', unit_scale=True,
                    desc=f'word vectors {os.path.basename(path)}', leave=False,
                    mininterval=2.0)
    with open(path, encoding='utf-8', errors='replace') as handle, progress:
        for line_number, line in enumerate(handle, 1):
            progress.update(len(line))
            word, _, rest = line.rstrip().partition(' ')
            row = vocabulary.index.get(word)
            if row is None or row < 2:
                continue
            values = rest.split(' ')
            if len(values) != dim:
                raise InputError(path, f'{len(values)} values, expected {dim} (word_dim)',
                                 record=str(line_number), record_kind='line')
            try:
                weights[row] = torch.tensor([float(v) for v in values])
            except ValueError:
                raise InputError(path, 'non-numeric vector value', record=str(line_number),
                                 record_kind='line') from None
            found += 1
    return weights, found


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
    """Word embeddings + LSTM; the sentence is the hidden state after its last word.

    The vocabulary travels with the weights (``get_extra_state``), so a checkpoint
    decodes sentences exactly as in training.

    Args:
        vocabulary: Training vocabulary.
        word_dim: Embedding size.
        hidden_dim: LSTM hidden size.
        num_layers: LSTM layers.
        word_vectors: Optional GloVe-style text file initialising the embeddings.
        freeze_word_vectors: Keep the loaded embeddings fixed.
    """

    def __init__(self, vocabulary: Vocabulary, *, word_dim: int = 300, hidden_dim: int = 512,
                 num_layers: int = 3, word_vectors: str | None = None,
                 freeze_word_vectors: bool = False):
        super().__init__()
        self.vocabulary = vocabulary
        self.embedding = nn.Embedding(len(vocabulary), word_dim, padding_idx=0)
        if word_vectors:
            weights, _ = load_word_vectors(word_vectors, vocabulary, word_dim)
            self.embedding.weight.data.copy_(weights)
            self.embedding.weight.requires_grad_(not freeze_word_vectors)
        self.lstm = nn.LSTM(word_dim, hidden_dim, num_layers=num_layers, batch_first=True)
        self.out_dim = hidden_dim

    def forward(self, sentences: Sequence[str]) -> torch.Tensor:
        """Encode sentences to ``[B, hidden_dim]``."""
        device = self.embedding.weight.device
        encoded = [torch.tensor(self.vocabulary.encode(s), dtype=torch.long) for s in sentences]
        lengths = torch.tensor([len(e) for e in encoded])
        padded = nn.utils.rnn.pad_sequence(encoded, batch_first=True).to(device)
        packed = nn.utils.rnn.pack_padded_sequence(
            self.embedding(padded), lengths, batch_first=True, enforce_sorted=False)
        _, (hidden, _) = self.lstm(packed)
        return hidden[-1]  # top layer, after each sentence's own last word

    def get_extra_state(self) -> dict:
        return {'words': list(self.vocabulary.words)}

    def set_extra_state(self, state: dict) -> None:
        words = state['words']
        if len(words) != len(self.vocabulary):
            raise ValueError(f'checkpoint vocabulary has {len(words)} words, the model '
                             f'{len(self.vocabulary)}')
        self.vocabulary = Vocabulary(words[2:])


def _build_vocabulary(vocabulary: Vocabulary | Sequence[str] | dict,
                      min_count: int) -> Vocabulary:
    if isinstance(vocabulary, Vocabulary):
        return vocabulary
    if isinstance(vocabulary, dict):
        # Sentences of the training annotation file, read by the grounding dataset's loader.
        from pal_eval.data.datasets.grounding import read_grounding_queries

        queries = read_grounding_queries(**vocabulary)
        return Vocabulary.from_sentences(queries['sentence'], min_count=min_count)
    return Vocabulary(vocabulary)


# ------------------------------------------------------------ MMEngine/MMAction2 adapter
from mmaction.registry import MODELS  # noqa: E402

from heads.base import BaseHead  # noqa: E402


@MODELS.register_module()
class TAN2D(BaseHead):
    """2D-TAN grounding head (pooling variant) as an MMEngine model.

    Args:
        feat_dim: Input clip feature size.
        num_clips: N, the map size (the dataset pools features to N clips).
        diagonals_per_scale: Sparse sampling (:func:`sparse_moment_mask`); default dense.
        hidden_dim: Map feature size.
        map_layers: Stacked 2D convolutions.
        map_kernel: Their kernel size.
        vocabulary: Word list, or ``dict(ann_file=..., ...)`` naming the training
            annotations (keyword arguments of ``read_grounding_queries``).
        min_word_count: Training words seen fewer times become OOV.
        word_dim: Word embedding size.
        word_vectors: Optional GloVe-style word-vector file (by path, never downloaded).
        freeze_word_vectors: Keep loaded word vectors fixed.
        lstm_layers: Sentence LSTM layers.
        lstm_hidden: Sentence LSTM size.
        min_iou: IoU mapped to target 0 (and below).
        max_iou: IoU mapped to target 1 (and above).
        nms_thresh: tIoU of the NMS applied to the ranked candidates.
        max_predictions: Candidates kept per query after NMS.
        dropout: Dropout on the fused map during training.
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

    def __init__(self, feat_dim: int, num_clips: int = 16,
                 diagonals_per_scale: Sequence[int] | None = None, hidden_dim: int = 512,
                 map_layers: int = 8, map_kernel: int = 5,
                 vocabulary: Vocabulary | Sequence[str] | dict = (), min_word_count: int = 1,
                 word_dim: int = 300, word_vectors: str | None = None,
                 freeze_word_vectors: bool = False, lstm_layers: int = 3, lstm_hidden: int = 512,
                 min_iou: float = 0.5, max_iou: float = 1.0, nms_thresh: float = 0.5,
                 max_predictions: int = 10, dropout: float = 0.0,
                 data_preprocessor: dict | None = None, init_cfg: dict | None = None):
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.feat_dim = feat_dim
        self.num_clips = num_clips
        self.min_iou, self.max_iou = min_iou, max_iou
        self.nms_thresh = nms_thresh
        self.max_predictions = max_predictions
        mask = sparse_moment_mask(num_clips, diagonals_per_scale or (num_clips,))
        self.register_buffer('moment_mask', torch.from_numpy(mask), persistent=False)

        self.clip_projection = nn.Sequential(nn.Conv1d(feat_dim, hidden_dim, 1), nn.ReLU())
        self.sentence_encoder = SentenceEncoder(
            _build_vocabulary(vocabulary, min_word_count), word_dim=word_dim,
            hidden_dim=lstm_hidden, num_layers=lstm_layers, word_vectors=word_vectors,
            freeze_word_vectors=freeze_word_vectors)
        self.sentence_projection = nn.Linear(lstm_hidden, hidden_dim)
        self.map_projection = nn.Conv2d(hidden_dim, hidden_dim, 1)
        self.dropout = nn.Dropout(dropout)
        self.map_convs = nn.ModuleList(
            nn.Conv2d(hidden_dim, hidden_dim, map_kernel, padding=map_kernel // 2)
            for _ in range(map_layers))
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
        if clips.shape[-1] != self.num_clips:
            raise ValueError(f'inputs have {clips.shape[-1]} clips, the model expects '
                             f'{self.num_clips} (num_clips of the dataset and the model differ)')
        mask = self.moment_mask.to(clips.dtype)[None, None]
        moments = max_pool_moment_map(self.clip_projection(clips.float())) * mask
        sentence = self.sentence_projection(self.sentence_encoder(sentences))
        fused = F.normalize(sentence[:, :, None, None] * self.map_projection(moments), dim=1)
        fused = self.dropout(fused * mask)
        for conv in self.map_convs:
            # Re-masking after each layer keeps invalid cells from leaking into neighbours.
            fused = F.relu(conv(fused)) * mask
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
        from pal_eval.postprocess.nms import nms

        logits = self.score_logits(clips, [s.metainfo['sentence'] for s in data_samples])
        scores = torch.sigmoid(logits).cpu().numpy()
        mask = self.moment_mask.cpu().numpy()
        for sample, score_map in zip(data_samples, scores):
            meta = sample.metainfo
            segments, cell_scores = rank_moments(score_map, mask, *meta['time_span'],
                                                 meta['duration'])
            keep = nms(segments, cell_scores, self.nms_thresh, top_k=self.max_predictions)
            sample.pred_segments = torch.from_numpy(segments[keep])
            sample.pred_scores = torch.from_numpy(cell_scores[keep])
        return data_samples

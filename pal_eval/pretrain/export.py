"""Export a pretraining checkpoint to ``backbone.pth`` and load encoders by path.

The exported file is what every later stage consumes (extraction, heads, fine-tuning):
a dict ``{'state_dict': PALBackbone weights, 'meta': {...}}`` saved with ``torch.save``
and loadable with ``weights_only=True``. In the spirit of timm's pretrained configs the
metadata travels with the weights, so no one copies clip length or normalisation by hand:

========================  ===============================================================
``arch``                  ``'r2plus1d_18'`` / ``'r2plus1d_34'`` / ``'r3d_18'``
``backbone_cfg``          dict rebuilding the module: ``MODELS.build(meta['backbone_cfg'])``
``pretext``               ``'pal'``, ``'mocov2'`` or ``'random'``
``data``                  the unlabeled data set it was trained on (path / list file)
``clips_per_video``       J, clips per composited video
``frames_per_clip``       frames per clip fed to the encoder
``frame_interval``        frame stride inside a clip
``input_size``            square side in pixels (int)
``mean``, ``std``         RGB normalisation, 0-255 scale
``feature_dim``           channels of the feature map (C)
``source_sha256``         sha256 of the checkpoint it was exported from (``None`` if random)
========================  ===============================================================
"""
from __future__ import annotations

import hashlib
import numbers
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from pal_eval.errors import InputError, PalEvalError
from pal_eval.io import atomic_write
from pal_eval.pretrain.checkpoint import safe_torch_load, state_dict_of

#: Defaults of the paper (supplementary): J=8 clips of 4 frames at 112x112; ImageNet
#: normalisation as in mmaction2's R(2+1)D configs.
DEFAULT_META: dict[str, Any] = dict(
    arch='r2plus1d_18', pretext='random', data=None, clips_per_video=8, frames_per_clip=4,
    frame_interval=1, input_size=112, mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375], source_sha256=None)

#: model type in a pretraining config -> pretext name in the metadata
PRETEXT_OF_MODEL = {'PAL': 'pal', 'MoCoV2': 'mocov2'}

META_KEYS = ('arch', 'backbone_cfg', 'pretext', 'data', 'clips_per_video', 'frames_per_clip',
             'frame_interval', 'input_size', 'mean', 'std', 'feature_dim', 'source_sha256')


#: bounds of the encoder settings a weight file (or a random-init option) may ask for,
#: checked before anything is built: a crafted or mistyped file must not make us
#: allocate terabytes (base_channels 1e6) or divide by zero (base_channels 0). The
#: paper's values are 64 channels, 4 frames, 112 px; the bounds leave room for far
#: larger models.
META_LIMITS: dict[str, tuple[int, int]] = {
    'base_channels': (1, 256), 'clips_per_video': (1, 256), 'frames_per_clip': (1, 128),
    'frame_interval': (1, 64), 'input_size': (1, 1024)}
#: keys of ``backbone_cfg`` (``PALBackbone``'s arguments that shape the weights)
BACKBONE_CFG_KEYS = ('type', 'arch', 'base_channels', 'norm_eval')


def check_meta_value(key: str, value: Any, path: str | os.PathLike, field: str | None = None):
    """``value`` of setting ``key`` if within :data:`META_LIMITS` (``input_size`` may be a
    ``(height, width)`` pair), else a one-line :class:`InputError` naming ``field``."""
    low, high = META_LIMITS[key]
    items = list(value) if key == 'input_size' and isinstance(value, (list, tuple)) else [value]
    if not (1 <= len(items) <= 2 and all(
            isinstance(v, numbers.Integral) and not isinstance(v, bool) and low <= v <= high
            for v in items)):
        raise InputError(path, f'must be an integer in [{low}, {high}], got {value!r}',
                         field=field or key)
    return value


def check_backbone_meta(meta: Any, path: str | os.PathLike) -> dict:
    """Validate an encoder's metadata before the encoder is built from it.

    Checks ``backbone_cfg`` (known keys, a known ``arch``, ``base_channels`` in bounds)
    and the clip geometry (:data:`META_LIMITS`), so that a damaged or hostile file is
    one error line instead of a crash deep inside mmaction2 or a huge allocation.

    Returns:
        ``meta`` itself.

    Raises:
        InputError: naming the file and the field.

    Examples:
        >>> check_backbone_meta({'backbone_cfg': {'arch': 'r2plus1d_18',
        ...                                       'base_channels': 10**9}}, 'b.pth')
        Traceback (most recent call last):
        ...
        pal_eval.errors.InputError: b.pth, field 'meta.backbone_cfg.base_channels': must be ...
    """
    from pal_eval.errors import check_known_keys
    from pal_eval.pretrain.backbone import ARCHS

    if not isinstance(meta, Mapping):
        raise InputError(path, f'must be a dict, got {type(meta).__name__}', field='meta')
    cfg = meta.get('backbone_cfg')
    if not isinstance(cfg, Mapping):
        raise InputError(path, f'must be a dict, got {cfg!r}', field='meta.backbone_cfg')
    check_known_keys(cfg, BACKBONE_CFG_KEYS, path, section='meta.backbone_cfg')
    if cfg.get('type', 'PALBackbone') != 'PALBackbone':
        raise InputError(path, f"must be 'PALBackbone', got {cfg['type']!r}",
                         field='meta.backbone_cfg.type')
    if cfg.get('arch', 'r2plus1d_18') not in ARCHS:
        raise InputError(path, f'unknown arch {cfg["arch"]!r} (known: {", ".join(ARCHS)})',
                         field='meta.backbone_cfg.arch')
    check_meta_value('base_channels', cfg.get('base_channels', 64), path,
                     'meta.backbone_cfg.base_channels')
    for key in ('clips_per_video', 'frames_per_clip', 'frame_interval', 'input_size'):
        if meta.get(key) is not None:
            check_meta_value(key, meta[key], path, f'meta.{key}')
    return dict(meta)


def sha256_of(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _backbone_cfg(cfg: Mapping) -> dict:
    backbone = dict(cfg)
    backbone.pop('init_cfg', None)
    backbone.setdefault('arch', 'r2plus1d_18')
    backbone.setdefault('base_channels', 64)
    return dict(type='PALBackbone', arch=backbone['arch'],
                base_channels=int(backbone['base_channels']))


def meta_from_checkpoint(ckpt: Mapping, path: str | os.PathLike) -> dict:
    """Build the export metadata from an MMEngine checkpoint of a PAL / MoCoV2 run.

    The run's config (``meta['cfg']``, saved by MMEngine's Runner) gives the model and
    normalisation; the data set's ``metainfo`` (``meta['dataset_meta']``) gives the clip
    geometry actually used.

    Raises:
        InputError: the checkpoint carries no config or is not a PAL / MoCoV2 run.
    """
    from mmengine.config import Config

    run_meta = ckpt.get('meta') if isinstance(ckpt, Mapping) else None
    if not isinstance(run_meta, Mapping) or not run_meta.get('cfg'):
        raise InputError(path, "no training config in the checkpoint ('meta.cfg'): is it an "
                         'MMEngine checkpoint of a PAL / MoCoV2 run?')
    try:
        cfg = Config.fromstring(run_meta['cfg'], file_format='.py')
    except Exception as exc:  # noqa: BLE001 - any parse failure is a bad input file
        raise InputError(path, f"cannot parse the config in 'meta.cfg': {exc}") from None
    model_type = str(cfg.model.get('type', ''))
    if model_type not in PRETEXT_OF_MODEL:
        raise InputError(path, f'model type {model_type!r} is not a pretraining model '
                         f'(expected one of {sorted(PRETEXT_OF_MODEL)})', field='meta.cfg')
    backbone_cfg = _backbone_cfg(cfg.model.get('backbone', {}))
    preprocessor = cfg.model.get('data_preprocessor', {}) or {}
    data_meta = dict(run_meta.get('dataset_meta') or {})
    meta = dict(DEFAULT_META)
    meta.update(
        arch=backbone_cfg['arch'], backbone_cfg=backbone_cfg,
        pretext=PRETEXT_OF_MODEL[model_type],
        mean=[float(v) for v in preprocessor.get('mean', meta['mean'])],
        std=[float(v) for v in preprocessor.get('std', meta['std'])],
        feature_dim=backbone_cfg['base_channels'] * 8)
    for key in ('data', 'clips_per_video', 'frames_per_clip', 'frame_interval', 'input_size'):
        if key in data_meta:
            meta[key] = data_meta[key]
    meta['input_size'] = int(meta['input_size'])
    return meta


def export_backbone(checkpoint: str | os.PathLike, out: str | os.PathLike, *,
                    overwrite: bool = False) -> dict:
    """Strip a PAL / MoCoV2 checkpoint to the query encoder's weights plus metadata.

    Args:
        checkpoint: An MMEngine checkpoint (``epoch_N.pth``) of a pretraining run.
        out: Destination ``backbone.pth``, written atomically.
        overwrite: Replace an existing ``out`` (refused otherwise).

    Returns:
        The metadata written.

    Examples:
        >>> meta = export_backbone('work_dirs/pal/epoch_1.pth', 'backbone.pth')  # doctest: +SKIP
        >>> model, meta = load_backbone('backbone.pth')  # doctest: +SKIP
    """
    from pal_eval.pretrain.backbone import PALBackbone

    out = Path(out)
    if out.exists() and not overwrite:
        raise PalEvalError(f'{out} exists; pass --overwrite to replace it')
    ckpt = safe_torch_load(checkpoint)
    meta = meta_from_checkpoint(ckpt, checkpoint)
    meta['source_sha256'] = sha256_of(checkpoint)
    check_backbone_meta(meta, checkpoint)
    # Round-trip through PALBackbone: checks keys and shapes, and stores exactly its keys.
    backbone = PALBackbone(**{k: v for k, v in meta['backbone_cfg'].items() if k != 'type'})
    backbone.load_state_dict(_encoder_weights(backbone, state_dict_of(ckpt, checkpoint),
                                              checkpoint))
    payload = {'state_dict': backbone.state_dict(), 'meta': {k: meta[k] for k in META_KEYS}}
    with atomic_write(out, 'wb') as handle:
        torch.save(payload, handle)
    return payload['meta']


def _encoder_weights(backbone, state_dict, path) -> dict:
    from pal_eval.pretrain.checkpoint import check_shapes, extract_encoder_state_dict

    target = backbone.state_dict()
    weights = extract_encoder_state_dict(state_dict, target.keys(), path)
    check_shapes(weights, target, path)
    return weights


def load_backbone(path: str | os.PathLike | None, device: str | torch.device = 'cpu', *,
                  seed: int = 0, **random_overrides: Any) -> tuple[torch.nn.Module, dict]:
    """Load a clip encoder and its metadata, ready for feature extraction.

    Args:
        path: An exported ``backbone.pth``, a raw PAL / MoCoV2 checkpoint, or ``None`` /
            ``'random'`` for a randomly initialised encoder (the random-init baseline).
        device: Where to put the module.
        seed: Seed of the random initialisation (``path`` None / ``'random'`` only).
        **random_overrides: For random init, metadata to override (``arch``,
            ``base_channels``, ``clips_per_video``, ``frames_per_clip``, ``input_size``...).

    Returns:
        ``(PALBackbone in eval mode, meta)``; ``meta`` has the keys of :data:`META_KEYS`.

    Examples:
        >>> model, meta = load_backbone('random', seed=0, base_channels=8)
        >>> meta['pretext'], meta['feature_dim']
        ('random', 64)
    """
    from pal_eval.pretrain.backbone import PALBackbone

    if path is None or str(path) == 'random':
        meta = dict(DEFAULT_META)
        base_channels = random_overrides.pop('base_channels', 64)
        meta.update(random_overrides)
        meta['backbone_cfg'] = dict(type='PALBackbone', arch=meta['arch'],
                                    base_channels=base_channels)
        check_backbone_meta(meta, 'random init')
        meta['feature_dim'] = base_channels * 8
        meta['pretext'] = 'random'
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            backbone = PALBackbone(arch=meta['arch'], base_channels=base_channels)
            backbone.init_weights()
        meta = {k: meta[k] for k in META_KEYS}
    else:
        if random_overrides:
            raise PalEvalError(f'{path}: overrides {sorted(random_overrides)} apply to random '
                               'init only')
        ckpt = safe_torch_load(path)
        if isinstance(ckpt, Mapping) and isinstance(ckpt.get('meta'), Mapping) \
                and 'backbone_cfg' in ckpt['meta']:
            meta = dict(ckpt['meta'])
        else:
            meta = meta_from_checkpoint(ckpt, path)
            meta['source_sha256'] = sha256_of(path)
            meta = {k: meta[k] for k in META_KEYS}
        check_backbone_meta(meta, path)
        cfg = {k: v for k, v in meta['backbone_cfg'].items() if k != 'type'}
        backbone = PALBackbone(**cfg)
        backbone.load_state_dict(_encoder_weights(backbone, state_dict_of(ckpt, path), path))
        backbone._is_init = True
    return backbone.to(device).eval(), meta

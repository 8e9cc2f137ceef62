"""Load an encoder with its metadata, and turn an extraction config into clip settings.

An extraction config (``configs/extraction/*.py``, an MMEngine config) holds::

    sampling = dict(policy='sliding',     # or 'resample' (ActivityNet: T snippets)
                    stride=4,             # grid frames between clip starts
                    fps=None,             # resample videos to this rate first (None: native)
                    num_snippets=100,     # only for policy='resample'
                    resample='linear')    # or 'mean' (see pal_eval.extraction.sampling)
    encoder = dict(frames_per_clip=None, frame_interval=None, input_size=None)  # overrides
    data = dict(batch_size=8, num_workers=2)
    seed = 0                              # for --checkpoint random
    random_init = dict(base_channels=16)  # for --checkpoint random: encoder overrides

``None`` overrides take the values stored with the encoder (its export metadata).
"""
from __future__ import annotations

import os
from pathlib import Path

from pal_eval.errors import InputError, PalEvalError
from pal_eval.extraction.folder import ClipSettings
from pal_eval.extraction.sampling import SamplingPolicy
from pal_eval.io import file_sha256

DEFAULT_MEAN = (123.675, 116.28, 103.53)
DEFAULT_STD = (58.395, 57.12, 57.375)


def load_encoder(checkpoint: str, *, device: str = 'cpu', seed: int = 0,
                 random_init: dict | None = None):
    """Load a ``PALBackbone`` in eval mode with its metadata.

    Args:
        checkpoint: An exported backbone, a raw PAL/MoCoV2 checkpoint, or ``'random'``
            (random initialisation seeded with ``seed``).
        device: Torch device.
        seed: Seed of the random initialisation.
        random_init: For ``'random'``, metadata overrides (``arch``, ``base_channels``...).

    Returns:
        ``(module, meta)``; ``meta`` gains ``checkpoint`` and ``source_sha256``.

    Raises:
        InputError: the checkpoint file is missing.
        PalEvalError: the pretraining package cannot load encoders.
    """
    try:
        from pal_eval.pretrain.export import load_backbone
    except ImportError as exc:
        raise PalEvalError(f'cannot load encoders: pal_eval.pretrain.export.load_backbone is '
                           f'not available ({exc})') from None
    if checkpoint == 'random':
        model, meta = load_backbone(None, device=device, seed=seed, **(random_init or {}))
        meta = {**meta, 'checkpoint': 'random', 'source_sha256': f'random-init-seed-{seed}'}
    else:
        path = Path(checkpoint)
        if not path.is_file():
            raise InputError(path, 'checkpoint not found (a file, or "random")')
        model, meta = load_backbone(str(path), device=device)
        meta = {**meta, 'checkpoint': str(path),
                'source_sha256': meta.get('source_sha256') or file_sha256(path)}
    return model.eval(), meta


def _size(value) -> tuple[int, int]:
    if isinstance(value, (int, float)):
        return int(value), int(value)
    height, width = value
    return int(height), int(width)


def clip_settings_from_config(cfg, encoder_meta: dict, *,
                              config_path: str | os.PathLike = '<config>') -> ClipSettings:
    """Build :class:`ClipSettings` from an extraction config and the encoder's metadata.

    Args:
        cfg: MMEngine ``Config`` (or dict) with ``sampling`` and optional ``encoder`` sections.
        encoder_meta: Metadata from :func:`load_encoder`.
        config_path: Named in error messages.

    Raises:
        InputError: a missing or invalid field, naming the config and the field.
    """
    sampling = dict(cfg.get('sampling') or {})
    overrides = dict(cfg.get('encoder') or {})

    def pick(name: str, default=None):
        value = overrides.get(name)
        value = encoder_meta.get(name, default) if value is None else value
        if value is None:
            raise InputError(config_path, 'not set in the config nor in the encoder metadata',
                             field=f'encoder.{name}')
        return value

    policy_name = sampling.get('policy', 'sliding')
    if policy_name not in ('sliding', 'resample'):
        raise InputError(config_path, f"must be 'sliding' or 'resample', got {policy_name!r}",
                         field='sampling.policy')
    num_snippets = sampling.get('num_snippets', 100) if policy_name == 'resample' else None
    try:
        policy = SamplingPolicy(frames_per_clip=int(pick('frames_per_clip')),
                                frame_interval=int(pick('frame_interval', 1)),
                                stride=sampling.get('stride', 1),
                                target_fps=sampling.get('fps'),
                                num_snippets=num_snippets,
                                resample=sampling.get('resample', 'linear'))
        input_size = _size(pick('input_size'))
    except (ValueError, TypeError) as exc:
        raise InputError(config_path, str(exc), field='sampling') from None
    mean = tuple(float(v) for v in encoder_meta.get('mean') or DEFAULT_MEAN)
    std = tuple(float(v) for v in encoder_meta.get('std') or DEFAULT_STD)
    return ClipSettings(policy, input_size, mean, std)


def load_config(path: str | os.PathLike):
    """Read an extraction config with MMEngine, turning failures into one-line errors."""
    from mmengine.config import Config

    path = Path(path)
    if not path.is_file():
        raise InputError(path, 'config file not found')
    try:
        return Config.fromfile(str(path))
    except Exception as exc:  # noqa: BLE001 - any config syntax error becomes one line
        raise InputError(path, f'cannot read config: {exc}') from None

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
    equal_features = dict(target_frames_per_clip=4,  # optional: PAL's clip defines the
                          target_frame_interval=1,   # feature grid every encoder yields
                          span='native')             # or 'match' (equal_features.py)

``None`` overrides take the values stored with the encoder (its export metadata).

Encoders (:func:`load_encoder`): our ``PALBackbone`` (exported / PAL / MoCoV2 files,
``random``), the released encoders of :mod:`pal_eval.encoders` (recognised from the file,
or ``--encoder NAME``), and any mmaction2 recognizer (``--recognizer-config``, or a
checkpoint of a recognizer trained here, e.g. the TAC baseline, which carries its config).
"""
from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from pal_eval.errors import InputError, PalEvalError
from pal_eval.extraction.folder import ClipSettings
from pal_eval.extraction.sampling import SamplingPolicy
from pal_eval.io import file_sha256

DEFAULT_MEAN = (123.675, 116.28, 103.53)
DEFAULT_STD = (58.395, 57.12, 57.375)


def load_encoder(checkpoint: str, *, device: str = 'cpu', seed: int = 0,
                 random_init: dict | None = None, encoder: str | None = None,
                 recognizer_config: str | os.PathLike | None = None):
    """Load any supported encoder in eval mode with its metadata.

    Args:
        checkpoint: A weight file, or ``'random'`` (random initialisation seeded with ``seed``).
            Files: an exported backbone or PAL / MoCoV2 checkpoint (``PALBackbone``), a
            released encoder of :data:`pal_eval.encoders.registry.ENCODERS` (recognised by its
            keys), or an mmaction2 recognizer checkpoint (TAC: the config travels with it).
        device: Torch device.
        seed: Seed of the random initialisation.
        random_init: For ``'random'`` PALBackbones, metadata overrides (``base_channels``...).
        encoder: A registered encoder name: its architecture for ``'random'``, or the method
            a released file is read as (when its keys fit several).
        recognizer_config: An mmaction2 recognizer config whose backbone ``checkpoint`` holds.

    Returns:
        ``(module, meta)``; ``meta`` gains ``checkpoint`` and ``source_sha256``.

    Raises:
        InputError: the checkpoint is missing or fits no supported layout (one line).
        PalEvalError: the pretraining package cannot load encoders.
    """
    try:
        from pal_eval.pretrain.export import load_backbone
    except ImportError as exc:
        raise PalEvalError(f'cannot load encoders: pal_eval.pretrain.export.load_backbone is '
                           f'not available ({exc})') from None
    if recognizer_config is not None:
        from pal_eval.encoders.recognizer import load_recognizer

        path = None if checkpoint == 'random' else _existing(checkpoint)
        return load_recognizer(load_config(recognizer_config), path, device=device,
                               config_path=recognizer_config)
    if checkpoint == 'random' and encoder is not None:
        from pal_eval.encoders.external import random_external

        return random_external(encoder, seed=seed, device=device)
    if checkpoint == 'random':
        model, meta = load_backbone(None, device=device, seed=seed, **(random_init or {}))
        meta = {**meta, 'checkpoint': 'random', 'source_sha256': f'random-init-seed-{seed}'}
        return model.eval(), meta
    path = _existing(checkpoint)
    kind, obj = checkpoint_kind(path)
    if encoder is not None or kind == 'external':
        from pal_eval.encoders.external import load_external

        return load_external(path, name=encoder, device=device, obj=obj)
    if kind == 'recognizer':
        from pal_eval.encoders.recognizer import config_of_checkpoint, load_recognizer

        return load_recognizer(config_of_checkpoint(obj, path), path, device=device,
                               config_path=f'{path} (stored config)', obj=obj)
    model, meta = load_backbone(str(path), device=device)
    meta = {**meta, 'checkpoint': str(path),
            'source_sha256': meta.get('source_sha256') or file_sha256(path)}
    return model.eval(), meta


def check_device(device: str, option: str = '--device') -> str:
    """``device`` if torch can run on it here, else a one-line error (before any work).

    Raises:
        PalEvalError: not a device name (``banana``), a device type other than cpu / cuda /
            mps, CUDA absent, or a GPU index this machine does not have.

    Examples:
        >>> check_device('cpu')
        'cpu'
        >>> check_device('banana')
        Traceback (most recent call last):
        ...
        pal_eval.errors.PalEvalError: --device 'banana': not a device (use cpu, cuda or cuda:N)
    """
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError, TypeError):
        raise PalEvalError(f'{option} {device!r}: not a device (use cpu, cuda or cuda:N)'
                           ) from None
    if parsed.type == 'cuda':
        if not torch.cuda.is_available():
            raise PalEvalError(f'{option} {device}: CUDA is not available on this machine')
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise PalEvalError(f'{option} {device}: this machine has '
                               f'{torch.cuda.device_count()} CUDA device(s)')
    elif parsed.type == 'mps':
        if not torch.backends.mps.is_available():
            raise PalEvalError(f'{option} {device}: MPS is not available on this machine')
    elif parsed.type != 'cpu':
        raise PalEvalError(f'{option} {device!r}: unsupported device type (use cpu, cuda or '
                           'cuda:N)')
    return device


def _existing(checkpoint) -> Path:
    path = Path(checkpoint)
    if not path.is_file():
        raise InputError(path, 'checkpoint not found (a file, or "random")')
    return path


def checkpoint_kind(path: str | os.PathLike) -> tuple[str, object]:
    """``('palbackbone' | 'recognizer' | 'external', loaded object)`` of a weight file.

    Our files carry metadata: an exported backbone has ``meta.backbone_cfg``, an MMEngine
    checkpoint ``meta.cfg`` (a recognizer's, e.g. TAC, or a PAL / MoCoV2 run's). Anything
    else is a released encoder whose layout :mod:`pal_eval.encoders.external` recognises.
    """
    from pal_eval.encoders.recognizer import is_recognizer_checkpoint
    from pal_eval.pretrain.checkpoint import safe_torch_load

    obj = safe_torch_load(path)
    meta = obj.get('meta') if isinstance(obj, dict) else None
    if isinstance(meta, dict) and 'backbone_cfg' in meta:
        return 'palbackbone', obj
    if is_recognizer_checkpoint(obj):
        return 'recognizer', obj
    if isinstance(meta, dict) and meta.get('cfg'):
        return 'palbackbone', obj
    return 'external', obj


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
    if cfg.get('equal_features') is not None:
        policy = _equal_features_policy(cfg['equal_features'], policy, config_path)
    mean = tuple(float(v) for v in encoder_meta.get('mean') or DEFAULT_MEAN)
    std = tuple(float(v) for v in encoder_meta.get('std') or DEFAULT_STD)
    return ClipSettings(policy, input_size, mean, std)


#: keys of an extraction config's ``equal_features`` section
EQUAL_FEATURES_KEYS = ('target_frames_per_clip', 'target_frame_interval', 'span')


def _equal_features_policy(section, encoder_policy: SamplingPolicy, config_path):
    """The encoder's clips aligned on PAL's feature grid (:mod:`.equal_features`)."""
    from pal_eval.extraction.equal_features import equal_feature_sampling

    section = dict(section)
    unknown = sorted(set(section) - set(EQUAL_FEATURES_KEYS))
    if unknown:
        raise InputError(config_path, f'unknown key(s) {", ".join(unknown)}; known: '
                         f'{", ".join(EQUAL_FEATURES_KEYS)}', field='equal_features')
    try:
        target = dataclasses.replace(
            encoder_policy, frames_per_clip=int(section.get('target_frames_per_clip', 4)),
            frame_interval=int(section.get('target_frame_interval', 1)))
        return equal_feature_sampling(target, encoder_policy.frames_per_clip,
                                      encoder_policy.frame_interval,
                                      section.get('span', 'native'))
    except (ValueError, TypeError) as exc:
        raise InputError(config_path, str(exc), field='equal_features') from None


#: the sections of an extraction config and the keys each accepts (anything else is a
#: typo that would otherwise run silently with a default: ``strid=4`` at stride 1)
EXTRACTION_CONFIG_KEYS: dict[str, tuple[str, ...]] = {
    '': ('sampling', 'encoder', 'data', 'seed', 'random_init', 'equal_features'),
    'sampling': ('policy', 'stride', 'fps', 'num_snippets', 'resample'),
    'encoder': ('frames_per_clip', 'frame_interval', 'input_size'),
    'data': ('batch_size', 'num_workers'),
    'random_init': ('arch', 'base_channels', 'clips_per_video', 'frames_per_clip',
                    'frame_interval', 'input_size', 'mean', 'std'),
    'equal_features': EQUAL_FEATURES_KEYS,
}


def check_extraction_config(cfg, config_path: str | os.PathLike) -> None:
    """Refuse unknown sections and keys, and loader settings out of range.

    Raises:
        InputError: naming the config file and the key (with the closest known key).

    Examples:
        >>> check_extraction_config({'sampling': {'strid': 4}}, 'x.py')
        Traceback (most recent call last):
        ...
        pal_eval.errors.InputError: x.py, field 'sampling.strid': unknown key; did you mean ...
    """
    from pal_eval.errors import check_known_keys

    check_known_keys(cfg, EXTRACTION_CONFIG_KEYS[''], config_path)
    for section, known in EXTRACTION_CONFIG_KEYS.items():
        value = cfg.get(section) if section else None
        if not section or value is None:
            continue
        if not isinstance(value, dict):
            raise InputError(config_path, f'must be a dict(...), got {value!r}', field=section)
        check_known_keys(value, known, config_path, section=section)
    from pal_eval.pretrain.export import META_LIMITS, check_meta_value

    for section in ('random_init', 'encoder'):
        for key, value in (cfg.get(section) or {}).items():
            if key in META_LIMITS and value is not None:
                check_meta_value(key, value, config_path, f'{section}.{key}')
    data = cfg.get('data') or {}
    for key, low in (('batch_size', 1), ('num_workers', 0)):
        value = data.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or value < low):
            raise InputError(config_path, f'must be an integer >= {low}, got {value!r}',
                             field=f'data.{key}')


def load_extraction_config(path: str | os.PathLike):
    """:func:`load_config` for an extraction config, checked by
    :func:`check_extraction_config` (unknown keys are errors)."""
    cfg = load_config(path)
    check_extraction_config(cfg, path)
    return cfg


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

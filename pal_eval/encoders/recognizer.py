"""Any mmaction2 recognizer as a clip encoder: its config + checkpoint -> backbone (+ neck).

``pal-eval extract --recognizer-config CFG --checkpoint CKPT`` builds ``CFG.model`` with
mmaction2 (I3D, SlowFast, TSN, TSM, VideoMAE, ...), loads the checkpoint's backbone and
neck (the classification head is not used and may be absent), and reads the native input
from the config: ``SampleFrames`` (clip length, frame interval), ``Resize`` and
``CenterCrop`` of the test pipeline, and the data preprocessor's mean / std. A 2D
recognizer (``format_shape='NCHW'``: TSN, TSM) encodes every frame and averages over time.
A checkpoint trained by this project (the TAC baseline, or any ``mim train`` run) carries
its config, so ``--recognizer-config`` is then optional.
"""
from __future__ import annotations

import os

import torch
from torch import nn

from pal_eval.encoders.convert import flat_state_dict
from pal_eval.errors import InputError, PalEvalError


class RecognizerEncoder(nn.Module):
    """``[N, 3, T, H, W]`` clips -> the recognizer's backbone (+ neck) features.

    Args:
        backbone: The recognizer's backbone.
        neck: Its neck, or ``None``.
        two_d: The backbone takes frames ``[N*T, 3, H, W]`` (``NCHW`` recognizers).
        crop: Centre-crop side, or ``None``.
    """

    def __init__(self, backbone: nn.Module, neck: nn.Module | None = None, *,
                 two_d: bool = False, crop: int | None = None):
        super().__init__()
        self.backbone, self.neck, self.two_d = backbone, neck, two_d
        from pal_eval.encoders.external import CenterCropEncoder

        self._crop = CenterCropEncoder(nn.Identity(), crop)

    def forward(self, x: torch.Tensor):
        x = self._crop(x)
        batch, frames = x.shape[0], x.shape[2]
        if self.two_d:
            x = x.transpose(1, 2).reshape(batch * frames, *x.shape[1:2], *x.shape[3:])
        out = self.backbone(x)
        if self.neck is not None:
            out = self.neck(out)
            out = out[0] if isinstance(out, tuple) and len(out) == 2 and \
                not torch.is_tensor(out[1]) else out
        if isinstance(out, (tuple, list)):  # SlowFast: pool each pathway, concatenate
            out = torch.cat([o.flatten(2).mean(2) if o.dim() > 2 else o for o in out], dim=1)
        if self.two_d:
            out = out.flatten(2).mean(2) if out.dim() > 2 else out
            out = out.view(batch, frames, -1).mean(1)
        return out


def _pipeline(cfg) -> list:
    for key in ('test_pipeline', 'val_pipeline', 'train_pipeline'):
        if cfg.get(key):
            return list(cfg[key])
    for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        loader = cfg.get(key) or {}
        pipeline = (loader.get('dataset') or {}).get('pipeline')
        if pipeline:
            return list(pipeline)
    return []


def input_settings(cfg, path: str | os.PathLike = '<config>') -> dict:
    """Native input of a recognizer config: frames, interval, resize, crop, mean, std.

    Raises:
        InputError: the config has no ``SampleFrames`` step nor a size.
    """
    steps = {step.get('type'): step for step in _pipeline(cfg)}
    sample = steps.get('SampleFrames') or steps.get('DenseSampleFrames')
    if sample is None:
        raise InputError(path, 'no SampleFrames step in its test/val/train pipeline: '
                         'cannot tell the clip length', field='test_pipeline')
    size = None
    resize = steps.get('Resize')
    if resize is not None:
        scale = tuple(resize.get('scale', ()))
        if len(scale) == 2 and -1 in scale:       # short side to max(scale), keep ratio
            side = max(scale)
            size = (side, round(side * 4 / 3))     # a 4:3 frame, as the test videos usually are
        elif len(scale) == 2 and not resize.get('keep_ratio', True):
            size = (int(scale[1]), int(scale[0]))  # mmcv scales are (width, height)
        elif len(scale) == 2:
            side = min(scale)
            size = (side, round(side * 4 / 3))
    crop = None
    for name in ('CenterCrop', 'ThreeCrop', 'TenCrop'):
        if name in steps:
            value = steps[name].get('crop_size')
            crop = int(value if isinstance(value, (int, float)) else min(value))
            break
    if size is None and crop is None:
        raise InputError(path, 'no Resize / CenterCrop in the pipeline: cannot tell the '
                         'input size', field='test_pipeline')
    preprocessor = dict(cfg.model.get('data_preprocessor') or {})
    return {'frames_per_clip': int(sample.get('clip_len', 1)),
            'frame_interval': int(sample.get('frame_interval', 1)),
            'input_size': list(size or (crop, crop)), 'crop': crop,
            'mean': [float(v) for v in preprocessor.get('mean', (123.675, 116.28, 103.53))],
            'std': [float(v) for v in preprocessor.get('std', (58.395, 57.12, 57.375))],
            'two_d': preprocessor.get('format_shape', 'NCTHW') == 'NCHW'}


def load_recognizer(cfg, checkpoint: str | os.PathLike | None, *, device: str = 'cpu',
                    config_path: str | os.PathLike = '<config>', obj=None
                    ) -> tuple[nn.Module, dict]:
    """Build ``cfg.model``, load the checkpoint's backbone (+ neck), read its input.

    Args:
        cfg: An mmengine ``Config`` of an mmaction2 recognizer.
        checkpoint: Its weights (``None``: random init, for FLOPs or tests).
        device: Torch device.
        config_path: Named in errors.
        obj: The already loaded checkpoint content.

    Returns:
        ``(RecognizerEncoder in eval mode, metadata)``.

    Raises:
        InputError: the checkpoint lacks backbone / neck weights, or has others of a
            different shape (one line listing them).
    """
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    from mmengine.registry import DefaultScope

    from pal_eval.io import file_sha256
    from pal_eval.pretrain.checkpoint import safe_torch_load

    register_all_modules(init_default_scope=False)
    if not str(cfg.model.get('type', '')).startswith('Recognizer'):
        raise InputError(config_path, f"model.type {cfg.model.get('type')!r} is not an "
                         'mmaction2 recognizer', field='model.type')
    settings = input_settings(cfg, config_path)
    model_cfg = dict(cfg.model)
    if isinstance(model_cfg.get('backbone'), dict):
        model_cfg['backbone'] = {k: v for k, v in model_cfg['backbone'].items()
                                 if k not in ('pretrained', 'init_cfg')}
    try:
        with DefaultScope.overwrite_default_scope('mmaction'):
            model = MODELS.build(model_cfg)
    except Exception as exc:  # noqa: BLE001 - any build failure is a bad config
        raise InputError(config_path, f'cannot build model: {exc}'.splitlines()[0]) from None
    sha = 'random-init'
    if checkpoint is not None:
        obj = safe_torch_load(checkpoint) if obj is None else obj
        state = flat_state_dict(obj, checkpoint)
        state = {k[len('module.'):] if k.startswith('module.') else k: v
                 for k, v in state.items()}
        wanted = {k: v for k, v in model.state_dict().items()
                  if k.startswith(('backbone.', 'neck.'))}
        missing = sorted(set(wanted) - set(state))
        wrong = sorted(k for k in wanted if k in state
                       and tuple(state[k].shape) != tuple(wanted[k].shape))
        if missing or wrong:
            listed = ', '.join((missing + wrong)[:6])
            raise InputError(checkpoint, f'does not fit {cfg.model.type} of {config_path}: '
                             f'{len(missing)} missing and {len(wrong)} mis-shaped backbone/'
                             f'neck key(s): {listed}')
        model.load_state_dict({k: state[k] for k in wanted}, strict=False)
        sha = file_sha256(checkpoint)
    encoder = RecognizerEncoder(model.backbone, getattr(model, 'neck', None),
                                two_d=settings.pop('two_d'), crop=settings['crop'])
    backbone_type = model_cfg.get('backbone', {}).get('type', '?')
    meta = {**settings, 'arch': f'{cfg.model.type}/{backbone_type}',
            'backbone_cfg': _plain(cfg.model.get('backbone')),
            'pretext': str(cfg.get('pretext', 'supervised')),
            'data': _dataset_name(cfg), 'checkpoint': str(checkpoint),
            'source_sha256': sha}
    return encoder.to(device).eval(), meta


def _plain(value):
    """A config section as plain JSON-ready data."""
    import json

    return json.loads(json.dumps(value, default=str)) if value is not None else None


def _dataset_name(cfg) -> str | None:
    loader = cfg.get('train_dataloader') or {}
    dataset = loader.get('dataset') or {}
    return dataset.get('ann_file') or dataset.get('type')


def is_recognizer_checkpoint(obj) -> bool:
    """Whether a loaded MMEngine checkpoint was trained as an mmaction2 recognizer."""
    from mmengine.config import Config

    meta = obj.get('meta') if isinstance(obj, dict) else None
    if not isinstance(meta, dict) or not meta.get('cfg'):
        return False
    try:
        cfg = Config.fromstring(meta['cfg'], file_format='.py')
    except Exception:  # noqa: BLE001 - an unparsable config is simply not one of ours
        return False
    return str(cfg.get('model', {}).get('type', '')).startswith('Recognizer')


def config_of_checkpoint(obj, path):
    """The training config stored in an MMEngine checkpoint."""
    from mmengine.config import Config

    try:
        return Config.fromstring(obj['meta']['cfg'], file_format='.py')
    except Exception as exc:  # noqa: BLE001
        raise PalEvalError(f'{path}: cannot parse its stored config: {exc}') from None

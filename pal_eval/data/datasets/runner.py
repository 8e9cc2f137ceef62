"""The training runner of every head config: numbers that belong to the data come from it.

``_base_/default_runtime.py`` sets ``runner_type = 'FeatureAwareRunner'``, so ``mim train``
and ``mim test`` (MMAction2's ``tools/train.py`` / ``test.py`` build
``RUNNERS.build(cfg)`` when a config names a runner) resolve, before the model is built:

* ``model.feat_dim='auto'`` (the heads' bases): the feature dimension of the features the
  datasets read (``meta.json`` of our folders, the arrays of a published release), so no
  config or command copies it by hand. An explicit number that differs from the
  features' is an error naming both (it would otherwise fail later as a torch shape
  error).
* relative ``test_evaluator.dump_path``: under ``--work-dir``, not the current folder.

The resolution is a plain function of the config (:func:`resolve_data_settings`), usable
without MMEngine's runner.
"""
from __future__ import annotations

import copy
import os
from collections.abc import MutableMapping
from pathlib import Path

from mmaction.registry import RUNNERS
from mmengine.runner import Runner

from pal_eval.data.datasets.localization import under_data_root
from pal_eval.errors import InputError, PalEvalError

__all__ = ['AUTO', 'FeatureAwareRunner', 'dataset_feature_dim', 'resolve_data_settings']

#: ``model.feat_dim`` value meaning "read it from the features".
AUTO = 'auto'
_LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def dataset_feature_dim(dataset: MutableMapping) -> tuple[str, int | None] | None:
    """``(feature folder, feature_dim)`` a dataset config reads; None if it reads no folder.

    ``feature_dim`` is None when the folder exists but holds no video yet.

    Raises:
        InputError: the folder does not exist, or its feature source is malformed.
    """
    from pal_eval.data.feature_sources import open_feature_store

    if not isinstance(dataset, MutableMapping) or not dataset.get('feature_dir'):
        return None
    folder = _feature_folder(dataset)
    source = dataset.get('feature_source')
    store = open_feature_store(folder, dict(source) if source is not None else None)
    return folder, store.feature_dim


def resolve_data_settings(cfg: MutableMapping) -> MutableMapping:
    """Fill ``model.feat_dim`` from the features and put relative dump paths under the
    work dir (module docstring); ``cfg`` is changed in place and returned.

    Raises:
        InputError: an explicit ``model.feat_dim`` differs from the features', the
            loaders read features of different dimensions, or ``'auto'`` finds no feature.
    """
    model = cfg.get('model')
    if isinstance(model, MutableMapping) and 'feat_dim' in model:
        _resolve_feat_dim(cfg, model)
    work_dir = cfg.get('work_dir')
    evaluators = cfg.get('test_evaluator')
    if work_dir and evaluators is not None:
        for evaluator in evaluators if isinstance(evaluators, list) else [evaluators]:
            if isinstance(evaluator, MutableMapping) and evaluator.get('dump_path'):
                evaluator['dump_path'] = _under(str(work_dir), str(evaluator['dump_path']))
    return cfg


def _resolve_feat_dim(cfg: MutableMapping, model: MutableMapping) -> None:
    wanted = model['feat_dim']
    found: dict[str, int | None] = {}
    for name in _LOADERS:
        loader = cfg.get(name)
        dataset = loader.get('dataset') if isinstance(loader, MutableMapping) else None
        if wanted != AUTO and not _folder_exists(dataset):
            continue  # an explicit number with no folder yet: the dataset reports it
        resolved = dataset_feature_dim(dataset) if dataset is not None else None
        if resolved is not None:
            found[resolved[0]] = resolved[1]
    dims = {d for d in found.values() if d is not None}
    if len(dims) > 1:
        listed = ', '.join(f'{folder}: {dim}' for folder, dim in found.items())
        raise InputError(next(iter(found)), f'the data loaders read features of different '
                         f'dimensions ({listed})', field='feature_dim')
    if wanted == AUTO:
        if not dims:
            where = next(iter(found), 'the data loaders')
            raise InputError(where, "model.feat_dim='auto' needs features to read the "
                             'dimension from (no video in the folder, or no feature_dir in '
                             'the data loaders)', field='feature_dim')
        model['feat_dim'] = dims.pop()
        return
    if dims and int(wanted) != next(iter(dims)):
        folder = next(f for f, d in found.items() if d is not None)
        raise InputError(folder, f'model.feat_dim={wanted} but the features have feature_dim '
                         f'{next(iter(dims))}; drop model.feat_dim (it is read from the '
                         'features) or give the matching value', field='feature_dim')


def _folder_exists(dataset) -> bool:
    if not isinstance(dataset, MutableMapping) or not dataset.get('feature_dir'):
        return False
    return Path(_feature_folder(dataset)).is_dir()


def _feature_folder(dataset: MutableMapping) -> str:
    """The folder a feature dataset config opens (``feature_dir`` under ``data_root``)."""
    return under_data_root(str(dataset['feature_dir']), str(dataset.get('data_root') or ''))


def _under(work_dir: str, path: str) -> str:
    """``path`` under ``work_dir`` unless absolute or already there.

    Examples:
        >>> _under('w/run', 'dets.json'), _under('w/run', 'w/run/dets.json')
        ('w/run/dets.json', 'w/run/dets.json')
    """
    if os.path.isabs(path):
        return path
    normal = os.path.normpath(path)
    base = os.path.normpath(work_dir)
    if normal == base or normal.startswith(base + os.sep):
        return path
    return os.path.join(work_dir, path)


@RUNNERS.register_module()
class FeatureAwareRunner(Runner):
    """MMEngine's ``Runner`` whose config is first resolved by :func:`resolve_data_settings`."""

    @classmethod
    def from_cfg(cls, cfg) -> Runner:
        cfg = copy.deepcopy(cfg)
        try:
            resolve_data_settings(cfg)
        except PalEvalError as exc:
            # mim prints a traceback; the first line a reader sees names the problem.
            raise SystemExit(f'error: {exc}') from None
        return super().from_cfg(cfg)

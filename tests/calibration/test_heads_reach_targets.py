"""The shipped synthetic head configs, trained on oracle features, reach their targets.

Data: the annotations of the demo's benchmark (``small`` preset, seed 0: 100 training,
30 validation, 120 testing videos), planned without rendering a frame; oracle features
on the time grid the synthetic extraction config gives those videos. Each config is
trained as shipped (checkpoint chosen on ``validation`` / ``val``), tested on
``testing`` / ``test``, and compared with the floor of the same metric (the best fixed
prediction learned from the training ground truth).

Targets (issue 13): BMN AUC >= 60 and >= floor + 15; G-TAD mAP@0.5 >= 55; 2D-TAN
R@1,IoU=0.5 >= 45 and >= floor + 30. Measured on the 2-core CPU dev machine (seeds 0 / 1
of the head): BMN AUC 73.4 / 74.0 (floor 38.3), G-TAD mAP@0.5 71.8 / 63.4, 2D-TAN
R@1,IoU=0.5 57.6 / 58.5 (floor 8.6); about 1.2 min of CPU for the three trainings.
"""
from __future__ import annotations

import glob
import uuid
from pathlib import Path

import numpy as np
import pytest

from pal_eval.calibration import floor, oracle

pytestmark = pytest.mark.slow
EXTRACT_CONFIG = 'configs/extraction/extract_palbackbone_1xb8-sliding-stride4_synthetic.py'


@pytest.fixture(scope='module')
def benchmark(tmp_path_factory, repo_root):
    """Annotation files of the demo's benchmark and oracle features of all its videos."""
    from pal_eval.data import synthetic
    from pal_eval.data.annotations.writers import write_activitynet_gt, write_grounding_json

    root = tmp_path_factory.mktemp('oracle_benchmark')
    plan = synthetic.plan_benchmark('small', 0)
    actions, grounding = synthetic.build_annotations(plan)
    write_activitynet_gt(root / 'annotations' / 'activitynet.json', actions)
    splits = {}
    for split in synthetic.GROUNDING_SPLITS.values():
        splits[split] = grounding.select_subset(split)
        write_grounding_json(root / 'annotations' / f'grounding_{split}.json', splits[split])
    videos = {spec.video_id: oracle.VideoGrid(np.zeros(0), spec.duration, spec.fps,
                                              spec.num_frames) for _, spec in plan.videos}
    grids, sampling = oracle.grids_from_extract_config(repo_root / EXTRACT_CONFIG, videos)
    meta = oracle.write_oracle_folder(root / 'features' / 'oracle', grids, actions=actions,
                                      grounding=list(splits.values()), sampling=sampling)
    return root, meta['feature_dim'], actions, splits


def _train_and_test(config: Path, work_dir: Path, options: dict) -> dict:
    """Train a config as shipped (plus paths), test its best checkpoint; flat metrics."""
    import torch
    from mmengine.config import Config
    from mmengine.runner import Runner

    import pal_eval  # noqa: F401  (registers the heads, datasets and metrics)

    torch.set_num_threads(1)
    cfg = Config.fromfile(str(config))
    cfg.merge_from_dict(options)
    cfg.work_dir = str(work_dir)
    cfg.log_level = 'WARNING'
    cfg.experiment_name = f'{config.stem}-{uuid.uuid4().hex[:8]}'
    runner = Runner.from_cfg(cfg)
    runner.train()
    (best,) = glob.glob(f'{work_dir}/best_*.pth')
    runner.load_checkpoint(best)
    return {k: float(v) for k, v in runner.test().items()}


def _feature_options(root: Path, dim: int, *, grounding: bool = False) -> dict:
    features = str(root / 'features' / 'oracle')
    ann = str(root / 'annotations' / 'activitynet.json')
    options = {'model.feat_dim': dim}
    for split in ('train', 'val', 'test'):
        options[f'{split}_dataloader.dataset.feature_dir'] = features
        if grounding:
            options[f'{split}_dataloader.dataset.data_root'] = str(root)
        else:
            options[f'{split}_dataloader.dataset.ann_file'] = ann
    if grounding:
        options['model.vocabulary.ann_file'] = str(root / 'annotations' / 'grounding_train.json')
        for split, name in (('val', 'val'), ('test', 'test')):
            path = str(root / 'annotations' / f'grounding_{name}.json')
            options[f'{split}_dataloader.dataset.ann_file'] = path
            options[f'{split}_evaluator.ann_file'] = path
    else:
        options.update({'val_evaluator.ann_file': ann, 'test_evaluator.ann_file': ann})
    options['test_evaluator.dump_path'] = None
    return options


def _relative(instances, durations):
    return floor.relative_segments(instances[['t_start', 't_end']].to_numpy(np.float64),
                                   instances['video_id'].map(durations).to_numpy())


def test_bmn_on_oracle_features(benchmark, repo_root, tmp_path):
    from pal_eval.evaluation.proposal import evaluate_proposals

    root, dim, actions, _ = benchmark
    config = next((repo_root / 'configs' / 'proposal').glob('bmn_*_synthetic.py'))
    metrics = _train_and_test(config, tmp_path, _feature_options(root, dim))
    train, test = actions.select_subset('training'), actions.select_subset('testing')
    durations = {v: i.duration for v, i in actions.videos.items()}
    proposals = floor.fixed_proposals(_relative(train.instances, durations))
    floor_auc = evaluate_proposals(test.instances, floor.proposal_frame(
        proposals, {v: durations[v] for v in test.videos})).auc
    assert metrics['AUC'] >= 0.60 and metrics['AUC'] >= floor_auc + 0.15, \
        (metrics['AUC'], floor_auc)


def test_gtad_on_oracle_features(benchmark, repo_root, tmp_path):
    root, dim, _, _ = benchmark
    config = next((repo_root / 'configs' / 'detection').glob('gtad_*_synthetic.py'))
    options = _feature_options(root, dim)
    options.update({'model.class_fusion.feature_dir': str(root / 'features' / 'oracle'),
                    'model.class_fusion.ann_file': str(root / 'annotations' / 'activitynet.json')})
    metrics = _train_and_test(config, tmp_path, options)
    assert metrics['mAP@0.5'] >= 0.55, metrics


def test_tan2d_on_oracle_features(benchmark, repo_root, tmp_path):
    from pal_eval.evaluation.grounding import evaluate_grounding

    root, dim, _, splits = benchmark
    config = next((repo_root / 'configs' / 'grounding').glob('tan2d_*_synthetic-grounding.py'))
    metrics = _train_and_test(config, tmp_path, _feature_options(root, dim, grounding=True))
    train, test = splits['train'].queries, splits['test'].queries
    moments = floor.fixed_moments(floor.relative_segments(
        train[['t_start', 't_end']].to_numpy(np.float64), train['duration'].to_numpy()))
    floor_r1 = evaluate_grounding(test, floor.grounding_frame(moments, test)).recall[(1, 0.5)]
    assert metrics['R@1,IoU=0.5'] >= 0.45 and metrics['R@1,IoU=0.5'] >= floor_r1 + 0.30, \
        (metrics['R@1,IoU=0.5'], floor_r1)

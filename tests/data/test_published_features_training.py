"""One epoch of the matching head on each public release, through the shipped configs.

Each test writes a tiny copy of a release in its own layout
(:mod:`tests.data.published_layouts`), loads the shipped leaf config (which takes the
release from ``configs/_base_/features/``), points it at the copy and shrinks the model
with options only, then trains one epoch, validates and tests with
:class:`~pal_eval.data.datasets.runner.FeatureAwareRunner` (what ``mim train`` builds
from ``runner_type``). Checked: ``model.feat_dim`` was read from the files (never given),
the datasets place features on the release's documented grid, and the dumped predictions
are in seconds inside each video. Learning itself is the head tests' business; here the
data path is.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config

import pal_eval  # noqa: F401  (registers into mmaction)
from tests.data import published_layouts as layouts

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
SMALL_BMN = {'model.hidden_dim_1d': 16, 'model.hidden_dim_2d': 8, 'model.hidden_dim_3d': 16,
             'model.num_samples': 8, 'model.temporal_scale': 16}
SMALL_GTAD = {'model.hidden_dim_1d': 32, 'model.hidden_dim_2d': 16, 'model.hidden_dim_3d': 32,
              'model.groups': 4, 'model.inner_points': 8, 'model.context_points': 2}
SMALL_TAN = {'model.hidden_dim': 16, 'model.map_layers': 2, 'model.map_kernel': 3,
             'model.map_padding': None, 'model.word_dim': 8, 'model.word_vectors': None,
             'model.tokenizer': 'words', 'model.lstm_layers': 1, 'model.lstm_hidden': 16}


def run_one_epoch(config: str, options: dict, work_dir: Path):
    """Train one epoch (with validation), test; return the runner."""
    from pal_eval.data.datasets.runner import FeatureAwareRunner

    cfg = Config.fromfile(REPO / 'configs' / config)
    cfg.merge_from_dict({
        'train_cfg.max_epochs': 1, 'train_cfg.val_interval': 1,
        'default_hooks.logger.interval': 1, 'env_cfg.dist_cfg.backend': 'gloo',
        'default_hooks.checkpoint.save_best': None, 'param_scheduler': [],
        **{f'{loader}.{key}': value for loader in LOADERS
           for key, value in (('batch_size', 2), ('num_workers', 0),
                              ('persistent_workers', False))},
        **options})
    cfg.work_dir = str(work_dir)
    assert cfg.model.feat_dim == 'auto'   # nothing copied by hand
    runner = FeatureAwareRunner.from_cfg(cfg)
    runner.train()
    runner.test()
    return runner


def data_options(dataset: dict, evaluator: dict | None = None, loaders=LOADERS) -> dict:
    options = {f'{loader}.dataset.{key}': value for loader in loaders
               for key, value in dataset.items()}
    for name, value in (evaluator or {}).items():
        options[f'val_evaluator.{name}'] = options[f'test_evaluator.{name}'] = value
    return options


def check_dump(path: Path, durations: dict[str, float]) -> dict:
    results = json.loads(path.read_text())['results']
    assert results, path
    for video_id, items in results.items():
        duration = durations.get(video_id) or durations.get(f'v_{video_id}')
        for item in items:
            start, end = item['segment']
            assert 0 <= start < end <= duration + 1e-9, (video_id, item)
    return results


def check_grid(dataset, layout, video_id: str) -> None:
    record = next(dataset.get_data_info(i) for i in range(len(dataset))
                  if dataset.get_data_info(i)['video_id'] == video_id)
    video = dataset._load(record)
    np.testing.assert_allclose(video.centers, layout.expected_centers[video_id],
                               rtol=1e-12, atol=1e-12)


def test_gtad_on_bsn_tsn_csv_with_cuhk_classes(tmp_path):
    layout = layouts.bsn_csv_mean_100(tmp_path / 'data')
    # the CUHK file lists its classes in its own order, not the taxonomy's
    cuhk = layouts.cuhk_scores(tmp_path / 'cuhk.json', ['v_aaa', 'v_bbb', 'v_ccc'],
                               ['Long jump', 'Ballet'],
                               {'v_aaa': 'Ballet', 'v_bbb': 'Ballet', 'v_ccc': 'Long jump'})
    options = {**SMALL_GTAD, 'model.temporal_scale': 16, 'model.max_duration': 16,
               'model.class_fusion.score_file': str(cuhk),
               'model.class_fusion.ann_file': str(layout.files['val']),
               **data_options(dict(feature_dir=str(layout.features), temporal_scale=16),
                              dict(ann_file=str(layout.files['val']))),
               'train_dataloader.dataset.ann_file': str(layout.files['train']),
               'val_dataloader.dataset.ann_file': str(layout.files['val']),
               'test_dataloader.dataset.ann_file': str(layout.files['val'])}
    runner = run_one_epoch('detection/gtad_tsn-bsn_1xb16-t100-10e_activitynet.py', options,
                           tmp_path / 'work')
    assert runner.model.feat_dim == 400
    check_grid(runner.train_dataloader.dataset, layout, 'v_aaa')
    results = check_dump(tmp_path / 'work' / 'detections.json', {'v_ccc': 24.0})
    assert {item['label'] for item in results['v_ccc']} == {'Long jump', 'Ballet'}
    assert results['v_ccc'][0]['label'] == 'Long jump'   # CUHK's top class, by name


def test_bmn_on_tsp_h5(tmp_path):
    layout = layouts.tsp_h5(tmp_path / 'data')
    options = {**SMALL_BMN, **data_options(
        dict(feature_dir=str(layout.features), ann_file=str(layout.files['gt']),
             temporal_scale=16), dict(ann_file=str(layout.files['gt'])))}
    runner = run_one_epoch('proposal/bmn_tsp_1xb16-t100-9e_activitynet.py', options,
                           tmp_path / 'work')
    assert runner.model.feat_dim == 512
    check_grid(runner.train_dataloader.dataset, layout, 'aaa')
    check_dump(tmp_path / 'work' / 'proposals.json', {'ccc': 30.0})


def test_gtad_on_gtad_thumos14_h5_with_untrimmednet_scores(tmp_path):
    layout = layouts.gtad_thumos_h5(tmp_path / 'data')
    options = {**SMALL_GTAD, 'model.temporal_scale': 32, 'model.max_duration': 16,
               'model.class_fusion.score_file': str(layout.files['scores']),
               'model.class_fusion.ann_file': str(layout.files['test']),
               **data_options(dict(feature_dir=str(layout.features), temporal_scale=32,
                                   window_stride=16), dict(ann_file=str(layout.files['test']))),
               'train_dataloader.dataset.ann_file': str(layout.files['val']),
               'val_dataloader.dataset.ann_file': str(layout.files['test']),
               'test_dataloader.dataset.ann_file': str(layout.files['test'])}
    runner = run_one_epoch('detection/gtad_tsn-gtad_1xb8-t256d64-10e_thumos14.py', options,
                           tmp_path / 'work')
    assert runner.model.feat_dim == 2048
    train = runner.train_dataloader.dataset
    check_grid(train, layout, 'video_validation_0000052')   # the 25 fps video
    window = train[0]['data_samples'].metainfo
    start = window['window_start']
    np.testing.assert_allclose(window['grid_centers'][:3],
                               layout.expected_centers[window['video_id']][start:start + 3])
    results = check_dump(tmp_path / 'work' / 'detections.json',
                         {'video_test_0000004': 390 / 30.0})
    assert results['video_test_0000004'][0]['label'] == 'LongJump'  # UntrimmedNet's top


def test_gtad_on_actionformer_i3d_npy(tmp_path):
    layout = layouts.actionformer_i3d_npy(tmp_path / 'data')
    config = tmp_path / 'gtad_i3d.py'
    # The shipped release entry composed with the THUMOS14 G-TAD config, as a user would.
    config.write_text(
        f"_base_ = ['{REPO}/configs/detection/gtad_feat_1xb8-t256d64-10e_thumos14.py',\n"
        f"          '{REPO}/configs/_base_/features/i3d-actionformer_thumos14_npy.py']\n"
        "_data = dict(feature_source={{_base_.feature_source}})\n"
        "train_dataloader = dict(dataset=_data)\n"
        "val_dataloader = dict(dataset=_data)\n"
        "test_dataloader = dict(dataset=_data)\n")
    gt = str(layout.files['gt'])
    options = {**SMALL_GTAD, 'model.temporal_scale': 32, 'model.max_duration': 16,
               'model.class_fusion.score_file': str(layout.files['scores']),
               'model.class_fusion.ann_file': gt,
               **data_options(dict(feature_dir=str(layout.features), ann_file=gt,
                                   temporal_scale=32, window_stride=16), dict(ann_file=gt))}
    runner = run_one_epoch(str(config), options, tmp_path / 'work')
    assert runner.model.feat_dim == 2048
    # ActionFormer's subsets are 'Validation' / 'Test'; the configs ask 'validation' / 'test'
    assert {runner.train_dataloader.dataset.get_data_info(i)['video_id']
            for i in range(len(runner.train_dataloader.dataset))} <= {
        'video_validation_0000051', 'video_validation_0000052'}
    check_grid(runner.train_dataloader.dataset, layout, 'video_validation_0000052')
    check_dump(tmp_path / 'work' / 'detections.json', {'video_test_0000004': 12.0})


def _grounding_options(layout, train: str, test: str, extra: dict) -> dict:
    options = {**SMALL_TAN, 'model.vocabulary.ann_file': str(layout.files[train]),
               'val_evaluator.ann_file': str(layout.files[test]),
               'test_evaluator.ann_file': str(layout.files[test])}
    for loader in LOADERS:
        options[f'{loader}.dataset.data_root'] = str(layout.root)
        options.update({f'{loader}.dataset.{k}': v for k, v in extra.get(loader, {}).items()})
    return options


def _check_grounding_grid(runner, layout, video_id: str) -> None:
    from pal_eval.data.feature_sources import open_feature_store

    dataset = runner.train_dataloader.dataset
    store = open_feature_store(dataset.feature_dir, dataset.feature_source)
    info = next(dataset.get_data_info(i) for i in range(len(dataset))
                if dataset.get_data_info(i)['video_id'] == video_id)
    np.testing.assert_allclose(store.load(video_id, duration=info['duration']).centers,
                               layout.expected_centers[video_id], rtol=1e-12)


def test_tan2d_on_charades_vgg_hdf5(tmp_path):
    layout = layouts.tan2d_charades_vgg(tmp_path / 'data')
    options = _grounding_options(layout, 'train', 'test', {
        'train_dataloader': dict(ann_file='annotations/charades_sta_train.txt'),
        'val_dataloader': dict(ann_file='annotations/charades_sta_test.txt'),
        'test_dataloader': dict(ann_file='annotations/charades_sta_test.txt')})
    runner = run_one_epoch('grounding/tan2d_vgg_1xb32-16x16-k5l8-100e_charades-sta.py', options,
                           tmp_path / 'work')
    assert runner.model.feat_dim == 4096
    _check_grounding_grid(runner, layout, 'AO8RW')    # durations from Charades_v1_train.csv
    dumped = json.loads((tmp_path / 'work' / 'predictions.json').read_text())['results']
    assert set(dumped) == {'Z8X1B_0', 'Z8X1B_1'}
    for items in dumped.values():
        for item in items:
            assert 0 <= item['segment'][0] < item['segment'][1] <= 28.0 + 1e-9


def test_tan2d_on_activitynet_captions_c3d_hdf5(tmp_path):
    layout = layouts.tan2d_activitynet_c3d(tmp_path / 'data')
    options = _grounding_options(layout, 'train', 'val_2', {
        'train_dataloader': dict(ann_file='annotations/train.json'),
        'val_dataloader': dict(ann_file='annotations/val_1.json'),
        'test_dataloader': dict(ann_file='annotations/val_2.json')})
    runner = run_one_epoch('grounding/tan2d_c3d_1xb32-64x64-k9l4-100e_activitynet-captions.py',
                           options, tmp_path / 'work')
    assert runner.model.feat_dim == 500
    _check_grounding_grid(runner, layout, 'v_aaa')
    dumped = json.loads((tmp_path / 'work' / 'predictions.json').read_text())['results']
    assert set(dumped) == {'v_ddd_0', 'v_ddd_1'}


def test_an_explicit_feat_dim_that_differs_is_an_error_naming_both(tmp_path):
    """Issue 11 item 9: model.feat_dim given and wrong -> one line with both numbers."""
    from pal_eval.data.datasets.runner import resolve_data_settings
    from pal_eval.errors import InputError

    layout = layouts.tsp_h5(tmp_path / 'data')
    cfg = Config.fromfile(REPO / 'configs/proposal/bmn_tsp_1xb16-t100-9e_activitynet.py')
    cfg.merge_from_dict({**data_options(dict(feature_dir=str(layout.features))),
                         'model.feat_dim': 400})
    with pytest.raises(InputError, match=r"tsp, field 'feature_dim': model.feat_dim=400 but "
                                         r'the features have feature_dim 512'):
        resolve_data_settings(cfg)
    cfg.merge_from_dict({'model.feat_dim': 512})
    assert resolve_data_settings(cfg).model.feat_dim == 512


def test_feat_dim_auto_reads_the_folder_under_the_datasets_data_root(tmp_path):
    """A BMN config with ``data_root`` and a relative ``feature_dir``: 'auto' reads the
    folder the dataset will open (data_root joined), not one relative to the caller."""
    from pal_eval.data.datasets.runner import resolve_data_settings

    layout = layouts.tsp_h5(tmp_path / 'data')
    relative = layout.features.relative_to(tmp_path)
    cfg = Config.fromfile(REPO / 'configs/proposal/bmn_tsp_1xb16-t100-9e_activitynet.py')
    cfg.merge_from_dict(data_options(dict(feature_dir=str(relative), data_root=str(tmp_path))))
    assert resolve_data_settings(cfg).model.feat_dim == 512

# G-TAD, CPU-sized, on the synthetic benchmark (`pal-eval synth`), ActivityNet protocol:
# each video resampled to T = 32, narrow GCNeXt (32 channels, cardinality 4 x 4), SGAlign with
# 8 + 2 points. Detection fuses the top-2 classes of a logistic-regression video classifier
# trained on the training videos' features (no published class scores exist here).
# Layout: `pal-eval synth --out data/synthetic`, then
# `pal-eval extract ... --out data/synthetic/features/pal` (see docs/heads.md).
_base_ = ['../_base_/default_runtime.py']

data_root = 'data/synthetic/'
feature_dir = data_root + 'features/pal'
feat_dim = 512                          # feature_dim in <feature_dir>/meta.json
ann_file = data_root + 'annotations/activitynet.json'
temporal_scale = 32

model = dict(
    type='GTAD',
    feat_dim=feat_dim,
    temporal_scale=temporal_scale,
    max_duration=temporal_scale,
    hidden_dim_1d=32,
    hidden_dim_2d=16,
    hidden_dim_3d=32,
    k=3,
    groups=4,
    inner_points=8,
    context_points=2,
    soft_nms=dict(sigma=0.8, top_k=100),
    class_fusion=dict(ann_file=ann_file, feature_dir=feature_dir, subset='training',
                      top_k_classes=2))

dataset_type = 'ActivityNetFeatureDataset'
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file, feature_dir=feature_dir,
                 subset='training', temporal_scale=temporal_scale))
val_dataloader = dict(
    batch_size=4,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file, feature_dir=feature_dir,
                 subset='validation', temporal_scale=temporal_scale, test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(type='TemporalDetectionMetric', ann_file=ann_file, subset='validation')
test_evaluator = dict(val_evaluator, dump_path='work_dirs/gtad_synthetic_detections.json')

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(optimizer=dict(type='Adam', lr=4e-3, weight_decay=1e-4))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[15], gamma=0.1)]

default_hooks = dict(logger=dict(interval=5),
                     checkpoint=dict(save_best='average_mAP', rule='greater'))

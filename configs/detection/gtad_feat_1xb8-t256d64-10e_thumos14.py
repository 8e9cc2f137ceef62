# G-TAD (Xu et al., CVPR 2020) on THUMOS14 with the reference code's settings: sliding
# windows of 256 features (half overlap), anchors up to 64 positions, GCNeXt 256 channels,
# SGAlign 32 + 4 points, Adam lr 4e-5 / weight decay 1e-4, batch 8, 10 epochs with the lr
# divided by 10 after epoch 5; Gaussian Soft-NMS sigma 0.46, top 200 per video; detection
# by fusing the top-2 video-level classes (UntrimmedNet scores); mAP at tIoU 0.3:0.1:0.7.
# The reference features are 2048-d two-stream TSN (RGB + flow) sampled every 5 frames.
_base_ = ['../_base_/default_runtime.py']

data_root = 'data/thumos14/'
feature_dir = data_root + 'features/pal'
feat_dim = 2048                         # feature_dim in <feature_dir>/meta.json
ann_file = data_root + 'annotations/thumos14.json'
class_score_file = data_root + 'annotations/untrimmednet_test_scores.json'
temporal_scale = 256

model = dict(
    type='GTAD',
    feat_dim=feat_dim,
    temporal_scale=temporal_scale,
    max_duration=64,
    hidden_dim_1d=256,
    hidden_dim_2d=128,
    hidden_dim_3d=512,
    k=3,
    groups=32,
    width_per_group=4,
    inner_points=32,
    context_points=4,
    sampling_ratio=0,
    boundary_width=3.0,
    loss_weights=(1.0, 10.0, 1.0),
    soft_nms=dict(sigma=0.46, top_k=200),
    class_fusion=dict(score_file=class_score_file, ann_file=ann_file, top_k_classes=2))

dataset_type = 'ThumosFeatureDataset'
train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file, feature_dir=feature_dir,
                 subset='validation', temporal_scale=temporal_scale, window_stride=128))
val_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file, feature_dir=feature_dir,
                 subset='test', temporal_scale=temporal_scale, window_stride=128,
                 test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(type='TemporalDetectionMetric', ann_file=ann_file, subset='test',
                     tiou_thresholds=(0.3, 0.4, 0.5, 0.6, 0.7))
test_evaluator = dict(val_evaluator, dump_path='work_dirs/gtad_thumos14_detections.json')

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=10, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(optimizer=dict(type='Adam', lr=4e-5, weight_decay=1e-4))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[5], gamma=0.1)]

default_hooks = dict(checkpoint=dict(save_best='mAP@0.5', rule='greater'))
env_cfg = dict(dist_cfg=dict(backend='nccl'))

# G-TAD (Xu et al., CVPR 2020) on ActivityNet v1.3 with the paper's hyper-parameters:
# T = 100 (each video resampled), anchors up to 100 positions, GCNeXt 256 channels (k = 3,
# cardinality 32 x 4), SGAlign 16 + 16 points (the ActivityNet reference code), Adam
# lr 4e-3 / weight decay 1e-4, batch 16, 10 epochs with the lr divided by 10 after
# epoch 5; Gaussian Soft-NMS sigma 0.8, top 100,
# detection by fusing the top-2 video-level classes (CUHK scores, the comparable protocol).
# Features: any [T, C] feature folder (`pal-eval extract`; the classic TSN one is 400-d).
_base_ = ['../_base_/default_runtime.py', '../_base_/datasets/activitynet-features_t100.py']

model = dict(
    type='GTAD',
    feat_dim={{_base_.feat_dim}},
    temporal_scale={{_base_.temporal_scale}},
    max_duration=100,
    hidden_dim_1d=256,
    hidden_dim_2d=128,
    hidden_dim_3d=512,
    k=3,
    groups=32,
    width_per_group=4,
    inner_points=16,
    context_points=16,
    sampling_ratio=0,
    boundary_width=3.0,
    loss_weights=(1.0, 10.0, 1.0),
    soft_nms=dict(sigma=0.8, top_k=100),
    class_fusion=dict(score_file={{_base_.class_score_file}}, ann_file={{_base_.ann_file}},
                      top_k_classes=2))

val_evaluator = dict(type='TemporalDetectionMetric', ann_file={{_base_.ann_file}},
                     subset='validation')
test_evaluator = dict(val_evaluator, dump_path='work_dirs/gtad_activitynet_detections.json')

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=10, val_begin=1, val_interval=1)

optim_wrapper = dict(optimizer=dict(type='Adam', lr=4e-3, weight_decay=1e-4))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[5], gamma=0.1)]

default_hooks = dict(checkpoint=dict(save_best='average_mAP', rule='greater'))
env_cfg = dict(dist_cfg=dict(backend='nccl'))

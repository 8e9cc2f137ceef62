# BMN (Lin et al., ICCV 2019) on ActivityNet v1.3 proposals with the paper's
# hyper-parameters: every video resampled to T = 100, BM layer with 32 sample points
# (3 interpolations each, boundary ratio 0.5), Adam lr 1e-3 / weight decay 1e-4, batch 16,
# 9 epochs with the lr divided by 10 after epoch 7; Soft-NMS alpha 0.4 with the
# width-adaptive threshold 0.5..0.9, top 100. Validated in the loop with AR@AN / AUC.
# Features: any [T, C] feature folder (`pal-eval extract`; the classic TSN one is 400-d).
# Run: mim train mmaction2 configs/proposal/bmn_feat_1xb16-t100-9e_activitynet.py
_base_ = ['../_base_/default_runtime.py', '../_base_/datasets/activitynet-features_t100.py']

model = dict(
    type='BoundaryMatchingNetwork',
    feat_dim={{_base_.feat_dim}},
    temporal_scale={{_base_.temporal_scale}},
    num_samples=32,
    num_samples_per_bin=3,
    boundary_ratio=0.5,
    hidden_dim_1d=256,
    hidden_dim_2d=128,
    hidden_dim_3d=512,
    soft_nms_alpha=0.4,
    soft_nms_low_threshold=0.5,
    soft_nms_high_threshold=0.9,
    post_process_top_k=100)

val_evaluator = dict(type='ProposalRecallMetric', ann_file={{_base_.ann_file}}, subset='validation')
test_evaluator = dict(val_evaluator, dump_path='work_dirs/bmn_activitynet_proposals.json')

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=9, val_begin=1, val_interval=1)

optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3, weight_decay=1e-4))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[7], gamma=0.1)]

default_hooks = dict(checkpoint=dict(save_best='AUC', rule='greater'))
env_cfg = dict(dist_cfg=dict(backend='nccl'))

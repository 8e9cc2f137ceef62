# BMN, CPU-sized, on the synthetic benchmark (`pal-eval synth`), ActivityNet protocol:
# each video resampled to T = 64, 8 BM sample points, narrow layers (32/16/32 channels).
# Same losses and Soft-NMS as the paper config; AR@AN / AUC in the loop on `validation`
# (checkpoint selection), the test run on `testing` (reported).
# Schedule (measured, docs/calibration.md): 20 epochs x 25 iterations at Adam 3e-3, lr / 10
# after epoch 16, bring oracle features to AUC ~74 on `testing` (floor 38); the former
# 6 epochs (84 steps) never left the boundary loss's chance level.
# Layout: `pal-eval synth --out data/synthetic`, then
# `pal-eval extract ... --out data/synthetic/features/pal` (see docs/heads.md).
# Run: mim train mmaction2 configs/proposal/bmn_feat_1xb4-t64-20e_synthetic.py
_base_ = ['../_base_/default_runtime.py', '../_base_/models/bmn.py',
          '../_base_/datasets/synthetic-features_t64.py', '../_base_/schedules/adam_9e.py']

model = dict(temporal_scale={{_base_.temporal_scale}},
             num_samples=8, hidden_dim_1d=32, hidden_dim_2d=16, hidden_dim_3d=32,
             sampling_chunk=32)

val_evaluator = dict(type='ProposalRecallMetric', ann_file={{_base_.ann_file}}, subset='validation')
test_evaluator = dict(val_evaluator, subset='testing',
                      dump_path='proposals.json')
train_cfg = dict(max_epochs=20, val_begin=5, val_interval=5)
optim_wrapper = dict(optimizer=dict(lr=3e-3))
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[16], gamma=0.1)]
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(save_best='AUC', rule='greater'))

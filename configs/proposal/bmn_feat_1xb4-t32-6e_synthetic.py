# BMN, CPU-sized, on the synthetic benchmark (`pal-eval synth`), ActivityNet protocol:
# each video resampled to T = 32, 8 BM sample points, narrow layers (32/16/32 channels).
# Same losses, Soft-NMS and schedule shape as the paper config (6 epochs, lr / 10 after 4);
# AR@AN / AUC in the loop.
# Layout: `pal-eval synth --out data/synthetic`, then
# `pal-eval extract ... --out data/synthetic/features/pal` (see docs/heads.md).
# Run: mim train mmaction2 configs/proposal/bmn_feat_1xb4-t32-6e_synthetic.py
_base_ = ['../_base_/default_runtime.py', '../_base_/models/bmn.py',
          '../_base_/datasets/synthetic-features_t32.py', '../_base_/schedules/adam_9e.py']

model = dict(temporal_scale={{_base_.temporal_scale}},
             num_samples=8, hidden_dim_1d=32, hidden_dim_2d=16, hidden_dim_3d=32,
             sampling_chunk=32)

val_evaluator = dict(type='ProposalRecallMetric', ann_file={{_base_.ann_file}}, subset='validation')
test_evaluator = dict(val_evaluator, dump_path='proposals.json')
train_cfg = dict(max_epochs=6, val_interval=2)
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[4], gamma=0.1)]
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(save_best='AUC', rule='greater'))

# G-TAD, CPU-sized, on the synthetic benchmark (`pal-eval synth`), ActivityNet protocol:
# each video resampled to T = 32, narrow GCNeXt (32 channels, cardinality 4 x 4), SGAlign with
# 8 + 2 points, 20 epochs (lr / 10 after 15). Detection fuses the top-2 classes of a
# logistic-regression video classifier trained on the training videos' features (no
# published class scores exist here).
# Layout: `pal-eval synth --out data/synthetic`, then
# `pal-eval extract ... --out data/synthetic/features/pal` (see docs/heads.md).
_base_ = ['../_base_/default_runtime.py', '../_base_/models/gtad.py',
          '../_base_/datasets/synthetic-features_t32.py', '../_base_/schedules/adam_10e.py']

model = dict(
    temporal_scale={{_base_.temporal_scale}}, max_duration={{_base_.temporal_scale}},
    hidden_dim_1d=32, hidden_dim_2d=16, hidden_dim_3d=32, groups=4,
    inner_points=8, context_points=2,
    class_fusion=dict(type='FeatureVideoClassifier', ann_file={{_base_.ann_file}},
                      feature_dir={{_base_.feature_dir}}, subset='training',
                      top_k_classes=2))

val_evaluator = dict(type='TemporalDetectionMetric', ann_file={{_base_.ann_file}},
                     subset='validation')
test_evaluator = dict(val_evaluator, dump_path='detections.json')
train_cfg = dict(max_epochs=20, val_interval=5)
param_scheduler = [dict(type='MultiStepLR', by_epoch=True, milestones=[15], gamma=0.1)]
default_hooks = dict(logger=dict(interval=5),
                     checkpoint=dict(save_best='average_mAP', rule='greater'))

# 2D-TAN (pooling variant) on ActivityNet Captions from user-extracted clip features.
# Official settings (2D-TAN-64x64-K9L4-pool): 256 clips averaged by 4 -> 64 clips, sparse
# 64x64 map (all moments up to 16 clips, then strides 2 and 4), 4 map convolutions of
# kernel 9, the official whitespace tokenizer, NMS 0.5; the rest as
# _base_/models/tan2d.py and _base_/schedules/adam_100e.py, batch 32.
_base_ = ['../_base_/default_runtime.py', '../_base_/models/tan2d.py',
          '../_base_/datasets/activitynet-captions-features_64clips.py',
          '../_base_/schedules/adam_100e.py']

model = dict(num_clips={{_base_.num_clips}},
             clip_pool=4,   # 256 clips averaged by 4 -> 64
             diagonals_per_scale=[16, 8, 8], map_layers=4, map_kernel=9,
             tokenizer='whitespace', nms_thresh=0.5,
             vocabulary=dict(ann_file={{_base_.vocabulary_file}}))
test_evaluator = dict(dump_path='predictions.json')
# Validated every epoch on val_1 (2D-TAN evaluates every epoch); the best val_1 checkpoint
# is tested on val_2, never one picked on val_2. 2D-TAN steps ReduceLROnPlateau(0.8, 20)
# on the negated val_1 loss, not computed here: constant learning rate (docs/heads.md).
train_cfg = dict(val_interval=1)
default_hooks = dict(checkpoint=dict(save_best='R@1,IoU=0.5', rule='greater'))
env_cfg = dict(dist_cfg=dict(backend='nccl'))

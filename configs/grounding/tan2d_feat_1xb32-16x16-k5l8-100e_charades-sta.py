# 2D-TAN (pooling variant) on Charades-STA from user-extracted clip features, with the
# official settings (2D-TAN-16x16-K5L8-pool, in _base_/models/tan2d.py) and schedule
# (_base_/schedules/adam_100e.py), batch 32.
_base_ = ['../_base_/default_runtime.py', '../_base_/models/tan2d.py',
          '../_base_/datasets/charades-sta-features_16clips.py',
          '../_base_/schedules/adam_100e.py']

model = dict(num_clips={{_base_.num_clips}},
             vocabulary=dict(ann_file={{_base_.vocabulary_file}}))
test_evaluator = dict(dump_path='predictions.json')
# Charades-STA has no validation split (2D-TAN: NO_VAL): the loop evaluates the test split
# for monitoring only and the last epoch is tested (mim test ... epoch_100.pth). 2D-TAN's
# released checkpoint is the best test epoch (iter004257 = epoch 11); to pick like that:
# --cfg-options default_hooks.checkpoint.save_best='R@1,IoU=0.5' train_cfg.val_interval=1
# (optimistic: see docs/heads.md).
default_hooks = dict(checkpoint=dict(save_best=None))
env_cfg = dict(dist_cfg=dict(backend='nccl'))

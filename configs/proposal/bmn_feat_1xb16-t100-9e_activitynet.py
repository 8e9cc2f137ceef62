# BMN (Lin et al., ICCV 2019) on ActivityNet v1.3 proposals with the paper's
# hyper-parameters (_base_/models/bmn.py) and schedule (_base_/schedules/adam_9e.py):
# every video resampled to T = 100, batch 16. Validated in the loop with AR@AN / AUC.
# Features: any [T, C] feature folder (`pal-eval extract`; the classic TSN one is 400-d).
# Run: mim train mmaction2 configs/proposal/bmn_feat_1xb16-t100-9e_activitynet.py
_base_ = ['../_base_/default_runtime.py', '../_base_/models/bmn.py',
          '../_base_/datasets/activitynet-features_t100.py', '../_base_/schedules/adam_9e.py']

model = dict(temporal_scale={{_base_.temporal_scale}})
# mmaction2 bmn_2xb8-400x100-9e_activitynet-feature.py: clip_grad max_norm 40.
optim_wrapper = dict(clip_grad=dict(max_norm=40, norm_type=2))

val_evaluator = dict(type='ProposalRecallMetric', ann_file={{_base_.ann_file}}, subset='validation')
test_evaluator = dict(val_evaluator, dump_path='proposals.json')
default_hooks = dict(checkpoint=dict(save_best='AUC', rule='greater'))
env_cfg = dict(dist_cfg=dict(backend='nccl'))

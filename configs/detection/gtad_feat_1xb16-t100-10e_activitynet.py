# G-TAD (Xu et al., CVPR 2020) on ActivityNet v1.3 with the reference code's settings
# (frostinassiky/gtad `anet`: _base_/models/gtad.py) and schedule (_base_/schedules/
# adam_10e.py: gtad_anet.sh's lr 4e-3): T = 100 (each video resampled), batch 16;
# detection by fusing the top-2 video-level classes of the CUHK scores (the comparable
# protocol; anet:gtad_postprocess.py: 100 proposals x 2 classes).
# Features: any [T, C] feature folder (`pal-eval extract`; the classic TSN one is 400-d).
_base_ = ['../_base_/default_runtime.py', '../_base_/models/gtad.py',
          '../_base_/datasets/activitynet-features_t100.py', '../_base_/schedules/adam_10e.py']

model = dict(
    temporal_scale={{_base_.temporal_scale}},
    class_fusion=dict(type='ScoreFileClassifier', score_file={{_base_.class_score_file}},
                      ann_file={{_base_.ann_file}}, top_k_classes=2))

val_evaluator = dict(type='TemporalDetectionMetric', ann_file={{_base_.ann_file}},
                     subset='validation')
test_evaluator = dict(val_evaluator, dump_path='detections.json')
# No gradient clipping: anet:gtad_train.py has clip_grad_norm_ commented out.
# Checkpoint: best average mAP on `validation`. The reference keeps the epoch of lowest
# loss on `validation` (anet:gtad_train.py::test); both pick on the split that is then
# evaluated (ActivityNet's test labels are withheld). save_best=None tests the last epoch.
default_hooks = dict(checkpoint=dict(save_best='average_mAP', rule='greater'))
env_cfg = dict(dist_cfg=dict(backend='nccl'))

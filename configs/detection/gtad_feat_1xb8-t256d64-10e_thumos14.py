# G-TAD (Xu et al., CVPR 2020) on THUMOS14 with the reference code's settings: sliding
# windows of 256 features (half overlap), anchors up to 64 positions, SGAlign 32 + 4
# points, Adam lr 4e-5, batch 8, 10 epochs (lr / 10 after 5); Gaussian Soft-NMS sigma
# 0.46, top 200 per video; detection by fusing the top-2 video-level classes
# (UntrimmedNet scores); mAP at tIoU 0.3:0.1:0.7.
# The reference features are 2048-d two-stream TSN (RGB + flow) sampled every 5 frames.
_base_ = ['../_base_/default_runtime.py', '../_base_/models/gtad.py',
          '../_base_/datasets/thumos14-features_t256.py', '../_base_/schedules/adam_10e.py']

model = dict(
    temporal_scale={{_base_.temporal_scale}}, max_duration=64,
    inner_points=32, context_points=4, soft_nms=dict(sigma=0.46, top_k=200),
    class_fusion=dict(type='ScoreFileClassifier', score_file={{_base_.class_score_file}},
                      ann_file={{_base_.ann_file}}, top_k_classes=2))

val_evaluator = dict(type='TemporalDetectionMetric', ann_file={{_base_.ann_file}},
                     subset='test', tiou_thresholds=(0.3, 0.4, 0.5, 0.6, 0.7))
test_evaluator = dict(val_evaluator, dump_path='detections.json')
optim_wrapper = dict(optimizer=dict(lr=4e-5))
default_hooks = dict(checkpoint=dict(save_best='mAP@0.5', rule='greater'))
env_cfg = dict(dist_cfg=dict(backend='nccl'))

# G-TAD (Xu et al., CVPR 2020) on THUMOS14 with the settings of the reference code's
# THUMOS14 branch (frostinassiky/gtad `master`; docs/heads.md lists each with its source):
# windows of 256 features (stride 128; _base_/datasets/thumos14-features_t256.py),
# anchors up to 64 positions, SGAlign 16 + 16 points, 3x3 2-D head, loss
# tem + reg + 10 cls with pseudo-counts, gradients clipped at 1, Adam lr 4e-5, batch 8,
# 10 epochs (lr / 10 after 5), the last epoch tested; per-window Soft-NMS (sigma 0.46,
# top 200, >= 300 frames dropped), windows merged class-agnostically, top-2 UntrimmedNet
# classes fused after the merge (400 detections per video), 0.1 s rounding;
# mAP at tIoU 0.3:0.1:0.7.
# The reference features are 2048-d two-stream TSN (RGB + flow) every 5 frames.
_base_ = ['../_base_/default_runtime.py', '../_base_/models/gtad.py',
          '../_base_/datasets/thumos14-features_t256.py', '../_base_/schedules/adam_10e.py']

model = dict(
    temporal_scale={{_base_.temporal_scale}}, max_duration=64,
    inner_points=16, context_points=16,       # master:gtad_lib/models.py::GraphAlign
    kernel_2d=3,                              # master:gtad_lib/opts.py kern_2d=3, pad_2d=1
    # master:gtad_lib/dataset.py::_get_train_label: frame anchors 5 (w + j) -/+ 2.5
    # (centred), IoU targets normalised by offset int(5 w - 2.5) (0.6 snippet later).
    boundary_anchors='centred', iou_target_shift='gtad_thumos14',
    # master:gtad_lib/loss_function.py + gtad_train.py: subgraph_loss_func(lambda1=10) +
    # node_loss_func = tem + reg + 10 cls; cls balance with +10 pseudo-counts.
    loss=dict(pseudo_count=10), loss_weights=(1.0, 1.0, 10.0),
    # master:gtad_inference.py: every anchor with s + d + 1 < 256;
    # master:gtad_postprocess.py::Soft_NMS: sigma 0.46, top 200, 300 frames = 60 snippets.
    candidates='all',
    soft_nms=dict(sigma=0.46, top_k=200, max_length=60),
    class_fusion=dict(type='ScoreFileClassifier', score_file={{_base_.class_score_file}},
                      ann_file={{_base_.ann_file}}, top_k_classes=2,
                      after_window_merge=True))

# master:gtad_postprocess.py::_gen_detection_video: the windows' proposals concatenated,
# Soft_NMS again (class-agnostic), the best 200 x the top-2 classes, round(score, 6),
# round(seconds, 1).
_window_merge = dict(sigma=0.46, top_k=200, keep_last=False, stop_at_zero=True,
                     round_seconds=1, round_scores=6)
val_evaluator = dict(type='TemporalDetectionMetric', ann_file={{_base_.ann_file}},
                     subset='test', tiou_thresholds=(0.3, 0.4, 0.5, 0.6, 0.7),
                     window_merge=_window_merge)
test_evaluator = dict(val_evaluator, dump_path='detections.json')
# master:gtad_train.py::train: clip_grad_norm_(model.parameters(), 1).
optim_wrapper = dict(optimizer=dict(lr=4e-5), clip_grad=dict(max_norm=1.0, norm_type=2))
# The validation loop runs on the test split (G-TAD logs its test loss every epoch), for
# the log only: no checkpoint is selected on it. master:gtad_train.py::test resets
# best_loss every epoch, so GTAD_best is the last epoch: test epoch_10.pth.
default_hooks = dict(checkpoint=dict(save_best=None))
env_cfg = dict(dist_cfg=dict(backend='nccl'))
del _window_merge

# G-TAD (Xu et al., CVPR 2020; heads/gtad.py) with the settings of the reference code's
# ActivityNet branch (frostinassiky/gtad `anet`; docs/heads.md "G-TAD and BMN: official vs
# ours" lists each with its source file). Detection fuses each video's top-2 classes
# (class_fusion, which the leaf config sets: a published score file, or the built-in
# classifier). configs/detection/gtad_*_thumos14.py sets the THUMOS14 branch's (`master`).
model = dict(
    type='GTAD',
    feat_dim='auto',                          # C: read from the features (FeatureAwareRunner)
    temporal_scale=100, max_duration=100,     # anchors up to 100 positions
    hidden_dim_1d=256, hidden_dim_2d=128, hidden_dim_3d=512,
    k=3, groups=32, width_per_group=4,        # GCNeXt: 3 semantic neighbours, 32 x 4
    # SGAlign: 32 inner + 4 context points (anet:gtad_lib/models.py::GraphAlign), adaptive
    # Align1D; anchors past the window read the dummy region [0, 0] (_get_anchors).
    inner_points=32, context_points=4, sampling_ratio=0, invalid_anchors='dummy_roi',
    kernel_2d=1,                              # anet:gtad_lib/opts.py kern_2d=1, pad_2d=0
    # Labels (anet:gtad_lib/dataset.py): 3-position boundary regions, anchors
    # [(i - .5) / T, (i + 1.5) / T].
    boundary_width=3.0, boundary_anchors='bmn',
    # anet:gtad_lib/loss_function.py::gtad_loss_func: tem + 10 reg + cls, balance ratio
    # unclamped, eps 1e-6, no pseudo-counts.
    loss=dict(type='GTADLoss', pseudo_count=0, ratio_clamp=None, eps=1e-6),
    loss_weights=(1.0, 10.0, 1.0),
    # anet:gtad_inference.py: BMN's start/end peak pairs, scored cls x reg;
    # anet:gtad_postprocess.py::Soft_NMS: sigma 0.8 (opts nms_thr), top 100, its loop.
    candidates='peaks',
    soft_nms=dict(sigma=0.8, top_k=100, keep_last=False, stop_at_zero=True))

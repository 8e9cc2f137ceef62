# BMN (Lin et al., ICCV 2019; heads/bmn.py) with the paper's hyper-parameters, as
# mmaction2's BMN (configs/localization/bmn/bmn_2xb8-400x100-9e_activitynet-feature.py,
# mmaction/models/localizers/bmn.py), whose checkpoints load (heads.bmn.load_mmaction_bmn).
model = dict(
    type='BoundaryMatchingNetwork',
    feat_dim='auto',               # C: read from the features (FeatureAwareRunner)
    temporal_scale=100,            # inputs [C, T]: T = 100 positions
    # BM layer: 32 sample points of 3 interpolations each, over candidates widened by
    # half their length on each side; then widths 256 / 128 / 512.
    num_samples=32, num_samples_per_bin=3, boundary_ratio=0.5,
    hidden_dim_1d=256, hidden_dim_2d=128, hidden_dim_3d=512,
    # Soft-NMS alpha 0.4 with the width-adaptive threshold 0.5..0.9, top 100 proposals.
    soft_nms_alpha=0.4, soft_nms_low_threshold=0.5, soft_nms_high_threshold=0.9,
    post_process_top_k=100,
    # Start/end label anchors [(i - .5) / T, (i + 1.5) / T] (BMN._temporal_anchors(-0.5,
    # 1.5)); 'centred' is JJBOY's (i + .5) / T.
    boundary_anchors='bmn')

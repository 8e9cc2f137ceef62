# G-TAD (Xu et al., CVPR 2020; heads/gtad.py) with the ActivityNet reference code's
# hyper-parameters. Detection fuses each video's top-2 classes (class_fusion, which the
# leaf config sets: a published score file, or the built-in classifier).
model = dict(
    type='GTAD',
    feat_dim='auto',                          # C: read from the features (FeatureAwareRunner)
    temporal_scale=100, max_duration=100,     # anchors up to 100 positions
    hidden_dim_1d=256, hidden_dim_2d=128, hidden_dim_3d=512,
    k=3, groups=32, width_per_group=4,        # GCNeXt: 3 semantic neighbours, 32 x 4
    inner_points=16, context_points=16, sampling_ratio=0,  # SGAlign (adaptive Align1D)
    boundary_width=3.0, loss_weights=(1.0, 10.0, 1.0),     # BMN's labels and loss
    soft_nms=dict(sigma=0.8, top_k=100))

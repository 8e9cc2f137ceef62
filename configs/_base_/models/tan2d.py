# 2D-TAN, pooling variant (Zhang et al., AAAI 2020; heads/tan2d.py), with the
# 2D-TAN-16x16-K5L8-pool hyper-parameters.
model = dict(
    type='TAN2D',
    feat_dim=512,
    num_clips=16, diagonals_per_scale=[16],   # dense 16 x 16 map: every moment
    hidden_dim=512, map_layers=8, map_kernel=5,
    vocabulary=dict(ann_file=None),  # the training annotations' words (set by the leaf)
    # A 3-layer LSTM over 300-d word vectors, e.g. word_vectors='data/glove.840B.300d.txt'
    # (given by path, never downloaded).
    word_dim=300, word_vectors=None, lstm_layers=3, lstm_hidden=512,
    min_iou=0.5, max_iou=1.0,                 # scaled-IoU targets
    nms_thresh=0.5, max_predictions=10)

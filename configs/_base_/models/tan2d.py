# 2D-TAN, pooling variant (Zhang et al., AAAI 2020; heads/tan2d.py), with the official
# 2D-TAN-16x16-K5L8-pool settings (microsoft/2D-TAN experiments/charades/*-pool.yaml and
# the code it runs; docs/heads.md "2D-TAN: official vs ours" lists each with its source):
# 256 L2-normalised clips in (see the dataset bases), Conv1d + ReLU, averaged by 16 ->
# 16 clips; dense 16x16 max-pooled map; 8 map convolutions of kernel 5, padding 16 then
# 0, each normalised by the valid cells under its kernel; hidden 512; a 3-layer LSTM over
# frozen GloVe 6B-300d vectors; scaled IoU targets in [0.5, 1.0]; NMS 0.45.
# 2D-TAN's word vectors (torchtext glove.6B.300d), given by path, never downloaded; a
# missing file is an error. word_vectors=None learns embeddings from scratch instead.
word_vectors = 'data/glove/glove.6B.300d.txt'
model = dict(
    type='TAN2D',
    feat_dim='auto',              # C: read from the features (FeatureAwareRunner)
    num_clips=16, clip_pool=16,   # 256 clips in: FrameAvgPool kernel = stride = 16
    diagonals_per_scale=[16],                 # dense 16 x 16 map: every moment
    hidden_dim=512, map_layers=8, map_kernel=5,
    map_padding=16,                           # PADDINGS [16, 0, 0, 0, 0, 0, 0, 0]
    vocabulary=dict(ann_file=None),  # the training annotations' words (set by the leaf)
    word_dim=300, word_vectors=word_vectors, freeze_word_vectors=True,
    tokenizer='whitespace_drop_final_period',  # the official Charades loader's words
    lstm_layers=3, lstm_hidden=512,
    min_iou=0.5, max_iou=1.0,                 # scaled-IoU targets
    nms_thresh=0.45, max_predictions=10,
    time_precision='float64')  # 'float32': 2D-TAN's times (set the evaluators' too)

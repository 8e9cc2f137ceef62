# 2D-TAN (pooling variant) on Charades-STA from user-extracted clip features.
# Official settings (microsoft/2D-TAN experiments/charades/2D-TAN-16x16-K5L8-pool.yaml and
# the code it runs; docs/heads.md "2D-TAN: official vs ours" lists each with its source):
# features L2-normalised, averaged to 256 clips, Conv1d + ReLU, averaged by 16 -> 16 clips;
# dense 16x16 max-pooled map; 8 map convolutions of kernel 5, padding 16 then 0, each
# normalised by the valid cells under its kernel; hidden 512; 3-layer LSTM over frozen
# GloVe 6B-300d vectors; scaled IoU in [0.5, 1.0]; Adam lr 1e-4, batch 32, 100 epochs,
# gradient norm clipped at 10; NMS 0.45; R@{1,5}, IoU={0.5,0.7} and mIoU.
_base_ = ['../_base_/default_runtime.py']

data_root = 'data/charades_sta/'
feature_dir = 'features/pal'       # written by `pal-eval extract ... --out <data_root>/features/pal`
feat_dim = 512                     # feature_dim in <feature_dir>/meta.json
train_ann = 'annotations/charades_sta_train.txt'
test_ann = 'annotations/charades_sta_test.txt'
num_clips = 16                     # N of the 2D map
num_sample_clips = 256             # clips the dataset delivers (2D-TAN NUM_SAMPLE_CLIPS)
# 2D-TAN's word vectors (torchtext glove.6B.300d), given by path, never downloaded; a
# missing file is an error. word_vectors=None learns embeddings from scratch instead.
word_vectors = 'data/glove/glove.6B.300d.txt'
# Video durations come from the feature folder (each video's sidecar records it); to check
# the annotations against Charades_v1_{train,test}.csv instead, add
# durations_file='annotations/Charades_v1_train.csv' (resp. _test) to the datasets.

model = dict(
    type='TAN2D',
    feat_dim=feat_dim,
    num_clips=num_clips,
    clip_pool=num_sample_clips // num_clips,  # FrameAvgPool kernel = stride = 16
    diagonals_per_scale=[16],      # dense map: every moment of the 16 clips
    hidden_dim=512,
    map_layers=8,
    map_kernel=5,
    map_padding=16,                # PADDINGS [16, 0, 0, 0, 0, 0, 0, 0]
    vocabulary=dict(ann_file=data_root + train_ann),  # learned embeddings only
    word_dim=300,
    word_vectors=word_vectors,
    freeze_word_vectors=True,
    tokenizer='whitespace_drop_final_period',  # the official Charades loader's words
    lstm_layers=3,
    lstm_hidden=512,
    min_iou=0.5,
    max_iou=1.0,
    nms_thresh=0.45,
    max_predictions=10,
    time_precision='float64')      # 'float32': 2D-TAN's times (set the evaluators' too)

train_pipeline = [dict(type='LoadGroundingClips', num_clips=num_sample_clips,
                       l2_normalize=True),
                  dict(type='PackGroundingInputs')]
test_pipeline = train_pipeline

train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='GroundingFeatureDataset', data_root=data_root, ann_file=train_ann,
                 feature_dir=feature_dir, pipeline=train_pipeline))
# Charades-STA has no validation split (2D-TAN: NO_VAL): the loop evaluates the test
# split for monitoring only, and no checkpoint is selected on it (save_best=None below).
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='GroundingFeatureDataset', data_root=data_root, ann_file=test_ann,
                 feature_dir=feature_dir, pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(type='GroundingRecallMetric', ann_file=data_root + test_ann,
                     recalls=(1, 5), ious=(0.5, 0.7), nms_thresh=0.45,
                     time_precision='float64')
test_evaluator = dict(val_evaluator, dump_path='work_dirs/tan2d_charades-sta_predictions.json')

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4, weight_decay=0.0),
                     clip_grad=dict(max_norm=10, norm_type=2))  # train.py clip_grad_norm_(10)
param_scheduler = []               # constant learning rate (NO_VAL: no plateau schedule)

# The last epoch is tested (mim test ... epoch_100.pth). 2D-TAN evaluated the test split
# every epoch and its released checkpoint is the best one (iter004257 = epoch 11); to
# pick like that: --cfg-options default_hooks.checkpoint.save_best='R@1,IoU=0.5'
# train_cfg.val_interval=1 (optimistic: see docs/heads.md).
default_hooks = dict(checkpoint=dict(save_best=None))
env_cfg = dict(dist_cfg=dict(backend='nccl'))

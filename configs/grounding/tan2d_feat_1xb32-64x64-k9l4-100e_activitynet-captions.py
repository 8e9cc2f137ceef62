# 2D-TAN (pooling variant) on ActivityNet Captions from user-extracted clip features.
# Official settings (microsoft/2D-TAN experiments/activitynet/2D-TAN-64x64-K9L4-pool.yaml
# and the code it runs; docs/heads.md "2D-TAN: official vs ours" lists each with its
# source): features L2-normalised, averaged to 256 clips, Conv1d + ReLU, averaged by 4 ->
# 64 clips; sparse 64x64 max-pooled map (all moments up to 16 clips, then strides 2 and
# 4); 4 map convolutions of kernel 9, padding 16 then 0, each normalised by the valid
# cells under its kernel; hidden 512; 3-layer LSTM over frozen GloVe 6B-300d vectors;
# scaled IoU in [0.5, 1.0]; Adam lr 1e-4, batch 32, 100 epochs, gradient norm clipped at
# 10; NMS 0.5. Splits as in 2D-TAN: train, val_1 (val), val_2 (test).
# Evaluated with R@{1,5}, IoU={0.3,0.5,0.7} and mIoU.
_base_ = ['../_base_/default_runtime.py']

data_root = 'data/activitynet_captions/'
feature_dir = 'features/pal'       # written by `pal-eval extract ... --out <data_root>/features/pal`
feat_dim = 512                     # feature_dim in <feature_dir>/meta.json
train_ann = 'annotations/train.json'
val_ann = 'annotations/val_1.json'
test_ann = 'annotations/val_2.json'
num_clips = 64                     # N of the 2D map
num_sample_clips = 256             # clips the dataset delivers (2D-TAN NUM_SAMPLE_CLIPS)
# 2D-TAN's word vectors (torchtext glove.6B.300d), given by path, never downloaded; a
# missing file is an error. word_vectors=None learns embeddings from scratch instead.
word_vectors = 'data/glove/glove.6B.300d.txt'

model = dict(
    type='TAN2D',
    feat_dim=feat_dim,
    num_clips=num_clips,
    clip_pool=num_sample_clips // num_clips,  # FrameAvgPool kernel = stride = 4
    diagonals_per_scale=[16, 8, 8],  # the paper's sparse sampling for N = 64
    hidden_dim=512,
    map_layers=4,
    map_kernel=9,
    map_padding=16,                # PADDINGS [16, 0, 0, 0]
    vocabulary=dict(ann_file=data_root + train_ann),  # learned embeddings only
    word_dim=300,
    word_vectors=word_vectors,
    freeze_word_vectors=True,
    tokenizer='whitespace',        # the official ActivityNet loader's words
    lstm_layers=3,
    lstm_hidden=512,
    min_iou=0.5,
    max_iou=1.0,
    nms_thresh=0.5,
    max_predictions=10,
    time_precision='float64')      # 'float32': 2D-TAN's times (set the evaluators' too)

train_pipeline = [dict(type='LoadGroundingClips', num_clips=num_sample_clips,
                       l2_normalize=True),
                  dict(type='PackGroundingInputs')]
test_pipeline = train_pipeline


def _loader(ann_file, shuffle, test_mode=False):
    return dict(
        batch_size=32,
        num_workers=4,
        persistent_workers=True,
        sampler=dict(type='DefaultSampler', shuffle=shuffle),
        dataset=dict(type='GroundingFeatureDataset', data_root=data_root, ann_file=ann_file,
                     feature_dir=feature_dir, pipeline=train_pipeline, test_mode=test_mode))


train_dataloader = _loader(train_ann, shuffle=True)
val_dataloader = _loader(val_ann, shuffle=False, test_mode=True)
test_dataloader = _loader(test_ann, shuffle=False, test_mode=True)
del _loader

val_evaluator = dict(type='GroundingRecallMetric', ann_file=data_root + val_ann,
                     recalls=(1, 5), ious=(0.3, 0.5, 0.7), nms_thresh=0.5,
                     time_precision='float64')
test_evaluator = dict(val_evaluator, ann_file=data_root + test_ann,
                      dump_path='work_dirs/tan2d_activitynet-captions_predictions.json')

# Validated every epoch on val_1 (2D-TAN evaluates every epoch); the best val_1 checkpoint
# is tested on val_2, never one picked on val_2.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4, weight_decay=0.0),
                     clip_grad=dict(max_norm=10, norm_type=2))  # train.py clip_grad_norm_(10)
# Constant learning rate. 2D-TAN steps ReduceLROnPlateau(factor 0.8, patience 20) on the
# *negated* val_1 loss, which needs the validation loss (not computed here): see
# docs/heads.md.
param_scheduler = []

default_hooks = dict(checkpoint=dict(save_best='R@1,IoU=0.5', rule='greater'))
env_cfg = dict(dist_cfg=dict(backend='nccl'))

# 2D-TAN (pooling variant) on ActivityNet Captions from user-extracted clip features.
# Paper hyper-parameters (2D-TAN-64x64-K9L4-pool): 64 clips, sparse 64x64 map (all
# moments up to 16 clips, then strides 2 and 4), 4 map convolutions of kernel 9,
# hidden 512, 3-layer LSTM over 300-d word vectors, scaled IoU in [0.5, 1.0],
# Adam lr 1e-4, batch 32, 100 epochs. Splits as in 2D-TAN: train, val_1 (val), val_2 (test).
# Evaluated with R@{1,5}, IoU={0.3,0.5,0.7} and mIoU.
_base_ = ['../_base_/default_runtime.py']

data_root = 'data/activitynet_captions/'
feature_dir = 'features/pal'       # written by `pal-eval extract ... --out <data_root>/features/pal`
feat_dim = 512                     # feature_dim in <feature_dir>/meta.json
train_ann = 'annotations/train.json'
val_ann = 'annotations/val_1.json'
test_ann = 'annotations/val_2.json'
num_clips = 64

model = dict(
    type='TAN2D',
    feat_dim=feat_dim,
    num_clips=num_clips,
    diagonals_per_scale=[16, 8, 8],  # the paper's sparse sampling for N = 64
    hidden_dim=512,
    map_layers=4,
    map_kernel=9,
    vocabulary=dict(ann_file=data_root + train_ann),
    word_dim=300,
    word_vectors=None,             # e.g. 'data/glove.840B.300d.txt' (given by path, never downloaded)
    lstm_layers=3,
    lstm_hidden=512,
    min_iou=0.5,
    max_iou=1.0,
    nms_thresh=0.5,
    max_predictions=10)

train_pipeline = [dict(type='LoadGroundingClips', num_clips=num_clips),
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
                     recalls=(1, 5), ious=(0.3, 0.5, 0.7), nms_thresh=0.5)
test_evaluator = dict(val_evaluator, ann_file=data_root + test_ann,
                      dump_path='work_dirs/tan2d_activitynet-captions_predictions.json')

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4, weight_decay=0.0),
                     clip_grad=None)
param_scheduler = []               # constant learning rate

default_hooks = dict(checkpoint=dict(save_best='R@1,IoU=0.5', rule='greater'))
env_cfg = dict(dist_cfg=dict(backend='nccl'))

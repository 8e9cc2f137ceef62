# 2D-TAN (pooling variant) on Charades-STA from user-extracted clip features.
# Paper hyper-parameters (Zhang et al., AAAI 2020; 2D-TAN-16x16-K5L8-pool): 16 clips,
# dense 16x16 map, 8 map convolutions of kernel 5, hidden 512, 3-layer LSTM over 300-d
# word vectors, scaled IoU in [0.5, 1.0], Adam lr 1e-4, batch 32, 100 epochs.
# Evaluated with R@{1,5}, IoU={0.5,0.7} and mIoU (2D-TAN protocol: NMS 0.5 first).
_base_ = ['../_base_/default_runtime.py']

data_root = 'data/charades_sta/'
feature_dir = 'features/pal'       # written by `pal-eval extract ... --out <data_root>/features/pal`
feat_dim = 512                     # feature_dim in <feature_dir>/meta.json
train_ann = 'annotations/charades_sta_train.txt'
test_ann = 'annotations/charades_sta_test.txt'
num_clips = 16
# Video durations come from the feature folder (each video's sidecar records it); to check
# the annotations against Charades_v1_{train,test}.csv instead, add
# durations_file='annotations/Charades_v1_train.csv' (resp. _test) to the datasets.

model = dict(
    type='TAN2D',
    feat_dim=feat_dim,
    num_clips=num_clips,
    diagonals_per_scale=[16],      # dense map: every moment of the 16 clips
    hidden_dim=512,
    map_layers=8,
    map_kernel=5,
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

train_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='GroundingFeatureDataset', data_root=data_root, ann_file=train_ann,
                 feature_dir=feature_dir, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='GroundingFeatureDataset', data_root=data_root, ann_file=test_ann,
                 feature_dir=feature_dir, pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(type='GroundingRecallMetric', ann_file=data_root + test_ann,
                     recalls=(1, 5), ious=(0.5, 0.7), nms_thresh=0.5)
test_evaluator = dict(val_evaluator, dump_path='work_dirs/tan2d_charades-sta_predictions.json')

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-4, weight_decay=0.0),
                     clip_grad=None)
param_scheduler = []               # constant learning rate

default_hooks = dict(checkpoint=dict(save_best='R@1,IoU=0.5', rule='greater'))
env_cfg = dict(dist_cfg=dict(backend='nccl'))

# Charades-STA queries over extracted clip features (`pal-eval extract ... --out
# <data_root>/features/pal`): each video's features L2-normalised and averaged to 256
# clips (the model pools them to its 16); evaluated with R@{1,5}, IoU={0.5,0.7} and
# mIoU (2D-TAN protocol: NMS 0.45 first).
data_root = 'data/charades_sta/'
feature_dir = 'features/pal'
train_ann = 'annotations/charades_sta_train.txt'
test_ann = 'annotations/charades_sta_test.txt'
vocabulary_file = data_root + train_ann  # the model's words
num_clips = 16                     # N of the 2D map (the model's)
num_sample_clips = 256             # clips each video is pooled to (2D-TAN NUM_SAMPLE_CLIPS)
# Video durations come from the feature folder (each video's sidecar records it); to check
# the annotations against Charades_v1_{train,test}.csv instead, add
# durations_file='annotations/Charades_v1_train.csv' (resp. _test) to the datasets.

train_pipeline = [dict(type='LoadGroundingClips', num_clips=num_sample_clips,
                       l2_normalize=True),
                  dict(type='PackGroundingInputs')]
test_pipeline = train_pipeline
_queries = dict(type='GroundingFeatureDataset', data_root=data_root, ann_file=train_ann,
                feature_dir=feature_dir, pipeline=train_pipeline)
train_dataloader = dict(batch_size=32, num_workers=4, persistent_workers=True,
                        sampler=dict(type='DefaultSampler', shuffle=True), dataset=_queries)
val_dataloader = dict(train_dataloader, sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(_queries, ann_file=test_ann, pipeline=test_pipeline,
                                   test_mode=True))
test_dataloader = val_dataloader
del _queries

val_evaluator = dict(type='GroundingRecallMetric', ann_file=data_root + test_ann,
                     recalls=(1, 5), ious=(0.5, 0.7), nms_thresh=0.45,
                     time_precision='float64')
test_evaluator = val_evaluator
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

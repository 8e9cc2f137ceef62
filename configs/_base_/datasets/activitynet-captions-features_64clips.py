# ActivityNet Captions queries over extracted clip features, each video pooled to 64
# clips. Splits as in 2D-TAN: train, val_1 (val), val_2 (test). Evaluated with R@{1,5},
# IoU={0.3,0.5,0.7} and mIoU.
_base_ = ['./charades-sta-features_16clips.py']

num_clips = 64                     # N of the 2D map (the model's)
num_sample_clips = 256             # clips each video is pooled to (2D-TAN NUM_SAMPLE_CLIPS)
train_pipeline = [dict(type='LoadGroundingClips', num_clips=num_sample_clips,
                       l2_normalize=True),
                  dict(type='PackGroundingInputs')]
test_pipeline = train_pipeline

data_root = 'data/activitynet_captions/'
train_ann, val_ann, test_ann = 'annotations/train.json', 'annotations/val_1.json', \
    'annotations/val_2.json'
vocabulary_file = data_root + train_ann  # the model's words
train_dataloader = dict(dataset=dict(data_root=data_root, ann_file=train_ann,
                                     pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root, ann_file=val_ann,
                                   pipeline=test_pipeline))
test_dataloader = dict(dataset=dict(data_root=data_root, ann_file=test_ann,
                                    pipeline=test_pipeline))

val_evaluator = dict(ann_file=data_root + val_ann, ious=(0.3, 0.5, 0.7), nms_thresh=0.5)
test_evaluator = dict(ann_file=data_root + test_ann, ious=(0.3, 0.5, 0.7), nms_thresh=0.5)

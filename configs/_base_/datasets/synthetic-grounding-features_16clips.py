# The synthetic benchmark's grounding splits (`pal-eval synth --out data/synthetic`;
# sentences name the colour, shape and motion of the object) over its extracted features
# (`pal-eval extract ... --out data/synthetic/features/pal`), 16 clips, sized for a
# 2-core CPU (batch 8, no loader workers). Train on `train`, select the checkpoint on
# `val`, report on `test`. R@{1,5}, IoU={0.3,0.5,0.7}, mIoU.
_base_ = ['./charades-sta-features_16clips.py']

data_root = 'data/synthetic/'
train_ann = 'annotations/grounding_train.json'
val_ann = 'annotations/grounding_val.json'
test_ann = 'annotations/grounding_test.json'
vocabulary_file = data_root + train_ann  # the model's words
num_sample_clips = 16              # pooled straight to the map's 16 clips, not normalised
train_pipeline = [dict(type='LoadGroundingClips', num_clips=num_sample_clips),
                  dict(type='PackGroundingInputs')]
test_pipeline = train_pipeline

_loader = dict(batch_size=8, num_workers=0, persistent_workers=False)
train_dataloader = dict(_loader, dataset=dict(data_root=data_root, ann_file=train_ann,
                                              pipeline=train_pipeline))
val_dataloader = dict(_loader, dataset=dict(data_root=data_root, ann_file=val_ann,
                                            pipeline=test_pipeline))
test_dataloader = dict(_loader, dataset=dict(data_root=data_root, ann_file=test_ann,
                                             pipeline=test_pipeline))
del _loader

val_evaluator = dict(ann_file=data_root + val_ann, ious=(0.3, 0.5, 0.7), nms_thresh=0.5)
test_evaluator = dict(val_evaluator, ann_file=data_root + test_ann)

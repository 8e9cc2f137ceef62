# ActivityNet v1.3 as extracted features (`pal-eval extract`), each video resampled to
# T = 100 (BMN / G-TAD convention). Shared by configs/proposal and configs/detection.
data_root = 'data/activitynet/'
feature_dir = data_root + 'features/pal'
ann_file = data_root + 'annotations/activity_net.v1-3.min.json'
class_score_file = data_root + 'annotations/cuhk_val_simp_share.json'  # video-level scores
temporal_scale = 100

_train = dict(type='ActivityNetFeatureDataset', ann_file=ann_file, feature_dir=feature_dir,
              subset='training', temporal_scale=temporal_scale)
train_dataloader = dict(batch_size=16, num_workers=8, persistent_workers=True,
                        sampler=dict(type='DefaultSampler', shuffle=True), dataset=_train)
val_dataloader = dict(train_dataloader, sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(_train, subset='validation', test_mode=True))
test_dataloader = val_dataloader
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
del _train

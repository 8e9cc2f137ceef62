# The synthetic benchmark (`pal-eval synth --out data/synthetic`) as extracted features
# (`pal-eval extract ... --out data/synthetic/features/pal`), each video resampled to
# T = 32, sized for a 2-core CPU (no loader workers): the ActivityNet protocol on other
# files. Shared by the synthetic BMN and G-TAD configs.
_base_ = ['./activitynet-features_t100.py']

data_root = 'data/synthetic/'
feature_dir = data_root + 'features/pal'
ann_file = data_root + 'annotations/activitynet.json'
class_score_file = None                 # none published: G-TAD uses the built-in classifier
temporal_scale = 32

_loader = dict(batch_size=4, num_workers=0, persistent_workers=False,
               dataset=dict(ann_file=ann_file, feature_dir=feature_dir,
                            temporal_scale=temporal_scale))
train_dataloader = _loader
val_dataloader = _loader
test_dataloader = _loader
del _loader

# TAC (supervised trimmed action classification), PAL's supervised baseline, full scale:
# the PAL encoder (PALBackbone R(2+1)D-18, width 64) trained as an mmaction2 Recognizer3D
# on Kinetics-400 labels, with PAL's clip (4 frames, 112 px) so FLOPs/clip match PAL's.
# Kinetics-400 in mmaction2's video layout (data/kinetics400/videos_{train,val}, list files
# "<path> <label>"). The checkpoint goes straight into `pal-eval extract --checkpoint`.
#   mim train mmaction2 configs/recognition/tac_r2plus1d-18_8xb32-4x1x1-100e_k400.py \
#       --gpus 8 --launcher pytorch
_base_ = ['../_base_/default_runtime.py']

pretext = 'tac'
data_root = 'data/kinetics400'
clip_len = 4
frame_interval = 1
input_size = 112
batch_size = 32  # per GPU, 8 GPUs
max_epochs = 100

model = dict(
    type='Recognizer3D',
    backbone=dict(type='PALBackbone', arch='r2plus1d_18', base_channels=64),
    cls_head=dict(type='I3DHead', num_classes=400, in_channels=512, spatial_type='avg',
                  dropout_ratio=0.5, average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCTHW'))

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(input_size, input_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1,
         test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 128)),
    dict(type='CenterCrop', crop_size=input_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')]
test_pipeline = val_pipeline

train_dataloader = dict(
    batch_size=batch_size, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='VideoDataset', data_root=data_root,
                 ann_file='kinetics400_train_list_videos.txt',
                 data_prefix=dict(video='videos_train'), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=batch_size, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='VideoDataset', data_root=data_root,
                 ann_file='kinetics400_val_list_videos.txt',
                 data_prefix=dict(video='videos_val'), pipeline=val_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# SGD with linear warm-up then cosine (a standard Kinetics schedule; not tuned here).
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4),
                     clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=True, begin=0, end=5,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 5, eta_min=0, by_epoch=True, begin=5,
         end=max_epochs, convert_to_iter_based=True)]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=5, max_keep_ckpts=3))
env_cfg = dict(dist_cfg=dict(backend='nccl'))
auto_scale_lr = dict(enable=False, base_batch_size=256)

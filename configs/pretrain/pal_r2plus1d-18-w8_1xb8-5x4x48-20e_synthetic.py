# PAL on the synthetic benchmark's unlabeled split, sized for a 2-core CPU (the demo).
# R(2+1)D-18 at width 8; J = 5 clips of 4 frames taken every 2nd frame (a clip spans
# 7 frames, ~0.8 s at 8-10 fps: the classes' motion) at 48x48 px.
#   pal-eval synth --preset small --out data/synth
#   mim train mmaction2 configs/pretrain/pal_r2plus1d-18-w8_1xb8-5x4x48-20e_synthetic.py \
#       --work-dir work_dirs/pal_cpu \
#       --cfg-options train_dataloader.dataset.data_root=data/synth
# Choices measured on the 2-core CPU dev machine: docs/pretraining.md.
_base_ = ['../_base_/default_runtime.py', '../_base_/models/pal.py']

data_root = 'data/synth'  # folder written by `pal-eval synth`
clips_per_video = 5       # J
frames_per_clip = 4       # F
frame_interval = 2
input_size = 48
batch_size = 8
max_epochs = 20
warmup_iters = 30

model = dict(
    backbone=dict(base_channels=8),
    clips_per_video=clips_per_video,
    embed_dim=64,
    queue_size=128,        # <= the 200 unlabeled clips (checked by PretextMonitorHook)
    momentum=0.99)

train_dataloader = dict(
    batch_size=batch_size,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='UnlabeledVideoDataset',
        data_root=data_root,
        ann_file='unlabeled/list.txt',
        data_prefix=dict(video='unlabeled'),
        mode='pal',
        regions='two',
        clips_per_video=clips_per_video,
        frames_per_clip=frames_per_clip,
        frame_interval=frame_interval,
        input_size=input_size,
        decode_size=(56, 72),
        scale_range=(0.5, 2.0),
        # Light crop only. No flip: flipping one composite of a pair and not the other
        # would teach invariance to the direction of motion (move_left = flipped
        # move_right), half of the benchmark's classes. No colour jitter: with it (and
        # crop area 0.2-1) nothing was learned within 1000 iterations (issue 14).
        pipeline=[dict(type='RandomResizedCrop', area_range=(0.8, 1.0))],
        decoder='pyav',
        cache_videos=True))

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
val_cfg = None
test_cfg = None

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05, betas=(0.9, 0.999)))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', by_epoch=False, begin=warmup_iters, eta_min=1e-5),
]

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(type='CheckpointHook', interval=5, save_best=None, max_keep_ckpts=1,
                    save_last=True))
auto_scale_lr = dict(enable=False, base_batch_size=256)
custom_hooks = [
    # One torch thread: the data worker takes the other core.
    dict(type='TorchThreadsHook', num_threads=1),
    dict(type='EpochSeedHook'),
    dict(type='PretextMonitorHook', interval=50, num_regions=64),
]

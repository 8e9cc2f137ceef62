# PAL on the synthetic benchmark's unlabeled split, sized for a 2-core CPU (the demo).
# Tiny encoder (R(2+1)D-18 at width 8), 6 clips x 2 frames at 32x32 px.
#   pal-eval synth --preset small --out data/synth
#   mim train mmaction2 configs/pretrain/pal_r2plus1d-18-w8_1xb8-6x2x32-5e_synth.py \
#       --work-dir work_dirs/pal_cpu --cfg-options train_dataloader.dataset.data_root=data/synth
_base_ = ['../_base_/default_runtime.py']

data_root = 'data/synth'  # folder written by `pal-eval synth`
clips_per_video = 6       # J
frames_per_clip = 2       # F (the synthetic clips are 2-4 s at 8-10 fps)
input_size = 32
batch_size = 8
max_epochs = 5

model = dict(
    type='PAL',
    backbone=dict(type='PALBackbone', arch='r2plus1d_18', base_channels=8),
    clips_per_video=clips_per_video,
    embed_dim=64,
    queue_size=256,
    momentum=0.99,
    temperature=0.2,
    background_negatives='both',
    dense_loss_weight=0.0,
    symmetric=False,
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'))

train_dataloader = dict(
    batch_size=batch_size,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='UnlabeledVideoDataset',
        data_root=data_root,
        ann_file='unlabeled/list.txt',
        data_prefix=dict(video='unlabeled'),
        mode='pal',
        clips_per_video=clips_per_video,
        frames_per_clip=frames_per_clip,
        frame_interval=1,
        input_size=input_size,
        decode_size=(48, 64),
        scale_range=(0.5, 2.0),
        decoder='pyav'))

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
val_cfg = None
test_cfg = None

# MoCo-v2's SGD recipe (momentum 0.9, wd 1e-4, cosine); lr raised from the linear-scaling
# 0.03 * 8 / 256 to 0.05 because a 5-epoch CPU run otherwise barely moves off the start.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True,
                        convert_to_iter_based=True)]

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=5),
    checkpoint=dict(type='CheckpointHook', interval=1, save_best=None, max_keep_ckpts=2))
auto_scale_lr = dict(enable=False, base_batch_size=256)
# One torch thread: with 2 data workers on 2 cores, more threads oversubscribe the CPU
# (measured: 10 min 25 s with default threads vs 1 min 20 s with one, same run).
custom_hooks = [dict(type='TorchThreadsHook', num_threads=1)]

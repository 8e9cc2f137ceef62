# PAL with the paper's defaults on Kinetics-400 (unlabeled: labels are never read).
# J = 8 clips of 4 frames at 112x112, region of 1..J-2 clips, R(2+1)D-18, 8 GPUs x 32.
# Edit data_root (a folder of videos, or set ann_file to a list file of paths), then:
#   bash $(python -c "import mmaction,os;print(os.path.dirname(mmaction.__file__))")/.mim/tools/dist_train.sh \
#       configs/pretrain/pal_r2plus1d-18_8xb32-8x4x112-200e_k400.py 8
#   or: mim train mmaction2 configs/pretrain/pal_r2plus1d-18_8xb32-8x4x112-200e_k400.py \
#       --launcher pytorch --gpus 8
# Mixed precision: add --amp (MMEngine's AmpOptimWrapper; the models keep the queue,
# the similarities' -inf masks and the loss in float32-safe operations).
_base_ = ['../_base_/default_runtime.py', '../_base_/models/pal.py']

data_root = 'data/kinetics400/videos_train'  # PLACEHOLDER: folder of training videos
ann_file = ''  # or a list file of video paths relative to data_root ('' scans the folder)
clips_per_video = 8   # J (paper default)
frames_per_clip = 4   # paper default
input_size = 112      # paper default
batch_size = 32       # per GPU
max_epochs = 200
warmup_epochs = 5

model = dict(clips_per_video=clips_per_video)

# BatchNorm statistics over the 8 GPUs' batch (query and key encoders alike; this also
# converts the BN inside mmaction2's Conv2plus1d, which ignores the block's norm_cfg).
sync_bn = 'torch'

train_dataloader = dict(
    batch_size=batch_size,
    num_workers=8,          # per GPU: see benchmarks/bench_pretrain.py for the sizing
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='UnlabeledVideoDataset',
        ann_file=ann_file,
        data_prefix=dict(video=data_root),
        mode='pal',
        regions='two',
        clips_per_video=clips_per_video,
        frames_per_clip=frames_per_clip,
        frame_interval=2,
        input_size=input_size,
        decode_size=(128, 171),
        scale_range=(0.5, 2.0),
        decoder='decord'))

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
val_cfg = None
test_cfg = None

# MoCo-v2 recipe: SGD 0.03 per 256 samples (0.03 at 8 x 32), cosine schedule, after a
# linear warmup (a cold start at full rate blew up the stem's weights in the CPU runs).
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.03, momentum=0.9, weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=warmup_epochs, T_max=max_epochs
         - warmup_epochs, convert_to_iter_based=True),
]

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', interval=10, save_best=None, max_keep_ckpts=3))
custom_hooks = [
    dict(type='EpochSeedHook'),
    dict(type='PretextMonitorHook', interval=1000, num_regions=256),
]
env_cfg = dict(dist_cfg=dict(backend='nccl'))
auto_scale_lr = dict(enable=False, base_batch_size=256)

# PAL with the paper's defaults on Kinetics-400 (unlabeled: labels are never read).
# J = 8 clips of 4 frames at 112x112, region of 1..J-2 clips, R(2+1)D-18, 8 GPUs x 32.
# Edit data_root (a folder of videos, or set ann_file to a list file of paths), then:
#   bash $(python -c "import mmaction,os;print(os.path.dirname(mmaction.__file__))")/.mim/tools/dist_train.sh \
#       configs/pretrain/pal_r2plus1d-18_8xb32-8x4x112-200e_k400.py 8
#   or: mim train mmaction2 configs/pretrain/pal_r2plus1d-18_8xb32-8x4x112-200e_k400.py \
#       --launcher pytorch --gpus 8
_base_ = ['../_base_/default_runtime.py']

data_root = 'data/kinetics400/videos_train'  # PLACEHOLDER: folder of training videos
ann_file = ''  # or a list file of video paths relative to data_root ('' scans the folder)
clips_per_video = 8   # J (paper default)
frames_per_clip = 4   # paper default
input_size = 112      # paper default
batch_size = 32       # per GPU
max_epochs = 200

model = dict(
    type='PAL',
    backbone=dict(type='PALBackbone', arch='r2plus1d_18', base_channels=64),
    clips_per_video=clips_per_video,
    embed_dim=128,
    queue_size=65536,
    momentum=0.999,
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
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='UnlabeledVideoDataset',
        ann_file=ann_file,
        data_prefix=dict(video=data_root),
        mode='pal',
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

# MoCo-v2 recipe: SGD 0.03 per 256 samples (0.03 at 8 x 32), cosine schedule.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.03, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=max_epochs, by_epoch=True,
                        convert_to_iter_based=True)]

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='CheckpointHook', interval=10, save_best=None, max_keep_ckpts=3))
env_cfg = dict(dist_cfg=dict(backend='nccl'))
auto_scale_lr = dict(enable=False, base_batch_size=256)

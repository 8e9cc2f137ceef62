# TAC (supervised trimmed action classification) on the synthetic benchmark, CPU-sized:
# the PAL encoder (PALBackbone R(2+1)D-18 at width 16) trained as an mmaction2 Recognizer3D
# on the unlabeled clips' motion classes, the labels the generator knows
# (`unlabeled/labels.txt`: "<clip file name> <class index>" per line, used for this
# baseline only). The checkpoint goes straight into `pal-eval extract --checkpoint`.
#   mim train mmaction2 configs/recognition/tac_r2plus1d-18-w16_1xb8-8x1x1-12e_synthetic.py \
#       --work-dir work_dirs/tac_cpu --cfg-options train_dataloader.dataset.data_root=data/synthetic
_base_ = ['../_base_/default_runtime.py']

pretext = 'tac'           # recorded as the encoder's pretext in meta.json by pal-eval extract
data_root = 'data/synthetic'  # folder written by `pal-eval synth`
num_classes = 10          # pal_eval.data.synthetic.CLASS_NAMES
clip_len = 8              # ~1 s of motion at 8-10 fps (measured: 4 frames 2 apart at 32 px,
frame_interval = 1        # width 8, stayed at chance on held-out clips after 15 epochs)
input_size = (64, 48)     # (width, height): the frames' own size
batch_size = 8
max_epochs = 12

model = dict(
    type='Recognizer3D',
    backbone=dict(type='PALBackbone', arch='r2plus1d_18', base_channels=16),
    cls_head=dict(type='I3DHead', num_classes=num_classes, in_channels=128,
                  spatial_type='avg', dropout_ratio=0.2, average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCTHW'))

# No flip: it would swap move_left / move_right (the class is the motion).
train_pipeline = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1),
    dict(type='PyAVDecode'),
    dict(type='Resize', scale=input_size, keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')]
test_pipeline = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1,
         test_mode=True),
    dict(type='PyAVDecode'),
    dict(type='Resize', scale=input_size, keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')]

train_dataloader = dict(
    batch_size=batch_size,
    num_workers=2,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='VideoDataset', data_root=data_root, ann_file='unlabeled/labels.txt',
                 data_prefix=dict(video='unlabeled'), pipeline=train_pipeline))

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=1)
val_cfg = None
test_cfg = None

# AdamW at a constant rate: SGD 0.05 + cosine diverged then stayed at chance (measured).
optim_wrapper = dict(optimizer=dict(type='AdamW', lr=0.002, weight_decay=1e-4))
param_scheduler = []
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=5),
    checkpoint=dict(type='CheckpointHook', interval=1, save_best=None, max_keep_ckpts=2))
auto_scale_lr = dict(enable=False, base_batch_size=8)
# One torch thread: with 2 data workers on 2 cores, more threads oversubscribe the CPU.
custom_hooks = [dict(type='TorchThreadsHook', num_threads=1)]

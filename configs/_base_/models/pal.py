# PAL (Pseudo Action Localization) model with the paper's defaults: R(2+1)D-18 encoder,
# J = 8 clips per composite, MoCo-v2-style head/queue/temperature. Every field is
# documented in pal_eval/pretrain/pal.py and pal_eval/pretrain/moco.py.
model = dict(
    type='PAL',
    backbone=dict(type='PALBackbone', arch='r2plus1d_18', base_channels=64),
    clips_per_video=8,
    embed_dim=128,
    queue_size=65536,
    momentum=0.999,
    temperature=0.2,
    background_negatives='both',   # background clips of both composites, momentum-encoded
    in_batch_negatives=True,       # the other samples' current keys
    dense_loss_weight=0.0,
    symmetric=True,                # the key encoder encodes both composites anyway
    bn_groups=1,
    shuffle_bn=True,
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW'))

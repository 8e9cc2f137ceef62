# MoCo-v2 baseline twin of pal_r2plus1d-18_8xb32-8x4x112-200e_k400.py: same encoder, data,
# 2 x 8 clips of 4 frames per sample, head, queue, optimiser and epochs (the twins are
# checked by tests/pretrain/test_configs.py); video-level positives.
_base_ = ['./pal_r2plus1d-18_8xb32-8x4x112-200e_k400.py']

model = dict(
    _delete_=True,
    type='MoCoV2',
    # every field from the PAL model this twin inherits: only the pretext differs
    backbone={{_base_.model.backbone}},
    clips_per_video={{_base_.model.clips_per_video}},
    embed_dim={{_base_.model.embed_dim}},
    queue_size={{_base_.model.queue_size}},
    momentum={{_base_.model.momentum}},
    temperature={{_base_.model.temperature}},
    in_batch_negatives={{_base_.model.in_batch_negatives}},
    symmetric={{_base_.model.symmetric}},
    bn_groups={{_base_.model.bn_groups}},
    shuffle_bn={{_base_.model.shuffle_bn}},
    data_preprocessor={{_base_.model.data_preprocessor}})

train_dataloader = dict(dataset=dict(mode='two_views'))

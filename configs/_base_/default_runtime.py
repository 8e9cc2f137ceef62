# Runtime shared by every pal-eval training config (OpenMMLab style).
# `import pal_eval` registers pal-eval's modules into mmaction.registry; `import heads`
# registers the downstream heads (heads imports pal_eval, never the reverse).
custom_imports = dict(imports=['pal_eval', 'heads'], allow_failed_imports=False)
default_scope = 'mmaction'
# Reads model.feat_dim='auto' from the features and puts relative test dump paths under
# --work-dir (pal_eval/data/datasets/runner.py), before the model is built.
runner_type = 'FeatureAwareRunner'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, save_best='auto', max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'))

# gloo works on CPU and GPU alike; GPU configs override it with nccl.
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='gloo'))

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)

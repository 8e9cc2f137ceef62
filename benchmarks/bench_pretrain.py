"""Pretraining data pipeline throughput vs the model's training-step consumption.

PAL's data side is heavier than usual: every sample decodes three videos (the source of
the pseudo-action region and two backgrounds), pastes the region twice and augments both
composites. Training is only data-bound if the DataLoader, with the config's worker
count, produces composited samples more slowly than the model consumes them.

Both sides run in this one process on the same config, alternating (pipeline, model,
pipeline, model) and keeping the best of each, so a burst of load from other processes
penalises neither side more than the other:

* pipeline: ``DataLoader(dataset, batch_size, num_workers)`` as the Runner builds it;
  composited samples/s over ``--batches`` batches after one warm-up batch;
* model: ``model.train_step`` (forward, backward, SGD step, momentum update, enqueue) on
  one real batch from that loader, repeated; samples/s.

It also prints single-process CPU time per sample of the pipeline, which is robust to
load from other processes: one worker produces ``1 / cpu_per_sample`` samples/s, so
``ceil(model rate * cpu_per_sample)`` workers feed one training process. For the
full-scale config the model rate is a GPU's (``--device cuda`` measures it; without a
GPU the script prints the workers needed per GPU for a range of step rates), and 8 GPUs
need 8 times that many workers in total. Target: pipeline / model >= 1 with the
config's worker count.

With ``--device cuda`` it is the short GPU check of the full-scale config: clips/s and
peak GPU memory over ``--iters`` iterations (use ``--batch-size`` to fit).

Usage::

    python benchmarks/bench_pretrain.py        # CPU config, on a generated tiny benchmark
    python benchmarks/bench_pretrain.py \\
        --config configs/pretrain/mocov2_r2plus1d-18-w8_1xb8-5x4x48-20e_synthetic.py
    python benchmarks/bench_pretrain.py \\
        --config configs/pretrain/pal_r2plus1d-18_8xb32-8x4x112-200e_k400.py \\
        --data-root /path/to/videos --device cuda --batch-size 16 --iters 50
"""
from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = next((REPO / 'configs' / 'pretrain').glob('pal_*_synthetic.py'))


def build(cfg_path: Path, data_root: Path, batch_size: int | None, workers: int | None):
    from mmaction.registry import DATASETS, MODELS
    from mmengine.config import Config
    from mmengine.utils.dl_utils import set_multi_processing

    import pal_eval  # noqa: F401  (registers PAL, MoCoV2, the data set)

    cfg = Config.fromfile(str(cfg_path))
    # As MMEngine's Runner does: OpenCV threads in forked DataLoader workers deadlock.
    set_multi_processing(**cfg.env_cfg.get('mp_cfg', {}))
    dataset_cfg = cfg.train_dataloader.dataset
    if 'data_root' in dataset_cfg or dataset_cfg.get('ann_file'):
        dataset_cfg.data_root = str(data_root)
    else:  # full-scale config: a folder of videos
        dataset_cfg.data_prefix = dict(video=str(data_root))
    dataset = DATASETS.build(dataset_cfg)
    model = MODELS.build(cfg.model)
    model.init_weights()
    batch = batch_size or cfg.train_dataloader.batch_size
    num_workers = cfg.train_dataloader.num_workers if workers is None else workers
    return dataset, model, batch, num_workers, cfg


def loader_for(dataset, batch_size: int, num_workers: int, batches: int = 1):
    from mmengine.dataset import pseudo_collate

    # Sampling with replacement: small data sets still give `batches` full batches.
    sampler = torch.utils.data.RandomSampler(dataset, replacement=True,
                                             num_samples=batches * batch_size)
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, sampler=sampler,
                                       num_workers=num_workers, collate_fn=pseudo_collate)


def time_pipeline(dataset, batch_size: int, num_workers: int, batches: int) -> float:
    """Composited samples per second through the DataLoader (first batch excluded)."""
    loader = iter(loader_for(dataset, batch_size, num_workers, batches + 1))
    next(loader)
    start = time.perf_counter()
    for _ in range(batches):
        next(loader)
    return batches * batch_size / (time.perf_counter() - start)


def pipeline_cpu_per_sample(dataset, samples: int) -> float:
    """CPU seconds per sample, single process (decode + composite + augment)."""
    start = time.process_time()
    for i in range(samples):
        dataset[i % len(dataset)]
    return (time.process_time() - start) / samples


def time_model(model, batch: dict, iters: int, device: str) -> tuple[float, float]:
    """Training samples/s and CPU seconds per sample of ``model.train_step``."""
    from mmengine.optim import OptimWrapper

    optimizer = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01,
                                momentum=0.9)
    wrapper = OptimWrapper(optimizer)
    model.train_step(batch, wrapper)  # warm-up
    if device == 'cuda':
        torch.cuda.synchronize()
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(iters):
        model.train_step(batch, wrapper)
    if device == 'cuda':
        torch.cuda.synchronize()
    samples = iters * len(batch['inputs'])
    return samples / (time.perf_counter() - start), (time.process_time() - cpu) / samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', type=Path, default=DEFAULT_CONFIG)
    parser.add_argument('--data-root', type=Path, default=None,
                        help='synthetic benchmark folder (CPU configs) or video folder; '
                             'default: generate the tiny synthetic benchmark')
    parser.add_argument('--batch-size', type=int, default=None)
    parser.add_argument('--workers', type=int, default=None, help="default: the config's")
    parser.add_argument('--batches', type=int, default=6)
    parser.add_argument('--iters', type=int, default=6)
    parser.add_argument('--rounds', type=int, default=2)
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data_root = args.data_root
        if data_root is None:
            import subprocess
            import sys

            # In a subprocess: forking DataLoader workers after the generator ran in this
            # process deadlocks them (encoder threads).
            data_root = Path(tmp) / 'synth'
            subprocess.run([sys.executable, '-m', 'pal_eval.cli', 'synth', '--preset', 'tiny',
                            '--out', str(data_root), '--quiet'], check=True)
        dataset, model, batch_size, workers, cfg = build(args.config, data_root,
                                                          args.batch_size, args.workers)
        model = model.to(args.device)
        # Through a worker: decoding in this process first would leave decoder threads
        # behind, and workers forked after that deadlock (measured on PyAV).
        batch = next(iter(loader_for(dataset, batch_size, 1)))
        clips_per_sample = 2 * cfg.model.clips_per_video
        print(f'config {args.config.name}: batch {batch_size}, {workers} workers, '
              f'{clips_per_sample} clips/sample, device {args.device}, '
              f'torch threads {torch.get_num_threads()}')
        best_pipe = best_model = 0.0
        model_cpu = 0.0
        for _ in range(args.rounds):
            if args.device == 'cpu':
                best_pipe = max(best_pipe, time_pipeline(dataset, batch_size, workers,
                                                         args.batches))
            rate, model_cpu = time_model(model, batch, args.iters, args.device)
            best_model = max(best_model, rate)
        pipe_cpu = pipeline_cpu_per_sample(dataset, 2 * batch_size)
        per_worker = 1.0 / pipe_cpu
        if args.device == 'cuda':
            peak = torch.cuda.max_memory_allocated() / 2**30
            print(f'model: {best_model:.1f} samples/s = {best_model * clips_per_sample:.0f} '
                  f'clips/s, peak GPU memory {peak:.2f} GiB over {args.iters} iterations')
            need = math.ceil(best_model / per_worker)
            print(f'pipeline: {per_worker:.1f} samples/s per worker ({pipe_cpu * 1e3:.0f} ms CPU '
                  f'per sample): num_workers >= {need} per GPU, {8 * need} for 8 GPUs')
            return
        print(f'pipeline: {per_worker:.1f} samples/s per worker (one process, '
              f'{pipe_cpu * 1e3:.0f} ms CPU per sample)')
        for rate in (25, 50, 100):
            print(f'  a GPU training at {rate} samples/s needs num_workers >= '
                  f'{math.ceil(rate / per_worker)} per GPU ({8 * math.ceil(rate / per_worker)} '
                  'for 8 GPUs)')
        print(f'pipeline: {best_pipe:7.1f} samples/s   ({pipe_cpu * 1e3:.0f} ms CPU/sample, '
              'one process)')
        print(f'model:    {best_model:7.1f} samples/s   ({model_cpu * 1e3:.0f} ms CPU/sample, '
              f'train_step)')
        ratio = best_pipe / best_model
        verdict = 'pipeline keeps up' if ratio >= 1 else 'PIPELINE IS THE BOTTLENECK'
        print(f'ratio pipeline/model = {ratio:.2f} ({verdict}); CPU-time ratio model/pipeline '
              f'= {model_cpu / pipe_cpu:.2f} (>= 1/{workers} means {workers} workers keep up)')


if __name__ == '__main__':
    main()

"""Helpers of the encoder tests: tiny video ids, extraction configs, released-layout files.

Imported by the test modules (a ``conftest`` is not importable by name once several
test folders have one).
"""
from __future__ import annotations

import re
from pathlib import Path

import torch
from official_layouts import COCLR_BLOCKS, read_fixture

#: video id -> (frames, fps): a normal one, another frame rate, one shorter than any clip.
VIDEOS = {'alpha': (30, 10.0), 'beta': (21, 15.0), 'gamma': (3, 10.0)}


def write_config(path: Path, *, input_size: int = 32, equal_features: bool = False,
                 stride: int = 4) -> Path:
    """An extraction config: sliding clips every ``stride`` frames at the native rate."""
    text = (f"sampling = dict(policy='sliding', stride={stride}, fps=None)\n"
            f'encoder = dict(frames_per_clip=None, frame_interval=None, '
            f'input_size={input_size})\n'
            "data = dict(batch_size=4, num_workers=0)\nseed = 0\n"
            'random_init = dict(base_channels=8)\n')
    if equal_features:
        text += ("equal_features = dict(target_frames_per_clip=4, target_frame_interval=1, "
                 "span='native')\n")
    path.write_text(text)
    return path


def released_state_dict(name: str, seed: int = 0) -> dict[str, torch.Tensor]:
    """A randomly initialised checkpoint in the official key layout of ``name``.

    Keys and shapes come from the fixture derived from the official definition; every
    tensor is random (BatchNorm variances positive, counters integers). CoCLR's duplicated
    ``blockN.i`` registrations share the tensor of their named twin, as in a real file.
    """
    generator = torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {}
    duplicates = {}
    for key, shape in read_fixture(name):
        twin = re.match(r'(.*?)(block\d)\.(\d+)\.(.*)', key) if name == 'coclr_s3d' else None
        if twin:
            head, block, index, rest = twin.groups()
            duplicates[key] = f'{head}{COCLR_BLOCKS[block][int(index)]}.{rest}'
            continue
        if key.endswith('num_batches_tracked'):
            state[key] = torch.tensor(7)
            continue
        if key.endswith('running_var'):
            tensor = torch.rand(shape, generator=generator) + 0.5
        else:
            tensor = torch.randn(shape, generator=generator) * 0.05
        state[key] = tensor
    for key, twin in duplicates.items():
        state[key] = state[twin]
    return state

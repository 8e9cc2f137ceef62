"""``pal-eval visualize similarity`` end to end with a tiny stand-in encoder."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import pal_eval.extraction.encoder as encoder_module
from pal_eval.cli import main as cli_main
from pal_eval.data.video_io import write_video


class MeanColour(torch.nn.Module):
    """Feature = mean colour per frame of the clip: ``[N, 3, T, H, W] -> [N, 3, T, 1, 1]``."""

    def forward(self, clips):
        return clips.mean(dim=(3, 4), keepdim=True)


@pytest.mark.slow
def test_similarity_figure_and_scores(tmp_path, monkeypatch, capsys):
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 80, (40, 16, 16, 3), dtype=np.uint8)
    frames[10:20, ..., 0] = 250  # the action: red frames from 1 s to 2 s
    write_video(tmp_path / 'vid.mp4', frames, fps=10)
    (tmp_path / 'gt.json').write_text(json.dumps({'database': {'vid': {
        'subset': 'validation', 'duration': 4.0,
        'annotations': [{'segment': [1.0, 2.0], 'label': 'red'}]}}}))
    (tmp_path / 'cfg.py').write_text(
        "sampling = dict(policy='resample', stride=2, num_snippets=5)\n"
        "encoder = dict(frames_per_clip=2, input_size=16)\n")
    # Plain dict config: reading a config with MMEngine is covered by the extract CLI test
    # and would cost seconds of imports here.
    monkeypatch.setattr(encoder_module, 'load_config', lambda path: {
        'sampling': {'policy': 'resample', 'stride': 2, 'num_snippets': 5},
        'encoder': {'frames_per_clip': 2, 'input_size': 16}})
    monkeypatch.setattr(encoder_module, 'load_encoder',
                        lambda *a, **k: (MeanColour(), {'pretext': 'colour'}))
    args = ['visualize', 'similarity', str(tmp_path / 'cfg.py'), '--checkpoint', 'random',
            '--checkpoint', 'random', '--name', 'a', '--name', 'b', '--video',
            str(tmp_path / 'vid.mp4'), '--annotation', str(tmp_path / 'gt.json'),
            '--out', str(tmp_path / 'fig.png')]
    assert cli_main(args) == 0
    out = capsys.readouterr().out
    scores = [float(line.split()[-1]) for line in out.splitlines() if line.startswith('  ')]
    assert len(scores) == 8 and min(scores) > 0.0  # colour features separate the action
    assert (tmp_path / 'fig.png').read_bytes()[:4] == b'\x89PNG'
    assert cli_main(args) == 2  # an existing figure is not overwritten silently
    assert 'exists' in capsys.readouterr().err

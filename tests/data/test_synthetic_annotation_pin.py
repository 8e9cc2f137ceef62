"""The annotation plan is pinned: rendering changes never change the annotation files.

The downstream heads (oracle features, feature-free floors) are calibrated on these
annotations, so a change to how the benchmark is *drawn* (object size, orientation mark,
distractors, ...; generator 1.2 and later) must leave every annotation byte alone.

The digests below were computed with main's code at generator version 1.1 (commit
a7d1090), BEFORE the rendering changes of issue 14 phase 2, by writing the files of
``pal-eval synth --preset tiny --seed 0`` and of the plan of ``--preset small --seed 0``
(the demo's data). They are not copied from the code under test. If a change of the
*plan* (PRESETS, instance placement, labels) is intended, recompute them on purpose and
say so in the commit: every calibrated floor then has to be recalibrated.
"""
from __future__ import annotations

import hashlib

import pytest

from pal_eval.cli import main
from pal_eval.data import synthetic

#: sha256 of every annotation file (and of ``unlabeled/labels.txt``), generator 1.1
PINNED = {
    ('tiny', 0): {
        'activitynet.json': '433e6b75b7e816788ffdefb611052581e5f47072ec5242f28090dd7e2afab461',
        'charades_sta_test.txt':
            '5c02a510adfd8a97f58d0ae13c7424121a6ca7acee5bfa8520893c2110225ec0',
        'charades_sta_train.txt':
            '9ecc62bb67d2ef13136391aaab1082219dd598fa81fe537c6981a2c250c64a13',
        'grounding_test.json': 'c40cf3ddebdd18ecb56a6c2c189d6949ec3c877c1adf0675b84c4f28b69bb569',
        'grounding_train.json':
            '06ef19d1a5f4b1deb31a4a648d7e1f5bb4579e8e4d75ff9c6dbe359dfd225729',
        'thumos14.json': 'fe567cac44e2dc804b3aca8bdb9639398dbe592e1805bb4dc95bcc290f279359',
        'labels.txt': '4d79cf99c7c232be97ba2a6c1a663facbeb025508f3bc87af01281d2e21302f4',
    },
    ('small', 0): {
        'activitynet.json': '1c17197ca24304a040de0e3a69154ed541fcf4b951c81442794d0d73a698622a',
        'charades_sta_test.txt':
            'a958b26e946053e1934642f043b4f4f3d6e22085406605870163d53e80883e68',
        'charades_sta_train.txt':
            '2110df98e543ebc6216e9dc18abfe12a750a3c2258404f290dd1051d79b8869b',
        'grounding_test.json': '6f3f0bca033350c97e7a1fce1848eedd5bd9d54566b5a319aebe686fa685dc04',
        'grounding_train.json':
            '5510a4aa1b9ad52619da4b2f506980e1c7711dd3168c897ebd333796c3a1b7b0',
        'thumos14.json': '246198ca3a15611465c4781095cb0741998254964bd8d2e59603db693fe1594e',
        'labels.txt': '419ad71a07c31701433d96fd7217f162908432490b5f0e363c793044fcb03dce',
    },
}


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_generated_tiny_benchmark_has_the_pinned_annotation_files(tmp_path):
    """The whole ``pal-eval synth`` path (rendering included) writes the pinned bytes."""
    out = tmp_path / 'synth'
    assert main(['synth', '--preset', 'tiny', '--seed', '0', '--out', str(out), '--quiet']) == 0
    files = {p.name: p for p in (out / 'annotations').iterdir()}
    files['labels.txt'] = out / 'unlabeled' / 'labels.txt'
    assert {name: _sha256(path) for name, path in files.items()} == PINNED[('tiny', 0)]


@pytest.mark.parametrize('preset,seed', [('small', 0)])
def test_demo_plan_writes_the_pinned_annotation_files(tmp_path, preset, seed):
    """The demo's plan (no rendering: seconds) still gives the pinned annotation bytes."""
    plan = synthetic.plan_benchmark(preset, seed)
    synthetic.write_annotation_files(plan, tmp_path)
    (tmp_path / 'labels.txt').write_text(
        ''.join(f'{clip.video_id}.mp4 {clip.instances[0].label}\n' for clip in plan.clips))
    assert {p.name: _sha256(p) for p in tmp_path.iterdir()} == PINNED[(preset, seed)]

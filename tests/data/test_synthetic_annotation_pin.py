"""The annotation plan is pinned: rendering changes never change the annotation files.

The downstream heads (oracle features, feature-free floors) are calibrated on these
annotations, so a change to how the benchmark is *drawn* (object size, orientation mark,
distractors, ...; generator 1.2 and later) must leave every annotation byte alone.

The digests below were computed with main's code at generator version 1.1 (commit
53c1782: 250-video ``small`` preset, grounding val split) and hold unchanged at 1.2 (one
shared unlabeled scene: only the clips' pixels changed), by writing the files of
``pal-eval synth --preset tiny --seed 0`` and of the plan of ``--preset small --seed 0``
(the demo's data): a golden snapshot, exact across machines because the plan is integer
frames and IEEE divisions written with Python's shortest float repr. If a change of the
*plan* (PRESETS, instance placement, labels) is intended, recompute them on purpose and
say so in the commit: every calibrated floor then has to be recalibrated.
"""
from __future__ import annotations

import hashlib

import pytest

from pal_eval.cli import main
from pal_eval.data import synthetic

#: sha256 of every annotation file (and of ``unlabeled/labels.txt``), generators 1.1 and 1.2
PINNED = {
    ('tiny', 0): {
        'activitynet.json':
            '433e6b75b7e816788ffdefb611052581e5f47072ec5242f28090dd7e2afab461',
        'charades_sta_test.txt':
            '4a931b3cbde64709f2ddd41741d30f3e67fc06e5b882abd90a2e1d80d78a5c24',
        'charades_sta_train.txt':
            '9ecc62bb67d2ef13136391aaab1082219dd598fa81fe537c6981a2c250c64a13',
        'charades_sta_val.txt':
            '5c02a510adfd8a97f58d0ae13c7424121a6ca7acee5bfa8520893c2110225ec0',
        'grounding_test.json':
            '4a04356608162eca78bb0aabad65db970288f03fbe26d7dd658bb14bff3c7f34',
        'grounding_train.json':
            '06ef19d1a5f4b1deb31a4a648d7e1f5bb4579e8e4d75ff9c6dbe359dfd225729',
        'grounding_val.json':
            '0cd086345de3a78549a11cea45eea08200e13a17e2efe56c583a4aadc83dcdb7',
        'labels.txt':
            '4d79cf99c7c232be97ba2a6c1a663facbeb025508f3bc87af01281d2e21302f4',
        'thumos14.json':
            'fe567cac44e2dc804b3aca8bdb9639398dbe592e1805bb4dc95bcc290f279359',
    },
    ('small', 0): {
        'activitynet.json':
            '4e1909fc2edc175bddf91bb0b2e45adad6f93337663cf649a5fa359e77c6d54b',
        'charades_sta_test.txt':
            'cd37a487a787aa2c33bee29db7dac04c9b9dd5671d3035ea72a33386cef38c0d',
        'charades_sta_train.txt':
            '416b269245ebe18fe9d51c17aa44bf245d9ed01c027030934ef0aaf9ab91742e',
        'charades_sta_val.txt':
            '7eaae7d1262deb83f668091ccdd7242909bc6b418dd87fa3a1b2ba82af996453',
        'grounding_test.json':
            'c1b31e42622446416b4b21f8f29826797732c5d6ca5df7103029eaadd4777730',
        'grounding_train.json':
            'bc8de013f30b6e525951c6b7be64c201cbab1ae4467c30887572248b1404ccf1',
        'grounding_val.json':
            '1d17ba56abac9ec5f10c5d7514b1e30aa8e1c1958e3a04d0c112dc8e294e9001',
        'labels.txt':
            '419ad71a07c31701433d96fd7217f162908432490b5f0e363c793044fcb03dce',
        'thumos14.json':
            'e32ce6c28d2e93268db379bde4130ede92fba54b67c59517451cb4abcfafe7ec',
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

"""Hostile input to every command: one ``error:`` line naming what is wrong, exit status 2,
no traceback, and nothing written, overwritten or deleted (issue 11).

Each row of :data:`CASES` is one bad input: the command line (``{w}`` is the folder of
:func:`world`), the expected exit status and a fragment of the error line. After each
command every file under ``{w}`` must be byte-identical to before and no file may have
appeared: a refused command touches nothing.
"""
from __future__ import annotations

import hashlib
import json
import shlex
from pathlib import Path

import numpy as np
import pytest

from pal_eval.cli import main

EXTRACT_CONFIG = ("sampling = dict(policy='sliding', stride=4, fps=None)\n"
                  "data = dict(batch_size=4, num_workers=0)\n"
                  "random_init = dict(base_channels=8, frames_per_clip=2, frame_interval=1, "
                  "input_size=32)\n")
GT = {'database': {'v1': {'subset': 'validation', 'duration': 4.0, 'annotations': [
    {'segment': [1.0, 2.0], 'label': 'jump'}]}}}
SUBMISSION = {'version': '1.3', 'external_data': {}, 'results': {
    'v1': [{'segment': [1.0, 2.0], 'label': 'jump', 'score': 0.9}]}}


def _spec(**changes) -> dict:
    """A valid leaderboard spec (``leaderboard plan`` accepts it), then ``changes``."""
    spec = {'data': {'d': {'videos': '{w}/videos', 'annotations': '{w}/gt.json',
                           'extract_config': '{w}/extract.py'}},
            'encoders': {'random': {}},
            'rows': [{'id': 'r', 'encoder': 'random', 'dataset': 'd', 'task': 'detection',
                      'head_config': 'head.py'}]}
    for path, value in changes.items():
        *parents, last = path.split('.')
        node = spec
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is None:
            node.pop(last)
        else:
            node[last] = value
    return spec


#: name -> spec written to {w}/spec_<name>.yaml
SPECS = {
    'ok': _spec(),
    'row_typo': _spec(**{'rows.0.head_confg': 'head.py', 'rows.0.head_config': None}),
    'data_typo': _spec(**{'data.d.anotations': 'x.json'}),
    'encoder_typo': _spec(**{'encoders.random.sed': 3}),
    'top_typo': _spec(row=[]),
    'row_escape': _spec(**{'rows.0.id': '../../x'}),
    'encoder_escape': _spec(encoders={'../e': {}}, **{'rows.0.encoder': '../e'}),
    'dataset_escape': _spec(data={'/abs': {'videos': 'v', 'annotations': 'a',
                                           'extract_config': 'c'}},
                            **{'rows.0.dataset': '/abs'}),
}

#: name -> extraction config text written to {w}/cfg_<name>.py
CONFIGS = {
    'samplng': EXTRACT_CONFIG.replace('sampling =', 'samplng ='),
    'strid': EXTRACT_CONFIG.replace('stride=4', 'strid=4'),
    'frames_per_clp': EXTRACT_CONFIG + 'encoder = dict(frames_per_clp=2)\n',
    'batch0': EXTRACT_CONFIG.replace('batch_size=4', 'batch_size=0'),
    'channels0': EXTRACT_CONFIG.replace('base_channels=8', 'base_channels=0'),
    'huge_input': EXTRACT_CONFIG + 'encoder = dict(input_size=10**6)\n',
}

X = 'extract {w}/extract.py --videos {w}/videos --no-progress --workers 0'
SIM = ('visualize similarity {w}/extract.py --checkpoint random --video {w}/videos/v1.mp4 '
       '--annotation {w}/gt.json')
PLAN = 'leaderboard plan --work-dir {w}/lb --spec {w}/spec_'

CASES = [
    # 2. nothing a user made is overwritten or deleted without --force
    ('merge_pack_onto_file', 'extract --merge --out {w}/feats --pack {w}/existing.npz',
     'already exists (pass --force'),
    ('compare_out_onto_file', 'leaderboard compare --result r={w}/gt.json --out {w}/existing.md',
     'already exists (pass --force'),
    ('probe_json_onto_file', 'probe {w}/feats --annotations {w}/gt.json --json {w}/existing.json',
     'already exists (pass --force'),
    ('probe_json_is_input', 'probe {w}/feats --annotations {w}/gt.json --json {w}/gt.json --force',
     'is also an input'),
    ('extract_into_user_folder', X + ' --checkpoint random --out {w}/userdir',
     'not empty and not written by pal-eval extract'),
    ('extract_overwrite_user_folder', X + ' --checkpoint random --out {w}/foreign --overwrite',
     'not empty and not written by pal-eval extract'),
    ('extract_into_a_file', X + ' --checkpoint random --out {w}/existing.json',
     'is a file, expected a folder'),
    ('similarity_onto_file', SIM + ' --out {w}/existing.png', 'already exists (pass --force'),
    ('similarity_onto_input', SIM + ' --out {w}/gt.json --force', 'is also an input'),
    ('timelines_onto_file', 'visualize predictions {w}/sub.json --out {w}/existing.png',
     'already exists (pass --force'),
    ('export_onto_file', 'export-backbone random --base-channels 8 --out {w}/existing.pth',
     'already exists (pass --force'),
    ('export_onto_its_input', 'export-backbone {w}/backbone.pth --out {w}/backbone.pth --force',
     'is also an input'),
    ('predict_onto_file', 'predict {w}/videos --encoder {w}/backbone.pth --head {w}/text.pth '
     '--out {w}/existing.json', 'already exists (pass --force'),
    ('predict_onto_its_head', 'predict {w}/videos --encoder {w}/backbone.pth --head '
     '{w}/head.json --out {w}/head.json --force', 'is also an input'),
    ('demo_into_user_folder', 'demo --out {w}/userdir', 'not written by pal-eval demo'),
    # 3. unknown config keys are errors, naming the file and the key, with a suggestion
    ('config_section_typo', 'extract {w}/cfg_samplng.py --checkpoint random --videos '
     '{w}/videos --out {w}/new', "cfg_samplng.py, field 'samplng': unknown key; did you mean "
     "'sampling'?"),
    ('config_key_typo', 'extract {w}/cfg_strid.py --checkpoint random --videos {w}/videos '
     '--out {w}/new', "cfg_strid.py, field 'sampling.strid': unknown key; did you mean "
     "'stride'?"),
    ('config_encoder_typo', 'extract {w}/cfg_frames_per_clp.py --checkpoint random --videos '
     "{w}/videos --out {w}/new", "field 'encoder.frames_per_clp': unknown key; did you mean "
     "'frames_per_clip'?"),
    ('spec_row_typo', PLAN + 'row_typo.yaml', "field 'rows.r.head_confg': unknown key; did you "
     "mean 'head_config'?"),
    ('spec_data_typo', PLAN + 'data_typo.yaml', "field 'data.d.anotations': unknown key; did "
     "you mean 'annotations'?"),
    ('spec_encoder_typo', PLAN + 'encoder_typo.yaml', "field 'encoders.random.sed': unknown "
     "key; did you mean 'seed'?"),
    ('spec_top_typo', PLAN + 'top_typo.yaml', "field 'row': unknown key; did you mean 'rows'?"),
    # 7. no traceback from any command
    ('text_file_as_checkpoint', X + ' --checkpoint {w}/text.pth --out {w}/new',
     'text.pth: not a torch weight file'),
    ('text_file_exported', 'export-backbone {w}/text.pth --out {w}/new.pth',
     'text.pth: not a torch weight file'),
    ('unknown_backbone_cfg_key', X + ' --checkpoint {w}/unknown_key.pth --out {w}/new',
     "unknown_key.pth, field 'meta.backbone_cfg.depth': unknown key"),
    ('absurd_base_channels', X + ' --checkpoint {w}/huge_channels.pth --out {w}/new',
     "field 'meta.backbone_cfg.base_channels': must be an integer in [1, 256]"),
    ('absurd_input_size', X + ' --checkpoint {w}/huge_input.pth --out {w}/new',
     "field 'meta.input_size': must be an integer in [1, 1024]"),
    ('absurd_input_size_in_config', 'extract {w}/cfg_huge_input.py --checkpoint random '
     '--videos {w}/videos --out {w}/new', "field 'encoder.input_size': must be an integer"),
    ('base_channels_0', 'export-backbone random --base-channels 0 --out {w}/new.pth',
     "field '--base-channels': must be an integer in [1, 256], got 0"),
    ('base_channels_0_in_config', 'extract {w}/cfg_channels0.py --checkpoint random --videos '
     "{w}/videos --out {w}/new", "cfg_channels0.py, field 'random_init.base_channels'"),
    ('device_banana', X + ' --checkpoint random --out {w}/new --device banana',
     "--device 'banana': not a device"),
    ('predict_device_banana', 'predict {w}/videos --encoder random --head {w}/text.pth --out '
     '{w}/new.json --device banana', "--device 'banana': not a device"),
    ('similarity_unknown_format', SIM + ' --out {w}/fig.banana', 'cannot draw a .banana image'),
    ('timelines_unknown_format', 'visualize predictions {w}/sub.json --out {w}/fig.banana',
     'cannot draw a .banana image'),
    # 10. spec names are checked like video ids: nothing outside --work-dir
    ('spec_row_id_escapes', PLAN + 'row_escape.yaml', "row '../../x', field 'id': unsafe name"),
    ('spec_encoder_escapes', PLAN + 'encoder_escape.yaml', "encoder '../e', field 'encoders': "
     'unsafe name'),
    ('spec_dataset_escapes', PLAN + 'dataset_escape.yaml', "data set '/abs', field 'data': "
     'unsafe name'),
    # 11. values accepted silently, error lines that omit the file, misleading messages
    ('batch_size_0_option', X + ' --checkpoint random --out {w}/new --batch-size 0',
     '--batch-size must be >= 1, got 0'),
    ('batch_size_0_in_config', 'extract {w}/cfg_batch0.py --checkpoint random --videos '
     "{w}/videos --out {w}/new", "cfg_batch0.py, field 'data.batch_size': must be an integer "
     '>= 1, got 0'),
    ('compare_negative_tolerance', 'leaderboard compare --result r={w}/gt.json --tolerance -1',
     '--tolerance must be a finite number >= 0'),
    ('compare_nan_tolerance', 'leaderboard compare --result r={w}/gt.json --tolerance nan',
     '--tolerance must be a finite number >= 0'),
    ('submission_as_gt', 'evaluate detection --gt {w}/sub.json --pred {w}/sub_copy.json',
     'sub.json, field \'results\': this is a prediction file'),
    ('probe_negative_rows', 'probe {w}/feats --annotations {w}/gt.json --max-rows -5',
     '--max-rows must be >= 1'),
]


def _snapshot(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob('*')) if p.is_file()}


@pytest.fixture(scope='module')
def world(tmp_path_factory) -> Path:
    """Videos, configs, specs, a feature folder, good and bad weight files, and the
    files and folders a user made that no command may touch."""
    import torch
    import yaml

    from pal_eval.data.video_io import write_video
    from pal_eval.pretrain.export import load_backbone

    w = tmp_path_factory.mktemp('hostile')
    write_video(w / 'videos' / 'v1.mp4', np.zeros((16, 32, 32, 3), np.uint8), fps=4)
    (w / 'extract.py').write_text(EXTRACT_CONFIG)
    for name, text in CONFIGS.items():
        (w / f'cfg_{name}.py').write_text(text)
    for name, spec in SPECS.items():
        text = yaml.safe_dump(spec).replace('{w}', str(w))
        (w / f'spec_{name}.yaml').write_text(text)
    (w / 'gt.json').write_text(json.dumps(GT))
    (w / 'sub.json').write_text(json.dumps(SUBMISSION))
    (w / 'sub_copy.json').write_text(json.dumps(SUBMISSION))
    (w / 'head.json').write_text('{}')
    (w / 'text.pth').write_text('this is a text file, not weights\n')
    model, meta = load_backbone('random', base_channels=8, frames_per_clip=2, input_size=32)
    torch.save({'state_dict': model.state_dict(), 'meta': meta}, w / 'backbone.pth')
    for name, change in (('unknown_key', {'backbone_cfg': {**meta['backbone_cfg'], 'depth': 50}}),
                         ('huge_channels', {'backbone_cfg': {**meta['backbone_cfg'],
                                                             'base_channels': 10 ** 7}}),
                         ('huge_input', {'input_size': 10 ** 6})):
        torch.save({'state_dict': model.state_dict(), 'meta': {**meta, **change}},
                   w / f'{name}.pth')
    assert main(['extract', str(w / 'extract.py'), '--checkpoint', str(w / 'backbone.pth'),
                 '--videos', str(w / 'videos'), '--out', str(w / 'feats'), '--workers', '0',
                 '--no-progress']) == 0
    for name in ('existing.npz', 'existing.md', 'existing.json', 'existing.png',
                 'existing.pth'):
        (w / name).write_text(f'a user\'s {name}\n')
    (w / 'userdir').mkdir()
    (w / 'userdir' / 'v1.json').write_text('{"a user\'s": "notes on v1"}\n')
    (w / 'userdir' / 'notes.txt').write_text('mine\n')
    (w / 'foreign').mkdir()
    np.save(w / 'foreign' / 'a.npy', np.ones(3))
    (w / 'foreign' / 'failures.json').write_text('{"someone": "else"}\n')
    return w


def test_the_valid_spec_is_accepted(world, capsys):
    """The spec the bad ones are made from is fine: each case fails for its own reason."""
    assert main(shlex.split(PLAN.format(w=world) + 'ok.yaml')) == 0, capsys.readouterr().err


@pytest.mark.parametrize(('argv', 'fragment'), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_bad_input_is_one_error_line_and_touches_nothing(world, capsys, argv, fragment):
    before = _snapshot(world)
    code = main(shlex.split(argv.format(w=world)))
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith('error: ')]
    assert code == 2, err
    assert len(lines) == 1 and fragment in lines[0], err
    assert 'Traceback' not in err
    assert _snapshot(world) == before, 'a refused command changed files'

"""``--out`` of extract: only a folder an extraction wrote is written into, and
``--overwrite`` deletes only what that folder's ``meta.json`` lists (issue 11, item 2)."""
from __future__ import annotations

import json

import numpy as np
import pytest
from standin import TinyEncoder, tiny_settings

from pal_eval.errors import PalEvalError
from pal_eval.extraction.extractor import extract_folder
from pal_eval.extraction.folder import list_videos

META = {'arch': 'tiny', 'pretext': 'test', 'source_sha256': 'abc'}


def run(videos, out, settings=None, **kwargs):
    return extract_folder(TinyEncoder().eval(), list_videos(videos), out,
                          settings or tiny_settings(), META, progress=False, num_workers=0,
                          **kwargs)


def test_overwrite_deletes_only_what_meta_json_lists(tiny_videos, tmp_path):
    out = tmp_path / 'out'
    run(tiny_videos, out)
    # a user's files beside the features, and a crafted id pointing outside the folder
    (out / 'notes.txt').write_text('mine')
    (out / 'other.npy').write_bytes(b'not listed')
    victim = tmp_path / 'victim.npy'
    victim.write_bytes(b'outside')
    meta = json.loads((out / 'meta.json').read_text())
    meta['videos_done'] = [*meta['videos_done'], '../victim']
    (out / 'meta.json').write_text(json.dumps(meta))
    (out / 'failures.shard1of2.json').write_text('{}')   # a failure file of an earlier run
    report = run(tiny_videos, out, tiny_settings(stride=2), overwrite=True)
    assert sorted(report.done) == ['alpha', 'beta', 'gamma']
    assert (out / 'notes.txt').read_text() == 'mine'
    assert (out / 'other.npy').read_bytes() == b'not listed'
    assert victim.read_bytes() == b'outside'
    assert not (out / 'failures.shard1of2.json').exists()
    assert json.loads((out / 'meta.json').read_text())['stride'] == 2


def test_a_rerun_resumes_in_its_own_folder(tiny_videos, tmp_path):
    out = tmp_path / 'out'
    run(tiny_videos, out)
    assert len(run(tiny_videos, out).skipped) == 3


@pytest.mark.parametrize('overwrite', [False, True])
@pytest.mark.parametrize('content', [
    {'alpha.json': '{"user": "notes"}'},                      # a sidecar name, no .npy
    {'a.npy': None, 'failures.json': '{"x": "y"}'},          # ours by name, not by meta
    {'meta.json': '{"feature_dim": 3}'},                     # pre-extracted (not ours)
    {'meta.json': '{"generator": "pal-eval synth"}', 'videos.txt': 'x'},
])
def test_a_folder_extract_did_not_write_is_refused_and_left_alone(tiny_videos, tmp_path,
                                                                    content, overwrite):
    out = tmp_path / 'theirs'
    out.mkdir()
    for name, text in content.items():
        if text is None:
            np.save(out / name, np.ones(2))
        else:
            (out / name).write_text(text)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with pytest.raises(PalEvalError, match='not empty and not written by pal-eval extract'):
        run(tiny_videos, out, overwrite=overwrite)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_empty_or_absent_folders_are_fine(tmp_path):
    from pal_eval.extraction.folder import check_out_folder

    (tmp_path / 'empty').mkdir()
    assert check_out_folder(tmp_path / 'empty') is False
    assert check_out_folder(tmp_path / 'new' / 'deeper') is False

"""pal_eval.io: atomic writes with normal permissions, the output guard, strict JSON/YAML."""
from __future__ import annotations

import os
import stat

import pytest

from pal_eval.errors import InputError, PalEvalError
from pal_eval.io import atomic_write, check_outputs, read_json, read_yaml, write_json


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize('umask, expected', [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_write_gives_the_permissions_of_a_plain_open(tmp_path, umask, expected):
    old = os.umask(umask)
    try:
        write_json(tmp_path / 'm.json', {'a': 1})
        with open(tmp_path / 'plain.txt', 'w') as handle:
            handle.write('x')
    finally:
        os.umask(old)
    assert _mode(tmp_path / 'm.json') == expected == _mode(tmp_path / 'plain.txt')


def test_atomic_write_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    target = tmp_path / 'm.json'
    target.write_text('{}')
    os.chmod(target, 0o640)
    write_json(target, {'b': 2})
    assert _mode(target) == 0o640 and read_json(target) == {'b': 2}


def test_atomic_write_under_a_file_is_one_input_error_and_leaves_nothing(tmp_path):
    (tmp_path / 'blocker').write_text('I am a file')
    with pytest.raises(InputError, match='a parent of the path is a file'):
        with atomic_write(tmp_path / 'blocker' / 'out.json') as handle:
            handle.write('never')
    assert sorted(p.name for p in tmp_path.iterdir()) == ['blocker']


def test_failed_body_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / 'keep.txt'
    target.write_text('old')
    with pytest.raises(RuntimeError):
        with atomic_write(target) as handle:
            handle.write('half')
            raise RuntimeError('killed')
    assert target.read_text() == 'old'
    assert [p.name for p in tmp_path.iterdir()] == ['keep.txt']


# ---------------------------------------------------------------- output guard
def test_guard_refuses_existing_file_without_force(tmp_path):
    (tmp_path / 'out.json').write_text('{}')
    with pytest.raises(PalEvalError, match=r'--out .*out.json: already exists \(pass --force'):
        check_outputs([('--out', tmp_path / 'out.json')])
    check_outputs([('--out', tmp_path / 'out.json')], force=True)


def test_guard_refuses_an_output_that_is_an_input_even_with_force(tmp_path):
    pred = tmp_path / 'pred.json'
    pred.write_text('{}')
    with pytest.raises(PalEvalError, match='is also an input'):
        check_outputs([('--out', tmp_path / '.' / 'pred.json')], force=True, inputs=[pred])


def test_guard_refuses_two_outputs_on_one_file(tmp_path):
    with pytest.raises(PalEvalError, match='the same file as --out'):
        check_outputs([('--out', tmp_path / 'x'), ('--plot', tmp_path / 'x')], force=True)


def test_guard_refuses_folders_and_file_parents(tmp_path):
    (tmp_path / 'f').write_text('')
    with pytest.raises(PalEvalError, match='is a folder'):
        check_outputs([('--out', tmp_path)], force=True)
    with pytest.raises(PalEvalError, match='is a file, not a folder'):
        check_outputs([('--out', tmp_path / 'f' / 'deeper' / 'x.json')])


def test_guard_accepts_new_paths_and_skips_none(tmp_path):
    check_outputs([('--out', tmp_path / 'new' / 'x.json'), ('--plot', None)], inputs=[None])


# ---------------------------------------------------------------- strict JSON
@pytest.mark.parametrize('text, key', [
    ('{"results": {"v_1": [{"score": 1}], "v_1": []}}', 'v_1'),       # nested object
    ('{"a": 1, "b": 2, "a": 3}', 'a'),                                 # top level
    ('[{"segment": [0, 1], "segment": [2, 3]}]', 'segment'),          # inside a list
])
def test_repeated_json_keys_are_errors_naming_the_key(tmp_path, text, key):
    path = tmp_path / 'r.json'
    path.write_text(text)
    with pytest.raises(InputError, match=f"r.json: repeated key '{key}'"):
        read_json(path)


def test_distinct_keys_in_sibling_objects_are_fine(tmp_path):
    path = tmp_path / 'ok.json'
    path.write_text('{"a": {"x": 1}, "b": {"x": 2}}')
    assert read_json(path) == {'a': {'x': 1}, 'b': {'x': 2}}


def test_huge_integers_and_deep_nesting_are_one_line_errors(tmp_path):
    huge = tmp_path / 'huge.json'
    huge.write_text('{"score": ' + '9' * 5000 + '}')
    with pytest.raises(InputError, match='huge.json: not valid JSON: a number cannot be read'):
        read_json(huge)
    deep = tmp_path / 'deep.json'
    deep.write_text('[' * 100_000 + ']' * 100_000)
    with pytest.raises(InputError, match='deep.json: not valid JSON: nested too deeply'):
        read_json(deep)


# ---------------------------------------------------------------- strict YAML
def test_repeated_yaml_keys_are_errors_with_the_line(tmp_path):
    path = tmp_path / 'baseline.yaml'
    path.write_text('metrics:\n  mAP: 0.1\n  AUC: 0.5\n  mAP: 0.0\n')
    with pytest.raises(InputError, match=r"baseline.yaml: repeated key 'mAP' \(line 4\)"):
        read_yaml(path)


def test_yaml_merge_keys_may_still_be_overridden(tmp_path):
    path = tmp_path / 'anchors.yaml'
    path.write_text('base: &b {where: a, url: u}\nrow:\n  <<: *b\n  where: b\n')
    assert read_yaml(path)['row'] == {'where': 'b', 'url': 'u'}


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / 'bad.yaml'
    path.write_text('a: [1, 2\nb: 3\n')
    with pytest.raises(InputError, match=r'bad.yaml: not valid YAML \(line'):
        read_yaml(path)

"""Published video-level class scores: CUHK, UntrimmedNet, ours; each works or one error."""
from __future__ import annotations

import json

import numpy as np
import pytest

from heads.classifiers import ScoreFileClassifier, read_class_scores
from pal_eval.data.annotations.thumos import THUMOS14_CLASS_IDS, THUMOS14_CLASSES
from pal_eval.errors import InputError

TAXONOMY = ['Ballet', 'Long jump', 'Zumba']


def cuhk(path, classes, results):
    path.write_text(json.dumps({'results': results, 'class': classes,
                                'version': 'VERSION 1.3', 'external_data': {}}))
    return path


def test_cuhk_file_in_its_own_class_order_is_reordered_by_name(tmp_path):
    """The file lists 'Zumba, Ballet, Long jump'; taxonomy order is alphabetical: a video
    whose top CUHK class is 'Long jump' must score 'Long jump' highest (not 'Ballet')."""
    path = cuhk(tmp_path / 'cuhk_val_simp_share.json', ['Zumba', 'Ballet', 'Long jump'],
                {'abc': [0.1, 0.2, 0.7]})
    scores = read_class_scores(path, TAXONOMY)
    np.testing.assert_allclose(scores['abc'], [0.2, 0.7, 0.1])
    assert TAXONOMY[int(scores['abc'].argmax())] == 'Long jump'


def test_cuhk_keys_without_v_prefix_match_v_prefixed_videos(tmp_path):
    path = cuhk(tmp_path / 'c.json', TAXONOMY, {'abc': [0.2, 0.7, 0.1]})
    classifier = ScoreFileClassifier(str(path), taxonomy=TAXONOMY)
    np.testing.assert_allclose(classifier.scores('v_abc'), [0.2, 0.7, 0.1])
    np.testing.assert_allclose(classifier.scores('abc'), [0.2, 0.7, 0.1])
    with pytest.raises(InputError, match="c.json, video 'v_zzz'.*no class scores"):
        classifier.scores('v_zzz')


@pytest.mark.parametrize('classes, needle', [
    (['Ballet', 'Long jump'], r"1 taxonomy classes have no score \('Zumba'\)"),
    (['Ballet', 'Long jump', 'Zumba', 'Polo'], r"1 scored classes are not in the taxonomy "
                                               r"\('Polo'\)"),
    (['Ballet', 'Ballet', 'Long jump', 'Zumba'], 'listed twice'),
])
def test_a_class_mismatch_with_the_taxonomy_is_an_error(tmp_path, classes, needle):
    path = cuhk(tmp_path / 'c.json', classes, {'abc': [0.1] * len(classes)})
    with pytest.raises(InputError, match=r"c\.json, field 'class': the score classes are not "
                                         r"the annotation classes: .*" + needle):
        read_class_scores(path, TAXONOMY)


def test_cuhk_list_of_the_wrong_length_names_the_video(tmp_path):
    path = cuhk(tmp_path / 'c.json', TAXONOMY, {'abc': [0.1, 0.2]})
    with pytest.raises(InputError, match="video 'abc'.*2 scores for 3 classes"):
        read_class_scores(path, TAXONOMY)


def test_untrimmednet_npy_rows_are_test_videos_and_columns_thumos_ids(tmp_path):
    """G-TAD's uNet_test.npy: row n - 1 = video_test_<n>, column id - 1 = THUMOS class id
    (gtad_postprocess.py: cls_data[thu_video_id, :][:, thu_label_id])."""
    matrix = np.random.default_rng(0).random((1574, 101)).astype(np.float32)
    np.save(tmp_path / 'uNet_test.npy', matrix)
    scores = read_class_scores(tmp_path / 'uNet_test.npy', list(THUMOS14_CLASSES))
    expected = [matrix[3, THUMOS14_CLASS_IDS[name] - 1] for name in THUMOS14_CLASSES]
    np.testing.assert_allclose(scores['video_test_0000004'], expected)
    assert len(scores) == 1574
    with pytest.raises(InputError, match=r"uNet_test\.npy.*1 taxonomy classes have no score"):
        read_class_scores(tmp_path / 'uNet_test.npy', [*THUMOS14_CLASSES, 'Surfing'])
    np.save(tmp_path / 'flat.npy', np.zeros((4, 20)))
    with pytest.raises(InputError, match=r'flat\.npy: expected \[videos, 101\]'):
        read_class_scores(tmp_path / 'flat.npy', list(THUMOS14_CLASSES))


def test_our_json_by_name_still_reads(tmp_path):
    path = tmp_path / 's.json'
    path.write_text(json.dumps({'results': {'a': {'Zumba': 0.5}}}))
    np.testing.assert_allclose(read_class_scores(path, TAXONOMY)['a'], [0, 0, 0.5])

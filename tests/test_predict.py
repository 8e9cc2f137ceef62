"""``pal-eval predict`` / :class:`pal_eval.predict.Predictor` on a tiny synthetic benchmark.

The product path: ``pal-eval synth --preset tiny``, a random-init encoder exported with
its metadata, ``pal-eval extract``, then BMN, G-TAD and 2D-TAN each trained one epoch
with ``mim train`` (their checkpoints carry their configs) and run with ``mim test``
(its dumped predictions are the reference). ``predict`` must then

* write JSON that the submission readers and ``pal-eval evaluate`` accept, with every
  segment inside its video (durations probed from the video files, independently);
* reproduce ``mim test``'s predictions on the same videos: same head, same inputs, same
  post-processing, although ``predict`` sees only the videos (no annotation file);
* fail on bad input with one ``error:`` line naming the file, exit 2, no traceback and
  no half-written output.
"""
from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from pal_eval.cli import main

pytestmark = pytest.mark.slow

EXTRACT_CONFIG = 'configs/extraction/extract_palbackbone_1xb8-sliding-stride4_synthetic.py'
BMN_CONFIG = 'configs/proposal/bmn_feat_1xb4-t64-20e_synthetic.py'
GTAD_CONFIG = 'configs/detection/gtad_feat_1xb4-t64-16e_synthetic.py'
TAN_CONFIG = 'configs/grounding/tan2d_feat_1xb8-16x16-30e_synthetic-grounding.py'


def _localization_config(path: Path, base: Path, data: Path, features: Path, dump: Path,
                         model: str = '') -> Path:
    ann = data / 'annotations' / 'activitynet.json'
    path.write_text(
        f"_base_ = ['{base}']\n"
        f"_data = dict(ann_file='{ann}', feature_dir='{features}')\n"
        f"model = dict(feat_dim=64{model})\n"
        "train_dataloader = dict(dataset=_data)\n"
        "val_dataloader = dict(dataset=_data)\n"
        "test_dataloader = val_dataloader\n"
        f"val_evaluator = dict(ann_file='{ann}')\n"
        f"test_evaluator = dict(ann_file='{ann}', dump_path='{dump}')\n"
        "train_cfg = dict(max_epochs=1, val_interval=1)\n")
    return path


def _grounding_config(path: Path, base: Path, data: Path, dump: Path) -> Path:
    test_ann = data / 'annotations' / 'grounding_test.json'
    path.write_text(
        f"_base_ = ['{base}']\n"
        f"_data = dict(data_root='{data}', feature_dir='features/random')\n"
        f"model = dict(feat_dim=64, vocabulary=dict(ann_file='{data}/annotations/"
        "grounding_train.json'))\n"
        "train_dataloader = dict(dataset=_data)\n"
        "val_dataloader = dict(dataset=_data)\n"
        "test_dataloader = val_dataloader\n"
        f"val_evaluator = dict(ann_file='{test_ann}')\n"
        f"test_evaluator = dict(ann_file='{test_ann}', dump_path='{dump}')\n"
        "train_cfg = dict(max_epochs=1)\n")
    return path


@pytest.fixture(scope='module')
def bench(tmp_path_factory, repo_root):
    """Tiny benchmark, random-init encoder, features, and the three heads (1 epoch)."""
    from pal_eval.data.synthetic import generate
    from tests.mim_utils import run_mim

    work = tmp_path_factory.mktemp('predict')
    data = work / 'data'
    generate('tiny', 0, data, progress=False)
    backbone = work / 'random_backbone.pth'
    assert main(['export-backbone', 'random', '--base-channels', '8', '--clips-per-video', '6',
                 '--frames-per-clip', '2', '--input-size', '32', '--out', str(backbone)]) == 0
    features = data / 'features' / 'random'
    assert main(['extract', str(repo_root / EXTRACT_CONFIG), '--checkpoint', str(backbone),
                 '--videos', str(data / 'videos'), '--out', str(features), '--workers', '0',
                 '--no-progress']) == 0
    ann = data / 'annotations' / 'activitynet.json'
    configs = {
        'bmn': _localization_config(work / 'bmn.py', repo_root / BMN_CONFIG, data, features,
                                    work / 'bmn_test.json'),
        'gtad': _localization_config(
            work / 'gtad.py', repo_root / GTAD_CONFIG, data, features, work / 'gtad_test.json',
            f", class_fusion=dict(ann_file='{ann}', feature_dir='{features}')"),
        'tan2d': _grounding_config(work / 'tan2d.py', repo_root / TAN_CONFIG, data,
                                   work / 'tan2d_test.json'),
    }
    heads = {}
    for name, config in configs.items():
        run_mim(['train', 'mmaction2', config, '--work-dir', work / name], cwd=work, timeout=300)
        heads[name] = work / name / 'epoch_1.pth'
        run_mim(['test', 'mmaction2', config, '--checkpoint', heads[name], '--work-dir',
                 work / name], cwd=work, timeout=300)
    return SimpleNamespace(work=work, data=data, backbone=backbone, features=features,
                           ann=ann, heads=heads, dumps={n: work / f'{n}_test.json'
                                                       for n in configs})


def _durations(videos: Path) -> dict[str, float]:
    from pal_eval.data.video_io import probe_video

    return {p.stem: probe_video(p)['duration'] for p in sorted(videos.glob('*.mp4'))}


def _predict(capsys, *argv) -> tuple[int, str, str]:
    code = main(['predict', *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


def _assert_inside(frame, durations: dict[str, float], id_to_video=None):
    assert len(frame) > 0
    videos = frame['video_id'] if id_to_video is None else frame['query_id'].map(id_to_video)
    ends = videos.map(durations)
    assert ends.notna().all()
    assert (frame['t_start'] >= 0).all() and (frame['t_end'] <= ends + 1e-9).all()
    assert (frame['t_end'] > frame['t_start']).all()
    assert np.isfinite(frame['score']).all()


def test_bmn_predict_writes_valid_proposals_inside_each_video(bench, tmp_path, capsys):
    from pal_eval.data.submission import read_action_submission

    out = tmp_path / 'proposals.json'
    code, stdout, err = _predict(capsys, bench.data / 'videos', '--encoder', bench.backbone,
                                 '--head', bench.heads['bmn'], '--out', out, '--timeline',
                                 tmp_path / 'timelines', '--workers', '0', '--quiet')
    assert code == 0, err
    durations = _durations(bench.data / 'videos')
    frame = read_action_submission(out, with_labels=False)
    assert set(frame['video_id']) == set(durations)  # every video, no annotation file
    _assert_inside(frame, durations)
    content = json.loads(out.read_text())
    assert content['pal_eval']['durations'] == pytest.approx(durations)
    assert content['pal_eval']['sampling']['stride'] == 4  # the training features' meta.json
    pngs = sorted((tmp_path / 'timelines').glob('*.png'))
    assert [p.stem for p in pngs] == sorted(durations)
    assert all(p.read_bytes()[:4] == b'\x89PNG' for p in pngs)
    assert main(['evaluate', 'proposal', '--gt', str(bench.ann), '--pred', str(out)]) == 0
    assert 'AR@100' in capsys.readouterr().out


def _reference(path: Path, with_labels: bool):
    from pal_eval.data.submission import read_action_submission

    return read_action_submission(path, with_labels=with_labels)


@pytest.mark.parametrize('head', ['bmn', 'gtad'])
def test_predictor_reproduces_mim_test(bench, head):
    from pal_eval.predict import Predictor, predictions_frame

    predictor = Predictor(bench.backbone, bench.heads[head], num_workers=0)
    assert predictor.task == ('proposal' if head == 'bmn' else 'detection')
    reference = _reference(bench.dumps[head], with_labels=head == 'gtad')
    videos = sorted(set(reference['video_id']))
    from pal_eval.data.annotations import load_actions

    # mim test dumps the reported split of the synthetic configs: every `testing` video
    assert videos == sorted(load_actions(bench.ann, 'testing').videos)
    mine = predictions_frame(predictor([bench.data / 'videos' / f'{v}.mp4' for v in videos]))
    for video in videos:
        ours = mine[mine['video_id'] == video].reset_index(drop=True)
        theirs = reference[reference['video_id'] == video].reset_index(drop=True)
        assert len(ours) == len(theirs) > 0
        np.testing.assert_allclose(ours[['t_start', 't_end']], theirs[['t_start', 't_end']],
                                   atol=1e-6)
        np.testing.assert_allclose(ours['score'], theirs['score'], rtol=1e-5, atol=1e-9)
        if head == 'gtad':
            assert ours['label'].tolist() == theirs['label'].tolist()


def test_gtad_detections_are_evaluable(bench, tmp_path, capsys):
    out = tmp_path / 'detections.json'
    code, stdout, err = _predict(capsys, bench.data / 'videos', '--encoder', bench.backbone,
                                 '--head', bench.heads['gtad'], '--out', out, '--workers', '0')
    assert code == 0, err
    assert '(detection, 14 videos' in stdout
    assert main(['evaluate', 'detection', '--gt', str(bench.ann), '--pred', str(out)]) == 0


def test_tan2d_grounds_free_sentences_and_annotated_queries(bench, tmp_path, capsys):
    from pal_eval.data.submission import read_grounding_predictions
    from pal_eval.predict import Predictor, predictions_frame

    durations = _durations(bench.data / 'videos')
    out = tmp_path / 'moments.json'
    video = bench.data / 'videos' / 'syn_00007.mp4'
    code, _, err = _predict(capsys, video, '--encoder', bench.backbone, '--head',
                            bench.heads['tan2d'], '--query', 'a cyan square moves to the left',
                            '--query', 'someone watches a white diamond', '--out', out,
                            '--workers', '0', '--quiet')
    assert code == 0, err
    frame = read_grounding_predictions(out)
    assert set(frame['query_id']) == {'syn_00007:q0', 'syn_00007:q1'}
    _assert_inside(frame, durations, lambda q: q.split(':')[0])
    queries = json.loads(out.read_text())['pal_eval']['queries']
    assert queries['syn_00007:q1']['sentence'] == 'someone watches a white diamond'

    # Annotated queries keep their ids: pal-eval evaluate scores the file, and the
    # predictions are mim test's.
    out = tmp_path / 'test_queries.json'
    test_ann = bench.data / 'annotations' / 'grounding_test.json'
    code, _, err = _predict(capsys, bench.data / 'videos', '--encoder', bench.backbone,
                            '--head', bench.heads['tan2d'], '--queries', test_ann, '--out', out,
                            '--workers', '0', '--quiet')
    assert code == 0, err
    assert main(['evaluate', 'grounding', '--gt', str(test_ann), '--pred', str(out)]) == 0
    mine = read_grounding_predictions(out).sort_values(['query_id', 'score'], kind='stable')
    reference = read_grounding_predictions(bench.dumps['tan2d']).sort_values(
        ['query_id', 'score'], kind='stable')
    assert mine['query_id'].tolist() == reference['query_id'].tolist()
    np.testing.assert_allclose(mine[['t_start', 't_end']], reference[['t_start', 't_end']],
                               atol=1e-6)
    np.testing.assert_allclose(mine['score'], reference['score'], rtol=1e-5)
    # the Python API: three lines
    predictor = Predictor(bench.backbone, bench.heads['tan2d'], num_workers=0)
    [moment] = predictor(video, queries='a cyan square moves to the left')
    assert moment.sentence and moment.top(1)[0][1] <= durations['syn_00007'] + 1e-9
    assert predictions_frame([moment]).shape[1] == 4


# ----------------------------------------------------------------------- bad input
def _fails(capsys, argv, *needles):
    code, out, err = _predict(capsys, *argv)
    assert code == 2, (out, err)
    assert err.count('\n') == 1 and err.startswith('error: ') and 'Traceback' not in err, err
    for needle in needles:
        assert str(needle) in err, err
    return err


def test_bad_input_is_one_error_line_naming_the_file(bench, tmp_path, capsys):
    import torch

    video = bench.data / 'videos' / 'syn_00007.mp4'
    out = tmp_path / 'out.json'
    common = ['--out', out, '--workers', '0', '--quiet']
    _fails(capsys, [video, '--encoder', tmp_path / 'nope.pth', '--head', bench.heads['bmn'],
                    *common], 'nope.pth', 'not found')
    _fails(capsys, [video, '--encoder', bench.backbone, '--head', bench.ann, *common],
           'activitynet.json', 'not a loadable PyTorch checkpoint')
    bare = tmp_path / 'bare.pth'
    state = torch.load(bench.heads['bmn'], map_location='cpu', weights_only=False)['state_dict']
    torch.save({'state_dict': state}, bare)
    _fails(capsys, [video, '--encoder', bench.backbone, '--head', bare, *common],
           'bare.pth', 'meta.cfg')
    _fails(capsys, [video, '--encoder', bench.backbone, '--head', bench.heads['tan2d'],
                    *common], '--query')
    _fails(capsys, [video, '--encoder', bench.backbone, '--head', bench.heads['bmn'],
                    '--query', 'a sentence', *common], '--query')
    broken = tmp_path / 'broken.mp4'
    broken.write_bytes(b'not a video at all')
    _fails(capsys, [broken, '--encoder', bench.backbone, '--head', bench.heads['bmn'],
                    *common], 'broken.mp4')
    _fails(capsys, [tmp_path / 'missing_folder', '--encoder', bench.backbone, '--head',
                    bench.heads['bmn'], *common], 'missing_folder')
    narrow = tmp_path / 'narrow.pth'  # a 32-d encoder for a head trained on 64-d features
    assert main(['export-backbone', 'random', '--base-channels', '4', '--clips-per-video', '6',
                 '--frames-per-clip', '2', '--input-size', '32', '--out', str(narrow)]) == 0
    capsys.readouterr()
    _fails(capsys, [video, '--encoder', narrow, '--head', bench.heads['bmn'], *common],
           '64-d', '32-d')
    assert not out.exists()  # nothing half-written
    out.write_text('{}')
    _fails(capsys, [video, '--encoder', bench.backbone, '--head', bench.heads['bmn'],
                    *common], 'out.json', 'already exists')
    assert out.read_text() == '{}'

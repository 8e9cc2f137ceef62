"""Tiny copies of the public feature releases, in their own layouts, and their annotations.

Each writer builds a few videos with the release's real key names, file names, shapes
(channels) and header conventions, plus the annotation files that come with it, and
returns a :class:`Layout`: where things are, and each video's expected centre times,
computed here from the release's *documented* grid (its README / loader), independently
of :mod:`pal_eval.data.feature_sources`.
"""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pal_eval.data.annotations.thumos import THUMOS14_CLASSES

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Layout:
    root: Path                       # the data root
    features: Path                   # the release folder
    files: dict[str, Path]           # annotation / score files by role
    expected_centers: dict[str, np.ndarray] = field(default_factory=dict)
    timing: dict[str, dict] = field(default_factory=dict)  # what annotations say per video
    feature_dim: int = 0


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def _signal(rng, rows: int, dim: int, segments: list[tuple[int, int]]) -> np.ndarray:
    """Noise with a raised first channel block inside the given row ranges."""
    data = rng.normal(0, 0.1, (rows, dim)).astype(np.float32)
    for start, end in segments:
        data[start:end, : dim // 4] += 1.0
    return data


# ------------------------------------------------------------------ BSN / mmaction2
def bsn_csv_mean_100(root: Path) -> Layout:
    """``csv_mean_100/v_<id>.csv`` (header f0..f399, 100 x 400) + mmaction2's
    ``anet_anno_{train,val}.json`` (``duration_second``, ``feature_frame``, no subset)."""
    rng = _rng(1)
    features = root / 'features' / 'tsn_bsn'
    (features / 'csv_mean_100').mkdir(parents=True)
    (root / 'annotations').mkdir(parents=True, exist_ok=True)
    videos = {'v_aaa': ('train', 30.0, 900, 896), 'v_bbb': ('train', 20.0, 500, 496),
              'v_ccc': ('val', 24.0, 720, 720)}
    splits: dict[str, dict] = {'train': {}, 'val': {}}
    layout = Layout(root, features, {}, feature_dim=400)
    for vid, (split, seconds, frames, feature_frames) in videos.items():
        span = feature_frames / frames * seconds
        rows = _signal(rng, 100, 400, [(20, 50)])
        lines = [','.join(f'f{i}' for i in range(400))]
        lines += [','.join(f'{x:.4f}' for x in row) for row in rows]
        (features / 'csv_mean_100' / f'{vid}.csv').write_text('\n'.join(lines))
        splits[split][vid] = {
            'duration_second': seconds, 'duration_frame': frames, 'feature_frame': feature_frames,
            'annotations': [{'segment': [0.2 * span, 0.5 * span], 'label': 'Ballet'},
                            {'segment': [0.6 * span, 0.9 * span], 'label': 'Long jump'}],
            'fps': frames / seconds, 'rfps': frames / seconds}
        # mmaction2: 100 positions over the seconds the features cover (corrected_second)
        layout.expected_centers[vid] = (np.arange(100) + 0.5) * span / 100
        layout.timing[vid] = dict(duration=seconds, feature_span=span)
    for split, content in splits.items():
        path = root / 'annotations' / f'anet_anno_{split}.json'
        path.write_text(json.dumps(content))
        layout.files[split] = path
    return layout


def cuhk_scores(path: Path, video_ids: list[str], classes: list[str], top: dict[str, str]
                ) -> Path:
    """The CUHK classifier file: bare YouTube ids, its own ``"class"`` order."""
    results = {}
    for vid in video_ids:
        scores = np.full(len(classes), 0.01)
        scores[classes.index(top[vid])] = 0.9
        results[vid.removeprefix('v_')] = scores.tolist()
    path.write_text(json.dumps({'results': results, 'class': classes,
                                'version': 'VERSION 1.3', 'external_data': {}}))
    return path


# --------------------------------------------------------------------------- TSP
TSP_FILES = ('r2plus1d_34-tsp_on_activitynet-train_features.h5',
             'r2plus1d_34-tsp_on_activitynet-valid_features.h5')


def tsp_h5(root: Path) -> Layout:
    """TSP's per-split HDF5 files (``v_<id>`` -> ``[N, 512]``) + an official-style GT JSON
    with bare ids (the ``v_`` prefix differs, as in the real files)."""
    import h5py

    rng = _rng(2)
    features = root / 'features' / 'tsp'
    features.mkdir(parents=True)
    (root / 'annotations').mkdir(parents=True, exist_ok=True)
    videos = {'aaa': ('training', 40.0), 'bbb': ('training', 25.0), 'ccc': ('validation', 30.0)}
    layout = Layout(root, features, {}, feature_dim=512)
    database = {}
    handles = {s: h5py.File(features / name, 'w') for s, name in zip(
        ('training', 'validation'), TSP_FILES)}
    for vid, (subset, seconds) in videos.items():
        count = int(seconds * 15) // 16          # non-overlapping 16-frame clips at 15 fps
        handles[subset].create_dataset(f'v_{vid}', data=_signal(rng, count, 512,
                                                                [(count // 4, count // 2)]))
        database[vid] = {'subset': subset, 'duration': seconds, 'url': '',
                         'annotations': [{'segment': [seconds / 4, seconds / 2],
                                          'label': 'Ballet'}]}
        layout.expected_centers[vid] = (8 + 16 * np.arange(count)) / 15.0
        layout.timing[vid] = dict(duration=seconds)
    for handle in handles.values():
        handle.close()
    gt = root / 'annotations' / 'activity_net.v1-3.min.json'
    gt.write_text(json.dumps({'version': 'VERSION 1.3', 'database': database}))
    layout.files['gt'] = gt
    return layout


# ------------------------------------------------------------------- G-TAD THUMOS14
def gtad_thumos_h5(root: Path) -> Layout:
    """G-TAD's ``{flow,rgb}_{val,test}.h5`` (one row per frame, 1024 per stream) + its
    ``{val,test}_Annotation.csv`` (seconds and frames) + UntrimmedNet ``uNet_test.npy``."""
    import h5py

    rng = _rng(3)
    features = root / 'features' / 'tsn_gtad'
    features.mkdir(parents=True)
    annotations = root / 'annotations'
    annotations.mkdir(parents=True, exist_ok=True)
    videos = {'video_validation_0000051': (30.0, 420), 'video_validation_0000052': (25.0, 400),
              'video_test_0000004': (30.0, 390)}
    layout = Layout(root, features, {}, feature_dim=2048)
    files = {name: h5py.File(features / f'{name}.h5', 'w')
             for name in ('flow_val', 'rgb_val', 'flow_test', 'rgb_test')}
    rows: dict[str, list] = {'val': [], 'test': []}
    for vid, (fps, frames) in videos.items():
        split = 'val' if 'validation' in vid else 'test'
        segments = [(int(frames * 0.3), int(frames * 0.6))]
        # flow one frame shorter than RGB, as real two-stream extractions often are
        files[f'flow_{split}'].create_dataset(vid, data=_signal(rng, frames - 1, 1024, segments))
        files[f'rgb_{split}'].create_dataset(vid, data=_signal(rng, frames, 1024, segments))
        start, end = segments[0][0] / fps, segments[0][1] / fps
        label = 'LongJump' if split == 'test' else 'Billiards'
        rows[split].append([vid, label, 51 if label == 'LongJump' else 12, f'{start:.1f}',
                            f'{end:.1f}', round(float(f'{start:.1f}') * fps),
                            round(float(f'{end:.1f}') * fps)])
        kept = len(range(0, frames - 1, 5))        # min length, every 5th row
        layout.expected_centers[vid] = 5 * np.arange(kept) / fps   # frame 5 i at the fps
        layout.timing[vid] = dict(fps=fps)
    for handle in files.values():
        handle.close()
    for split, content in rows.items():
        path = annotations / f'{split}_Annotation.csv'
        with open(path, 'w', newline='') as handle:
            writer = csv.writer(handle)
            writer.writerow(['video', 'type', 'type_idx', 'start', 'end', 'startFrame',
                             'endFrame'])
            writer.writerows(content)
        layout.files[split] = path
    from pal_eval.data.annotations.thumos import THUMOS14_CLASS_IDS

    scores = np.full((10, 101), 0.001, dtype=np.float32)  # rows: video_test_<n> -> n - 1
    scores[3, THUMOS14_CLASS_IDS['LongJump'] - 1] = 0.9
    np.save(annotations / 'uNet_test.npy', scores)
    layout.files['scores'] = annotations / 'uNet_test.npy'
    return layout


# -------------------------------------------------------------- ActionFormer I3D npy
def actionformer_i3d_npy(root: Path) -> Layout:
    """ActionFormer's ``<video>.npy`` ([T, 2048], stride 4, 16-frame windows) + its
    ``thumos14.json`` (subsets ``Validation`` / ``Test``, ``fps``, ``duration``)."""
    rng = _rng(4)
    features = root / 'features' / 'i3d'
    features.mkdir(parents=True)
    (root / 'annotations').mkdir(parents=True, exist_ok=True)
    videos = {'video_validation_0000051': ('Validation', 30.0, 14.0),
              'video_validation_0000052': ('Validation', 25.0, 16.0),
              'video_test_0000004': ('Test', 30.0, 12.0)}
    layout = Layout(root, features, {}, feature_dim=2048)
    database = {}
    for vid, (subset, fps, seconds) in videos.items():
        count = (int(seconds * fps) - 16) // 4 + 1
        np.save(features / f'{vid}.npy', _signal(rng, count, 2048, [(count // 3, count // 2)]))
        label = 'LongJump' if subset == 'Test' else 'Billiards'
        database[vid] = {'subset': subset, 'duration': seconds, 'fps': fps, 'annotations': [
            {'label': label, 'segment': [seconds / 3, seconds / 2],
             'segment(frames)': [seconds / 3 * fps, seconds / 2 * fps],
             'label_id': THUMOS14_CLASSES.index(label)}]}
        layout.expected_centers[vid] = (4 * np.arange(count) + 8) / fps
        layout.timing[vid] = dict(fps=fps, duration=seconds)
    gt = root / 'annotations' / 'thumos14.json'
    gt.write_text(json.dumps({'version': 'Thumos14-30fps', 'database': database}))
    layout.files['gt'] = gt
    scores = {vid: {'LongJump': 0.9, 'Billiards': 0.1} for vid in videos}
    (root / 'annotations' / 'scores.json').write_text(json.dumps({'results': scores}))
    layout.files['scores'] = root / 'annotations' / 'scores.json'
    return layout


# ------------------------------------------------------------ 2D-TAN Charades-STA VGG
CHARADES_VIDEOS = {'AO8RW': ('train', 30.0, 40), 'Y6R7T': ('train', 25.0, 30),
                   'Z8X1B': ('test', 28.0, 35)}


def tan2d_charades_vgg(root: Path) -> Layout:
    """``vgg_rgb_features.hdf5`` (Charades id -> ``[N, 4096]``) + Charades-STA txt files and
    the ``Charades_v1_{train,test}.csv`` durations 2D-TAN's loader reads."""
    import h5py

    rng = _rng(5)
    features = root / 'features' / 'tan2d_vgg'
    features.mkdir(parents=True)
    annotations = root / 'annotations'
    annotations.mkdir(parents=True, exist_ok=True)
    layout = Layout(root, features, {}, feature_dim=4096)
    with h5py.File(features / 'vgg_rgb_features.hdf5', 'w') as handle:
        for vid, (_, seconds, count) in CHARADES_VIDEOS.items():
            handle.create_dataset(vid, data=_signal(rng, count, 4096, [(10, 20)]))
            layout.expected_centers[vid] = (np.arange(count) + 0.5) * seconds / count
            layout.timing[vid] = dict(duration=seconds)
    sentences = ['person opens the door.', 'a person sits on a chair.']
    for split in ('train', 'test'):
        lines, rows = [], [['id', 'subject', 'scene', 'length']]
        for vid, (video_split, seconds, _) in CHARADES_VIDEOS.items():
            if video_split != split:
                continue
            rows.append([vid, 'X', 'Kitchen', f'{seconds:.2f}'])
            lines += [f'{vid} {seconds * 0.2:.1f} {seconds * 0.5:.1f}##{sentences[0]}',
                      f'{vid} {seconds * 0.5:.1f} {seconds * 0.9:.1f}##{sentences[1]}']
        (annotations / f'charades_sta_{split}.txt').write_text('\n'.join(lines) + '\n')
        with open(annotations / f'Charades_v1_{split}.csv', 'w', newline='') as handle:
            csv.writer(handle).writerows(rows)
        layout.files[split] = annotations / f'charades_sta_{split}.txt'
    return layout


# ------------------------------------------------- 2D-TAN ActivityNet Captions C3D
def tan2d_activitynet_c3d(root: Path) -> Layout:
    """``sub_activitynet_v1-3.c3d.hdf5`` (``v_<id>/c3d_features`` -> ``[N, 500]``) + the
    captions JSON files (``{v_id: {duration, timestamps, sentences}}``)."""
    import h5py

    rng = _rng(6)
    features = root / 'features' / 'c3d'
    features.mkdir(parents=True)
    annotations = root / 'annotations'
    annotations.mkdir(parents=True, exist_ok=True)
    videos = {'v_aaa': ('train', 60.0, 45), 'v_bbb': ('train', 50.0, 38),
              'v_ccc': ('val_1', 40.0, 30), 'v_ddd': ('val_2', 45.0, 34)}
    layout = Layout(root, features, {}, feature_dim=500)
    splits: dict[str, dict] = {'train': {}, 'val_1': {}, 'val_2': {}}
    with h5py.File(features / 'sub_activitynet_v1-3.c3d.hdf5', 'w') as handle:
        for vid, (split, seconds, count) in videos.items():
            group = handle.create_group(vid)
            group.create_dataset('c3d_features', data=_signal(rng, count, 500, [(5, 15)]))
            layout.expected_centers[vid] = (np.arange(count) + 0.5) * seconds / count
            layout.timing[vid] = dict(duration=seconds)
            splits[split][vid] = {'duration': seconds,
                                  'timestamps': [[0.1 * seconds, 0.4 * seconds],
                                                 [0.5 * seconds, 0.8 * seconds]],
                                  'sentences': ['a man rides a bike.', 'he falls down.']}
    for split, content in splits.items():
        (annotations / f'{split}.json').write_text(json.dumps(content))
        layout.files[split] = annotations / f'{split}.json'
    return layout

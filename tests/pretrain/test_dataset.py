"""The unlabeled data set: composites really contain the source region, pasted where the
mask says, on top of the background video; unreadable videos are skipped and counted."""
from __future__ import annotations

import numpy as np
import pytest
from pretrain_fixtures import GREEN_STEP, SIZE, red_of

TOL = GREEN_STEP / 2  # frame codes are GREEN_STEP apart; H.264 moves them by <= 3


def _dataset(root, **kwargs):
    from pal_eval.pretrain.dataset import UnlabeledVideoDataset

    options = dict(clips_per_video=4, frames_per_clip=2, input_size=SIZE,
                   decode_size=(SIZE, SIZE), pipeline=[])  # no augmentation: exact colours
    options.update(kwargs)
    return UnlabeledVideoDataset(str(root / 'list.txt'), dict(video=str(root)), **options)


def _video_id(red: float) -> int:
    return int(round((red - 20) / 40))


@pytest.mark.parametrize('decoder', ['pyav', 'decord'])
def test_pasted_frames_come_from_the_source_region(tiny_videos, decoder):
    np.random.seed(0)
    dataset = _dataset(tiny_videos, decoder=decoder)
    for idx in range(len(dataset)):
        sample = dataset[idx]
        meta = sample['data_samples'].metainfo
        inputs = sample['inputs'].numpy()                    # [2, 3, J*F, S, S], 0-255
        assert inputs.shape == (2, 3, 8, SIZE, SIZE)
        source_id = int(meta['source_filename'].rsplit('_', 1)[1][:-4])
        assert source_id == idx
        for k in range(2):
            frame_is_action = np.repeat(meta['action_mask'][k], 2)
            background_id = int(meta['background_filenames'][k].rsplit('_', 1)[1][:-4])
            assert background_id != source_id
            for t in range(8):
                red, green = inputs[k, 0, t].mean(), inputs[k, 1, t].mean()
                if frame_is_action[t]:
                    assert _video_id(red) == source_id
                    assert abs(green - GREEN_STEP * meta['source_frame_inds'][k, t]) < TOL
                else:
                    assert meta['source_frame_inds'][k, t] == -1
                    assert _video_id(red) == background_id
                    assert abs(green - GREEN_STEP * meta['background_frame_inds'][k, t]) < TOL


def test_positive_pair_shows_the_same_source_region(tiny_videos):
    np.random.seed(1)
    dataset = _dataset(tiny_videos, scale_range=(1.0, 1.0), regions='shared')
    for idx in range(len(dataset)):
        meta = dataset[idx]['data_samples'].metainfo
        region_1, region_2 = (meta['source_frame_inds'][k][meta['source_frame_inds'][k] >= 0]
                              for k in range(2))
        # Same source frames in both composites (unscaled), at possibly different places.
        assert np.array_equal(region_1, region_2)
        expected = meta['region_start_frame'][0] + np.arange(meta['region_num_clips'][0] * 2)
        assert np.array_equal(region_1, expected % 24)


def test_two_views_mode_gives_two_clips_of_one_video(tiny_videos):
    np.random.seed(2)
    sample = _dataset(tiny_videos, mode='two_views')[3]
    reds = sample['inputs'][:, 0].mean(dim=(2, 3)).numpy()
    assert np.all(np.abs(reds - red_of(3)) < 3)
    assert sample['data_samples'].metainfo['action_mask'].all()


def test_augmentation_is_shared_within_a_composite(tiny_videos):
    np.random.seed(3)
    jitter = dict(type='ColorJitter', brightness=0.4, contrast=0.0, saturation=0.0, hue=0.0)
    dataset = _dataset(tiny_videos, pipeline=[jitter])
    factors = []
    for idx in range(len(dataset)):
        inputs = dataset[idx]['inputs'].numpy()
        # Blue is 128 in every frame of every video: one brightness factor per composite
        # keeps it equal across the composite's frames (source and background alike).
        for k in range(2):
            blue = inputs[k, 2].mean(axis=(1, 2))
            assert np.ptp(blue) < 4.0  # H.264 itself moves flat colours by ~2
            factors.append(blue.mean() / 128)
    assert np.ptp(factors) > 0.05  # and the factor does change between composites


def test_unreadable_video_is_skipped_and_counted(tiny_videos, tmp_path):
    import shutil

    for name in (tiny_videos / 'list.txt').read_text().split():
        shutil.copy(tiny_videos / name, tmp_path / name)
    (tmp_path / 'broken.mp4').write_bytes(b'not a video at all')
    names = (tiny_videos / 'list.txt').read_text().split() + ['broken.mp4']
    (tmp_path / 'list.txt').write_text('\n'.join(names))
    np.random.seed(0)
    dataset = _dataset(tmp_path)
    sample = dataset[len(names) - 1]          # the broken one: another sample is drawn
    assert sample['inputs'].shape[0] == 2
    assert dataset.num_skipped >= 1


def test_list_errors_name_the_file(tmp_path):
    from pal_eval.errors import InputError

    with pytest.raises(InputError, match='list.txt'):
        _dataset(tmp_path)
    (tmp_path / 'list.txt').write_text('only_one.mp4\n')
    with pytest.raises(InputError, match='at least 2 videos'):
        _dataset(tmp_path)


def test_two_regions_per_sample_come_from_one_video_at_different_moments(tiny_videos):
    np.random.seed(4)
    dataset = _dataset(tiny_videos, scale_range=(1.0, 1.0))          # regions='two'
    differ = 0
    for idx in range(len(dataset)):
        meta = dataset[idx]['data_samples'].metainfo
        assert meta['video_index'] == idx and not meta['shared_region']
        starts, lengths = meta['region_start_frame'], meta['region_num_clips']
        for k in range(2):   # each composite holds exactly its own region's frames
            pasted = meta['source_frame_inds'][k][meta['source_frame_inds'][k] >= 0]
            assert np.array_equal(pasted, (starts[k] + np.arange(lengths[k] * 2)) % 24)
        differ += int(starts[0] != starts[1] or lengths[0] != lengths[1])
    assert differ >= len(dataset) - 1   # independent draws: (almost) always different
    shared = _dataset(tiny_videos, regions='shared')[0]['data_samples'].metainfo
    assert shared['shared_region'] and shared['region_start_frame'][0] == \
        shared['region_start_frame'][1]


def _epoch_draws(dataset, workers: int, persistent: bool, epochs: int, hook: bool):
    """Region starts of every sample, epoch after epoch, through a DataLoader whose
    workers MMEngine seeds the same way at every (re)start."""
    from functools import partial

    import torch
    from mmengine.dataset import pseudo_collate, worker_init_fn

    loader = torch.utils.data.DataLoader(
        dataset, batch_size=1, shuffle=False, num_workers=workers, collate_fn=pseudo_collate,
        persistent_workers=persistent,
        worker_init_fn=partial(worker_init_fn, num_workers=workers, rank=0, seed=0))
    draws = []
    for epoch in range(epochs):
        if hook:
            dataset.set_epoch(epoch)
        draws.append([tuple(b['data_samples'][0].metainfo['region_start_frame'].tolist()
                            + b['data_samples'][0].metainfo['start_clip'].tolist())
                      for b in loader])
    return draws


@pytest.mark.parametrize('persistent', [False, True])
def test_fresh_randomness_every_epoch(tiny_videos, persistent):
    from pal_eval.pretrain.hooks import EpochSeedHook

    dataset = _dataset(tiny_videos)
    first, second = _epoch_draws(dataset, 2, persistent, 2, hook=True)
    assert first != second                       # epoch k+1 draws anew
    # The hook is what sets the epoch.
    runner = type('R', (), {'epoch': 3, 'train_dataloader': type('D', (), {'dataset': dataset})})
    EpochSeedHook().before_train_epoch(runner)
    assert dataset.epoch == 3
    if not persistent:   # the bug it fixes: re-seeded workers repeat every epoch's draws
        again = _dataset(tiny_videos)
        assert _epoch_draws(again, 2, False, 2, hook=False)[0] == \
            _epoch_draws(again, 2, False, 2, hook=False)[1]


def test_cached_videos_give_the_same_frames(tiny_videos):
    plain, cached = _dataset(tiny_videos), _dataset(tiny_videos, cache_videos=True)
    for dataset in (plain, cached):
        np.random.seed(5)
        dataset.sample = dataset[2]['inputs']
    assert np.abs(plain.sample.numpy() - cached.sample.numpy()).max() <= 2.0

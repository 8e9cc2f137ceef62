# THUMOS14 two-stream TSN features released with G-TAD
# (data/thumos_feature/TSN_pretrain_avepool_allfrms_hdf5/), read in place: flow_val.h5,
# rgb_val.h5, flow_test.h5, rgb_test.h5, each mapping a video name to one row per frame
# (2048 values for the two streams together: opts.py feat_dim). As G-TAD's loader does: every 5th row is kept
# (skip_videoframes=5), flow then RGB concatenated (2048), both cut to the shorter one.
# Grid: kept row i is frame 5 i (G-TAD's snippet i at frame 5 i, anchors +-2.5 frames) at
# the video's own frame rate, which the annotations give: G-TAD's {val,test}_Annotation.csv
# (frames and seconds of each boundary) or thumos14_test_groundtruth.csv (frame-rate);
# with annotations that have none (thumos_gt.json) list such a file in video_info.
# Sources: frostinassiky/gtad gtad_lib/dataset.py (VideoDataSet._get_data: the four h5
# files, [::skip_videoframes], flow then rgb, min length, df_snippet = skip * i),
# gtad_lib/opts.py (skip_videoframes=5, feat_dim=2048), gtad_postprocess.py (seconds =
# frames / frame-rate of thumos14_test_groundtruth.csv).
feature_source = dict(
    format='hdf5',
    streams=[['flow_val.h5', 'flow_test.h5'], ['rgb_val.h5', 'rgb_test.h5']],
    key='{video_id}',
    grid=dict(fps=None, clip_length=1, stride=1, offset=0, sample_stride=5),
    video_info=[],   # e.g. [data_root + 'annotations/thumos14_test_groundtruth.csv']
    source='G-TAD THUMOS14 TSN features (frostinassiky/gtad gtad_lib/dataset.py)')

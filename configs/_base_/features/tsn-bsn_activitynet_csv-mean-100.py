# ActivityNet v1.3 two-stream TSN features of BSN / mmaction2 ("activitynet_feature_cuhk"),
# read in place: one CSV per video, csv_mean_100/v_<youtube id>.csv, a header line
# (f0,...,f399) and 100 rows of 400 values: each video already rescaled to 100 positions.
# Grid: 100 equal bins over the seconds the features cover: mmaction2's anet_anno_*.json
# give them (feature_frame / duration_frame * duration_second, as mmaction2's
# GenerateLocalizationLabels rescales); without feature_frame, the duration.
# Sources: open-mmlab/mmaction2 tools/data/activitynet/README.md (folder layout),
# mmaction/datasets/transforms/loading.py LoadLocalizationFeature (np.loadtxt, skiprows=1,
# rows = time) and GenerateLocalizationLabels (corrected_second);
# tools/data/activitynet/activitynet_feature_postprocessing.py (header f0..f399, 100 rows).
feature_source = dict(
    format='csv',
    streams=['csv_mean_100/{video_id}.csv'],   # relative to the release folder
    grid=dict(uniform=True),
    source='BSN / mmaction2 ActivityNet TSN csv_mean_100 (open-mmlab/mmaction2 '
           'tools/data/activitynet/README.md; LoadLocalizationFeature)')

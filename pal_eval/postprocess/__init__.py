"""Post-processing shared by every head (functional, no framework imports).

* :mod:`.soft_nms`: Gaussian Soft-NMS (BMN's width-adaptive variant, G-TAD's sigma
  variant) and top-k; hard NMS lives in :mod:`.nms`.
* :mod:`.fusion`: detections from proposals by video-level class fusion (score file or
  a built-in logistic-regression video classifier).
* :mod:`.windows`: merge sliding-window predictions back per video.
"""

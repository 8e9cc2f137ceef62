"""Post-processing shared by every head: pure functions (numpy; no I/O, no framework).

* :mod:`.soft_nms`: Gaussian Soft-NMS (BMN's width-adaptive variant, G-TAD's sigma
  variant) and top-k; hard NMS lives in :mod:`.nms`.
* :mod:`.fusion`: detections from proposals by video-level class fusion (the class
  scores themselves come from :mod:`heads.classifiers`).
* :mod:`.windows`: merge sliding-window predictions back per video.
"""

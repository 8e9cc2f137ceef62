"""pal-eval extraction stage: clip features of untrimmed videos with a pretrained encoder.

* :mod:`pal_eval.extraction.sampling`: where clips start and each feature's centre time
  (pure numpy; the documented conventions live in its docstring);
* :mod:`pal_eval.extraction.extractor`: the resumable, atomic, fault-tolerant loop
  (DataLoader decoding workers, batched clips);
* :mod:`pal_eval.extraction.folder`: the folder's bookkeeping (video lists, shards,
  settings checks, ``meta.json``, completeness, merge), torch-free;
* :mod:`pal_eval.extraction.encoder`: encoders with their metadata, extraction configs;
* :mod:`pal_eval.extraction.probe`: linear probe of extracted features.

Nothing is imported here, so ``import pal_eval.extraction.sampling`` stays torch-free.
"""

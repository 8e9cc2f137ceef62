"""Released encoders of the methods PAL compares against, and any mmaction2 recognizer.

* :mod:`.s3d` (CoCLR's S3D, RSPNet's S3D-G), :mod:`.r2plus1d` (torchvision / VMZ
  R(2+1)D-18 of XDC and VideoMoCo, RSPNet's VCOP R(2+1)D), :mod:`.c3d` (RSPNet's C3D-BN):
  our modules with the released parameter names, registered in ``mmaction.registry.MODELS``;
* :mod:`.registry`: each method's native input, source file and weights;
* :mod:`.convert`: released state dicts -> our modules (wrappers and heads stripped);
* :mod:`.external`: load a released file (method recognised from its keys);
* :mod:`.recognizer`: any mmaction2 recognizer config + checkpoint as an encoder;
* :mod:`.flops`: FLOPs per clip and per video at the native input.

Nothing is imported here, so the registry stays torch-free; :mod:`.models` registers the
architectures (listed in :mod:`pal_eval.registration`).
"""

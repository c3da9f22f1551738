"""Where training runs: the accelerators there are (``device``: GPUs, TPU, Colab, strategies) and the
dtype policy chosen for them (``precision``: ``--mixed-precision auto|on|off``).

Example::

    from nnmagics.runtime.device import detect
    detect().badge()                     # "CPU (2 cores)"
"""

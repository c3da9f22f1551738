"""The model layer: the layer language and its checks (``spec``, ``spec_checks``, ``layer_sizes``,
``presets``), layer specs → Keras code → model (``build``), compile defaults (``compile``), the summary
and weight tables (``inspect``) and saving/loading weights (``weights_io``).

Importing this package imports nothing heavy; Keras comes in with ``build`` and ``compile``.

Example::

    from nnmagics.model.build import build_model
    model = build_model(preset="course-cnn")
"""

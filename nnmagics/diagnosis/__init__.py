"""Diagnose a Keras classifier: curves and verdict, evaluation, confusion matrix, per-class report,
predictions, worst mistakes, feature maps, Grad-CAM heat maps, augmentation preview.

``diagnose(model, data)`` returns a ``DiagnosisReport`` whose attributes hold the numbers (pandas
DataFrames, dicts, arrays); ``feature_maps(model, image)`` gives every conv/pool layer's output; ``gradcam(model, images)`` the
Grad-CAM heat maps of the predicted classes.

One module per job (none named like the functions exported here, so ``nnmagics.diagnose`` and
``nnmagics.feature_maps`` stay functions):

- ``report``: ``diagnose()`` and the ``DiagnosisReport`` dataclass
- ``curves``: which training history, as a table (the verdict itself is ``nnmagics.training.verdict``)
- ``evaluation``: the fixed-order prediction pass, ``evaluate``, confusion counts, per-class report
- ``class_names``: ``--class-names`` checked against the data's classes and their order
- ``maps``: feature maps of any Keras model (nested ones too) and the course's normalisation
- ``map_images``: the images a report shows feature maps for, their maps computed once each
- ``taps``: a layer's output seen (or replaced) during one ordinary forward pass, at any depth
- ``cam``: Grad-CAM (the layer, the heat maps; ``cam_images``: the images); ``gradients``: d score / d maps through
  the backend's own autodiff (TensorFlow, JAX, PyTorch); ``gradcam_code``: its ``--code``
- ``augment``: ``--augment-preview``; ``summary``: the report as text; ``export``: ``--save``
- progress bars for passes longer than two seconds come from ``nnmagics.progress``

The figures, HTML and widgets are the display layer's (its diagnosis view), which
sits on top: nothing here imports it.

Example::

    report = diagnose(cnn, val)
    report.verdict, report.evaluation, report.confusion
    maps = feature_maps(cnn, val.load_image(0))
    cam = gradcam(cnn, (val, slice(0, 8)))
"""
from __future__ import annotations

from .augment import augment_preview
from .curves import accuracy_key, history_frame, resolve_history
from .evaluation import (as_probabilities, check_classes, confusion_frame, decide, errors_frame, evaluate,
                         output_units, predict_in_order, predictions_frame, report_frame)
from .cam import GradCAM, gradcam
from .map_images import FeatureMapSet
from .maps import check_layers, conv_pool_layers, feature_maps, is_feature_layer, normalise_map, normalise_maps, walk_layers
from .report import DiagnosisReport, diagnose

__all__ = ["diagnose", "DiagnosisReport", "feature_maps", "FeatureMapSet", "gradcam", "GradCAM", "conv_pool_layers", "check_layers",
           "is_feature_layer", "walk_layers", "normalise_map", "normalise_maps", "augment_preview",
           "resolve_history", "history_frame", "accuracy_key", "predict_in_order", "as_probabilities", "decide",
           "evaluate", "confusion_frame", "report_frame", "predictions_frame", "errors_frame", "check_classes",
           "output_units"]

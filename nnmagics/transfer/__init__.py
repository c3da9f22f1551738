"""Reuse VGG16: ImageNet predictions, and the course's transfer models with their weights.

The course's last section, done the modern way, with ``keras.applications.VGG16``:

- :mod:`.predict`: ``vgg_predict(image)``, VGG16's ImageNet classes with the course's recipe;
  ``model_predict(model, image)``, a trained model's classes;
- :mod:`.models`: ``vgg_transfer(2, mode="replace-top" | "features")`` and ``fine_tune(model, "block5")``;
  transfer models take raw 0–255 pixels and carry VGG16's ``preprocess_input`` inside;
- :mod:`.code`: the plain Keras code of a transfer model, which is also the code that builds it;
- :mod:`.weights`: ``weights="imagenet" | PATH | "none"``, Keras' cache, offline sentences;
- :mod:`.bases`, :mod:`.app_models`, :mod:`.app_code`, :mod:`.app_predict`: the same on every base of
  ``keras.applications`` (``transfer_model("inception_v3", cut="mixed7")``, ``fine_tune_after(model, "mixed6")``);
- the feature cache that trains a features-mode model's head in seconds is
  :mod:`nnmagics.training.feature_cache` (training never imports this package);
- progress bars for the long passes come from :mod:`nnmagics.progress`.

The two-phase recipe::

    model = vgg_transfer(2, mode="features", data=train)       # phase 1: base frozen
    train(model, train, epochs=10)                              # head only, on cached features
    fine_tune(model, "block5", learning_rate=1e-5)              # phase 2: unfreeze block5
    train(model, train, epochs=5, lr=1e-5)                      # end to end, low learning rate

Importing this package imports neither TensorFlow nor Keras; to reload a saved ``.keras``
transfer model, touch ``nnmagics.transfer.VGG16Preprocess`` first (it registers the layer).
"""
from __future__ import annotations

from .code import TOP_SIZE, TransferSpec
from .models import (MIN_SIZE, MODES, check_image_shape, fine_tune, plan_transfer, preprocess_layer, trainable_summary,
                     transfer_code, transfer_info, vgg16, vgg_transfer)
from .predict import (DEFAULT_FOLDER_LIMIT, PREDICT_BATCH, course_image, expand_images, image_files, imagenet_model,
                      imagenet_probabilities, model_image, model_predict, vgg_predict)
from .weights import (BLOCKS, DOWNLOAD_READ_TIMEOUT, NETWORK_TIMEOUT, OFFLINE_ENV, PROBE_URL, TOP_LAYERS, WEIGHT_FILES,
                      cached_weights_file, check_weights_file, conv_layer_names, imagenet_weights_file,
                      keras_models_dir, network_available, resolve_weights, weight_shapes, weights_label)


def __getattr__(name: str):
    if name == "VGG16Preprocess":
        from .models import preprocess_class

        return preprocess_class()
    raise AttributeError(f"module 'nnmagics.transfer' has no attribute {name!r}")  # internal: Python's own wording


__all__ = ["vgg_transfer", "fine_tune", "vgg_predict", "model_predict", "vgg16", "imagenet_model",
           "imagenet_probabilities", "imagenet_weights_file", "resolve_weights", "check_weights_file",
           "cached_weights_file", "keras_models_dir", "network_available", "course_image", "model_image",
           "image_files", "expand_images", "preprocess_layer", "transfer_info", "transfer_code", "trainable_summary",
           "plan_transfer", "check_image_shape", "weight_shapes", "conv_layer_names", "weights_label",
           "TransferSpec", "WEIGHT_FILES", "MODES", "BLOCKS", "TOP_LAYERS", "TOP_SIZE", "MIN_SIZE",
           "DEFAULT_FOLDER_LIMIT", "PREDICT_BATCH", "OFFLINE_ENV", "NETWORK_TIMEOUT", "DOWNLOAD_READ_TIMEOUT",
           "PROBE_URL"]

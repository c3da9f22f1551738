"""``--validation-steps`` fewer than the validation set: the part validated holds every class, the same every epoch.

Image folders are kept in file order (all cats, then all dogs). A model that always answers "dogs"
scores 0.0 on the first batch of that order; on a representative part it scores the share of dogs.
"""
from __future__ import annotations

import json
import re
import os

import numpy as np
import pytest

from nnmagics.training.val_subset import plan_validation, representative_rows


@pytest.fixture
def folder_with_validation(tmp_path):
    """train/ (6 random 8×8 PNGs per class) and validation/ (12 per class) of cats and dogs, batches of 4.

    3 training batches: small models then run 3 steps per call (``execution.steps_per_call``), validation too."""
    from PIL import Image

    from nnmagics.data.images import load_images

    rng = np.random.default_rng(0)
    for part in ("train", "validation"):
        for name in ("cats", "dogs"):
            (tmp_path / part / name).mkdir(parents=True)
            for i in range(6 if part == "train" else 12):
                Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(tmp_path / part / name / f"{i}.png")
    return load_images(str(tmp_path), image_size=8, batch_size=4)


def says_dogs(data):
    """A model that answers class 1 ("dogs") for every image, with small per-image differences in its loss."""
    from nnmagics.model.build import build_model

    model = build_model("input 8x8x3, rescale 1/255, flatten, dense 1 sigmoid")
    kernel, bias = model.layers[-1].get_weights()
    model.layers[-1].set_weights([np.random.default_rng(1).normal(0, 0.05, kernel.shape).astype("float32"),
                                  bias + 5.0])
    return model


class Hints:
    """A reporter that keeps the hints shown at the start."""

    def __init__(self):
        self.hints = None

    def on_train_begin(self, info): self.hints = list(info.hints)
    def on_batch(self, *a): pass
    def on_epoch(self, *a): pass
    def on_train_end(self, status): pass
    def poll(self): pass


def test_any_first_rows_hold_every_class_in_proportion():
    labels = np.array([0] * 30 + [1] * 10 + [2] * 20)          # file order, sorted by class
    order = representative_rows(labels, seed=0)
    assert sorted(order.tolist()) == list(range(60))
    assert sorted(labels[order[:3]].tolist()) == [0, 1, 2]      # one of each first
    counts = np.bincount(labels[order[:12]], minlength=3)
    assert counts.tolist() == [6, 2, 4]                         # 12 of 60: in proportion
    assert np.array_equal(order, representative_rows(labels, seed=0))          # fixed
    assert not np.array_equal(order, representative_rows(labels, seed=1))     # the seed picks which ones


@pytest.mark.parametrize("steps", [1, 2])
def test_few_validation_steps_see_both_classes_the_same_every_epoch(folder_with_validation, steps):
    from nnmagics.training import train

    cats = folder_with_validation
    assert cats.validation.labels.tolist() == [0] * 12 + [1] * 12             # file order: cats then dogs
    model = says_dogs(cats)
    history = train(model, cats, epochs=3, validation_steps=steps, optimizer="sgd", lr=1e-9, seed=0, reporter=False)
    # the first batches of file order (cats only) gave 0.0; half cats and half dogs give 0.5, every epoch
    assert history.history["val_accuracy"] == [0.5, 0.5, 0.5]
    losses = history.history["val_loss"]
    assert max(losses) - min(losses) < 1e-6                                  # the same images each epoch
    recipe = history.fits[-1]["recipe"]
    assert recipe.validation_steps == steps and recipe.val_take == 4 * steps
    assert cats.validation.labels.tolist() == [0] * 12 + [1] * 12             # the dataset keeps its order


def test_keras_own_validation_steps_on_file_order_is_named_once(folder_with_validation):
    """Plain ``model.fit(cats, validation_data=cats_val, validation_steps=1)``: Keras reads the first batch of
    the file order (cats only); the dataset says so in one sentence, once; a whole pass says nothing."""
    import warnings

    import keras

    from nnmagics.data.image_keras import PartialValidationWarning

    cats = folder_with_validation
    val = cats.validation
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy")

    def fit(steps):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            model.fit(cats, validation_data=val, validation_steps=steps, epochs=2, verbose=0)
        return [str(w.message) for w in seen if issubclass(w.category, PartialValidationWarning)]

    assert fit(None) == [] and fit(6) == []
    said = fit(1)
    assert len(said) == 1, said                                                # once, not every epoch
    # Keras may fetch one batch ahead: 1 or 2 of the 6, all cats
    assert re.match(r"Keras read only [12] of 6 batches of 'validation' \(validation_steps\) in file order, only "
                    r"'cats': ", said[0]), said
    assert "%nn_train --validation-steps N" in said[0] and said[0].count(". ") == 0
    assert fit(1) == []                                                        # once per dataset


@pytest.mark.tensorflow(reason="evaluates on the tf.data pipeline")
def test_steps_that_cover_the_set_validate_it_whole_once(folder_with_validation):
    from nnmagics.training import train

    cats = folder_with_validation
    val = cats.validation
    whole = plan_validation(val, 7, 4)
    assert whole.data is val and whole.steps == 6 and whole.take is None     # cut to one pass, in file order
    assert plan_validation(val, None, 4).data is val
    model = says_dogs(cats)
    # 9 batches of the repeated set (3 calls of 3 steps) counted 12 cats twice (0.33); one pass is 0.5
    history = train(model, cats, epochs=1, validation_steps=7, optimizer="sgd", lr=1e-9, seed=0, reporter=False)
    assert history.history["val_accuracy"] == [0.5]
    evaluated = model.evaluate(val.as_tf_dataset(shuffle=False), verbose=0, return_dict=True)
    assert history.history["val_loss"][0] == pytest.approx(evaluated["loss"], rel=1e-5)


def test_too_few_validation_samples_for_the_classes_is_one_sentence(tmp_path):
    from PIL import Image

    from nnmagics.model.build import build_model
    from nnmagics.data.images import load_images
    from nnmagics.training import train

    rng = np.random.default_rng(0)
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
        for i in range(4):
            Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(tmp_path / name / f"{i}.png")
    data = load_images(str(tmp_path), image_size=8, batch_size=2)
    model = build_model("input 8x8x3, rescale 1/255, flatten, dense 3 softmax")
    spy = Hints()
    train(model, data, val_split=0.5, epochs=1, validation_steps=1, seed=0, reporter=spy, val_name="abc_val")
    notes = [h for h in spy.hints if "--validation-steps" in h]
    assert notes == ["--validation-steps 1 × batch size 2 = 2 validation samples cannot hold all 3 classes of "
                     "abc_val, so the val_ metrics leave some out (use --validation-steps 2 or more)."]
    spy = Hints()
    train(model, data, val_split=0.5, epochs=1, validation_steps=2, seed=0, reporter=spy)
    assert not [h for h in spy.hints if "--validation-steps" in h]


def test_printed_code_of_a_table_split_validates_the_same_part(samples):
    """``--val-split`` + ``--validation-steps`` on a table: the printed code picks the same rows (same val_loss)."""
    import keras

    from nnmagics.model.build import build_model
    from nnmagics.data.tables import load_table
    from nnmagics.training import train
    from nnmagics.training.code import train_code

    data = load_table(samples["table"], sheet="data4", name="d4")
    model = build_model(preset="course-dense", data=data)
    start = model.get_weights()
    history = train(model, data, val_split=0.3, epochs=2, batch_size=8, validation_steps=2, seed=3, reporter=False,
                    model_name="tm", data_name="d4")
    code = train_code(history.fits[-1]["recipe"])
    assert "def representative_rows(labels, seed=0):" in code and "representative_rows(labels[val_rows], 3)[:16]" in code
    fresh = keras.models.clone_model(model)
    fresh.set_weights(start)
    namespace = {"tm": fresh}
    exec(code, namespace)  # noqa: S102 - the code nnmagics printed, made of repr()'d values
    theirs = namespace["history"].history
    assert theirs["val_loss"] == pytest.approx(history.history["val_loss"], rel=1e-3)


RERUN = '''
import json, keras
fresh = keras.models.clone_model(vs_m)
fresh.set_weights(vs_w0)
ns = {{"vs_m": fresh}}
exec({code}, ns)
print("RESULT", json.dumps({{"mine": dict(vs_m_history.history), "theirs": ns["history"].history}}))
'''


@pytest.mark.tensorflow(reason="the printed tf.data code of a validation folder")
def test_nn_train_validation_steps_in_a_kernel_and_its_code(kernel, folder_with_validation):
    """``%nn_train … --validation-steps 1 --code`` in a real kernel: both classes validated; the printed code agrees."""
    root = os.path.dirname(folder_with_validation.root)      # the folder of train/ and validation/
    setup = kernel.run(f"%nn_data vs_d {root!r} --image-size 8 --batch-size 4\n"
                       "%nn_build vs_m --layers 'input 8x8x3, rescale 1/255, flatten, dense 1 sigmoid' --quiet\n"
                       "import numpy as np\n"
                       "k, b = vs_m.layers[-1].get_weights()\n"
                       "vs_m.layers[-1].set_weights([np.random.default_rng(1).normal(0, 0.05, k.shape).astype('float32'), b + 5])\n"
                       "vs_w0 = vs_m.get_weights()")
    assert setup.status == "ok", setup.text
    cell = kernel.run("%nn_train vs_m vs_d --epochs 2 --validation-steps 1 --optimizer sgd --lr 1e-9 --seed 0 "
                      "--no-live --code")
    assert cell.status == "ok" and not cell.has_traceback, cell.text
    assert "validation 4 of 24" in cell.text                                  # the text log names the part
    code = next(out["data"]["text/plain"] for out in cell.outputs
                if out["output_type"] == "display_data" and out.get("data", {}).get("text/plain", "").startswith("# %nn_"))
    assert "validation_steps=1" in code and "val.file_paths" in code
    result = kernel.run(RERUN.format(code=json.dumps(code)))
    assert result.status == "ok", result.text
    found = json.loads([line for line in result.lines if line.startswith("RESULT ")][-1][len("RESULT "):])
    assert found["mine"]["val_accuracy"] == [0.5, 0.5]
    assert found["theirs"]["val_accuracy"] == [0.5, 0.5]
    assert found["theirs"]["val_loss"] == pytest.approx(found["mine"]["val_loss"], rel=1e-3)

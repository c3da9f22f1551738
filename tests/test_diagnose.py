"""``diagnose`` and ``%nn_diagnose`` on tiny real data: alignment, sklearn agreement, errors, display."""
from __future__ import annotations

import os

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg", force=True)

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from nnmagics.errors import NNUsageError  # noqa: E402

CNN = "input 16x16x3, rescale 1/255, conv 4 3 relu, pool 2, flatten, dense 1 sigmoid"


# ----------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def imgs(tmp_path_factory):
    """11 tiny PNGs (cats: 6 reddish, dogs: 5 bluish), batches of 4: the last batch holds 3."""
    from nnmagics.data.images import load_images

    root = tmp_path_factory.mktemp("imgs")
    rng = np.random.default_rng(0)
    for c, (name, n) in enumerate({"cats": 6, "dogs": 5}.items()):
        (root / name).mkdir()
        for i in range(n):
            pixels = rng.integers(0, 120, (16, 16, 3))
            pixels[:, :, 0 if c == 0 else 2] += 120
            Image.fromarray(pixels.astype("uint8")).save(root / name / f"{name}.{i}.png")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NNMAGICS_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        return load_images(str(root), image_size=16, batch_size=4, name="imgs")


@pytest.fixture(scope="module")
def trained(imgs):
    """A compiled CNN trained for 3 epochs with plain ``model.fit``: (model, Keras History)."""
    import keras

    from nnmagics.build import build_model

    keras.utils.set_random_seed(0)
    model = build_model(CNN)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(imgs.as_tf_dataset(shuffle=True, seed=0), validation_data=imgs.as_tf_dataset(),
                        epochs=3, verbose=0, shuffle=False)   # the dataset shuffles itself
    return model, history


@pytest.fixture(scope="module")
def table():
    """20 rows, 3 classes (a, b, c), batches of 7: the last batch holds 6."""
    import pandas as pd

    from nnmagics.data.tables import table_from_frame

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"X1": rng.normal(size=20), "X2": rng.normal(size=20),
                          "Y": list("abc" * 7)[:20]})
    return table_from_frame(frame, target="Y", batch_size=7, name="tab")


def independent_binary(model, data, threshold=0.5):
    """Labels from the folder names, predictions image by image: nothing shared with ``diagnose``."""
    truth = np.array([0 if os.sep + "cats" + os.sep in f else 1 for f in data.files])
    x = np.stack([data.load_image(i) for i in range(len(data.files))])
    p = model.predict(x, verbose=0)[:, 0]
    return truth, p, (p > threshold).astype(int)


# ----------------------------------------------------------------------------- alignment
def test_confusion_agrees_with_sklearn_on_unshuffled_images(trained, imgs):
    from sklearn.metrics import confusion_matrix

    from nnmagics.diagnose import diagnose

    model, history = trained
    report = diagnose(model, imgs, history=history)
    truth, p, y_pred = independent_binary(model, imgs)
    assert report.confusion.to_numpy().tolist() == confusion_matrix(truth, y_pred).tolist()
    assert int(report.confusion.to_numpy().sum()) == len(imgs) == 11          # the partial batch counts
    assert list(report.confusion.index) == list(report.confusion.columns) == ["cats", "dogs"]
    assert report.y_true.tolist() == truth.tolist()
    np.testing.assert_allclose(report.probabilities[:, 0], p, atol=1e-5)
    expected = model.evaluate(np.stack([imgs.load_image(i) for i in range(11)]), truth.astype("float32"),
                              verbose=0, return_dict=True)
    assert report.evaluation["loss"] == pytest.approx(expected["loss"], rel=1e-4)
    assert report.evaluation["accuracy"] == pytest.approx(np.mean(truth == y_pred))
    assert report.evaluation_source.startswith("model.evaluate")
    assert report.report.loc["cats", "support"] == 6 and report.report.loc["dogs", "support"] == 5
    assert report.sections == ("curves", "evaluation", "confusion", "report")


def test_threshold_applies_to_a_sigmoid_output(trained, imgs):
    from sklearn.metrics import confusion_matrix

    from nnmagics.diagnose import diagnose

    model, _ = trained
    truth, p, _ = independent_binary(model, imgs)
    threshold = float(np.sort(p)[4] + 1e-6)             # 5 samples at or under it → class 0
    report = diagnose(model, imgs, threshold=threshold)
    assert (report.y_pred == 0).sum() == 5
    assert report.confusion.to_numpy().tolist() == confusion_matrix(truth, (p > threshold).astype(int)).tolist()


def test_predictions_and_errors_tables(trained, imgs):
    from nnmagics.diagnose import diagnose

    model, history = trained
    report = diagnose(model, imgs, history=history, predictions=4, errors=3, class_names="kitty,doggy")
    frame = report.predictions
    assert len(frame) == 11 and list(frame.columns) == ["file", "true_class", "predicted_class", "probability", "correct"]
    assert frame["file"].tolist() == [os.path.relpath(f, imgs.root) for f in imgs.files]
    assert set(frame["true_class"]) == {"kitty", "doggy"} and frame["probability"].between(0.5, 1).all()
    assert list(report.confusion.index) == ["kitty", "doggy"]
    wrong = report.errors
    assert len(wrong) == int((~frame["correct"]).sum()) and not wrong["correct"].any()
    assert wrong["loss"].is_monotonic_decreasing
    assert report.sections == ("predictions", "errors")


def test_uncompiled_softmax_table_is_evaluated_from_its_predictions(table):
    import keras
    from sklearn.metrics import classification_report, confusion_matrix

    from nnmagics.build import build_model
    from nnmagics.diagnose import diagnose

    model = build_model("input 2, dense 8 relu, dense 3 softmax")
    report = diagnose(model, table)
    p = model.predict(table.X, verbose=0)
    y_pred = p.argmax(axis=1)
    assert report.confusion.to_numpy().tolist() == confusion_matrix(table.y, y_pred, labels=[0, 1, 2]).tolist()
    assert report.confusion.to_numpy().sum() == 20
    loss = float(np.mean(keras.losses.sparse_categorical_crossentropy(table.y, p)))
    assert report.evaluation == pytest.approx({"loss": loss, "accuracy": float(np.mean(y_pred == table.y))}, rel=1e-4)
    assert "not compiled" in report.evaluation_source
    sk = classification_report(table.y, y_pred, labels=[0, 1, 2], output_dict=True, zero_division=0)
    assert report.report.loc["b", "recall"] == pytest.approx(sk["1"]["recall"])
    assert report.predictions["row"].tolist() == list(range(20)) and "X1" in report.predictions
    assert report.verdict_kind == "not trained" and report.curves is None and "no training history" in report.verdict


def test_logit_outputs_are_turned_into_probabilities(table):
    from nnmagics.build import build_model
    from nnmagics.diagnose import diagnose

    model = build_model("input 2, dense 3")                   # linear outputs: logits
    report = diagnose(model, table, show="confusion")
    assert any("logits" in n for n in report.notes)
    np.testing.assert_allclose(report.probabilities.sum(axis=1), 1, atol=1e-6)
    assert report.y_pred.tolist() == model.predict(table.X, verbose=0).argmax(axis=1).tolist()


# ----------------------------------------------------------------------------- history and verdict
def test_report_uses_the_verdict_function(trained, monkeypatch):
    import nnmagics.verdict as verdict_module
    from nnmagics.diagnose import diagnose

    model, history = trained
    real = diagnose(model, history=history)
    assert real.verdict == verdict_module.verdict(history.history).text
    assert real.best_epoch == verdict_module.verdict(history.history).best_epoch
    assert real.curves.index.tolist() == [1, 2, 3] and "val_loss" in real.curves

    seen = []

    def fake(values):
        seen.append(dict(values))
        return verdict_module.Verdict("over-fitting", 3, 2, "Over-fitting from epoch 3 (fake).")

    monkeypatch.setattr(verdict_module, "verdict", fake)
    report = diagnose(model, history=history)
    assert seen and seen[0]["loss"] == history.history["loss"]
    assert (report.verdict, report.verdict_kind, report.best_epoch) == ("Over-fitting from epoch 3 (fake).", "over-fitting", 2)
    assert "Over-fitting from epoch 3 (fake)." in repr(report)


def test_history_comes_from_keras_model_history_and_nnmagics_history(trained):
    from nnmagics.build import build_model
    from nnmagics.diagnose import diagnose
    from nnmagics.history import forget, history_of

    model, history = trained
    assert diagnose(model).curves["loss"].tolist() == pytest.approx(history.history["loss"])   # model.history

    fresh = build_model(CNN)
    kept = history_of(fresh, create=True)
    for epoch, (loss, val) in enumerate([(0.9, 0.8), (0.5, 0.5), (0.3, 0.6), (0.2, 0.7), (0.1, 0.8)]):
        kept.record(epoch, {"loss": loss, "val_loss": val, "accuracy": 0.5 + epoch / 10, "val_accuracy": 0.5})
    try:
        report = diagnose(fresh)
        assert report.curves["loss"].tolist() == [0.9, 0.5, 0.3, 0.2, 0.1]
        assert (report.verdict_kind, report.best_epoch) == ("over-fitting", 2)
    finally:
        forget(fresh)


def test_history_from_nnmagics_train(table):
    train_module = pytest.importorskip("nnmagics.train")
    from nnmagics.build import build_model
    from nnmagics.diagnose import diagnose
    from nnmagics.history import history_of
    from nnmagics.verdict import verdict

    model = build_model("input 2, dense 4 relu, dense 3 softmax")
    train_module.train(model, table, val=table, epochs=2, reporter=False, mixed_precision="off", seed=0)
    report = diagnose(model, table)
    assert len(report.curves) == 2 and report.verdict == verdict(history_of(model).history).text
    assert report.evaluation_source.startswith("model.evaluate")


# ----------------------------------------------------------------------------- errors
def test_usage_errors(trained, imgs, table, tmp_path):
    from nnmagics.build import build_model
    from nnmagics.diagnose import diagnose

    model, _ = trained
    untrained = build_model(CNN, name="fresh")
    with pytest.raises(NNUsageError, match="'fresh' has not been trained yet"):
        diagnose(untrained)
    report = diagnose(untrained, imgs)                           # still evaluated
    assert report.verdict_kind == "not trained" and report.evaluation is not None
    assert report.confusion.to_numpy().sum() == 11

    three = build_model("input 16x16x3, rescale 1/255, conv 2 3, pool 2, flatten, dense 3 softmax", name="three")
    with pytest.raises(NNUsageError, match="'three' has 3 output units .* 'imgs' has 2 classes"):
        diagnose(three, imgs)
    binary = build_model("input 2, dense 1 sigmoid", name="bin")
    with pytest.raises(NNUsageError, match="1 output unit .* 'tab' has 3 classes"):
        diagnose(binary, table)
    with pytest.raises(NNUsageError, match="expects inputs of shape"):
        diagnose(model, table)
    with pytest.raises(NNUsageError, match="--class-names gives 3 name"):
        diagnose(model, imgs, class_names="a,b,c")
    with pytest.raises(NNUsageError, match="threshold"):
        diagnose(model, imgs, threshold=1.5)
    with pytest.raises(NNUsageError, match="--confusion needs data"):
        diagnose(model, show="confusion")
    with pytest.raises(NNUsageError, match="--layer picks"):
        diagnose(model, layer="conv2d")
    with pytest.raises(NNUsageError, match="--predictions needs a positive"):
        diagnose(model, imgs, predictions=0)
    with pytest.raises(NNUsageError, match="is a table"):
        diagnose(model, feature_maps=(table, 0))
    with pytest.raises(NNUsageError, match="needs an image dataset"):
        diagnose(None, augment_preview=table)
    with pytest.raises(NNUsageError, match="not a Keras model"):
        diagnose([1, 2], imgs)
    blocker = tmp_path / "file.txt"
    blocker.write_text("x")
    with pytest.raises(NNUsageError, match="is a file"):
        diagnose(model, imgs, save=str(blocker))


# ----------------------------------------------------------------------------- feature maps, augmentation, saving
def test_feature_maps_augment_preview_and_save(trained, imgs, tmp_path):
    import matplotlib.pyplot as plt

    from nnmagics.diagnose import diagnose

    model, history = trained
    report = diagnose(model, imgs, history=history, feature_maps=2, augment_preview=(imgs, 1),
                      show=["curves", "confusion"], errors=2, save=str(tmp_path / "out"))
    assert [m.shape for m in report.feature_maps.values()] == [(14, 14, 4), (7, 7, 4)]
    assert report.gallery.index == 2
    original, draws = report.augmented
    assert original.shape == (16, 16, 3) and draws.shape == (8, 16, 16, 3) and draws.dtype == np.uint8
    assert len({d.tobytes() for d in draws}) > 1                       # several different random draws
    names = sorted(os.listdir(tmp_path / "out"))
    for expected in ("curves.png", "curves.csv", "confusion.png", "confusion.csv", "report.csv", "predictions.csv",
                     "errors.csv", "errors.png", "feature_maps.png", "augment_preview.png", "evaluation.csv"):
        assert expected in names
    assert len(report.saved) == len(names)
    import pandas as pd

    saved = pd.read_csv(tmp_path / "out" / "confusion.csv", index_col=0)
    assert saved.to_numpy().tolist() == report.confusion.to_numpy().tolist()
    html = report._repr_html_()
    for title in ("Training curves", "Confusion matrix", "Most confident mistakes", "Feature maps", "Augmentation preview"):
        assert title in html
    assert html.count("<img") >= 5 and plt.get_fignums() == []


# ----------------------------------------------------------------------------- the magic
def test_magic_matches_the_python_api(ip, trained, imgs, capsys):
    from IPython.display import display

    from nnmagics.diagnose import diagnose

    model, history = trained
    ip.user_ns.update(net=model, imgs=imgs)
    report = ip.run_line_magic("nn_diagnose", "net imgs")
    direct = diagnose(model, imgs)
    assert report.confusion.equals(direct.confusion) and report.model_name == "net" and report.data_name == "imgs"
    assert report.verdict == direct.verdict and report.curves is not None
    display(report)                                               # plain IPython: the text form
    out = capsys.readouterr().out
    assert "Diagnosis of 'net' on 'imgs' (11 samples)" in out and "Verdict:" in out and "Confusion matrix" in out

    picked = ip.run_line_magic("nn_diagnose", "net imgs --confusion --class-names kitty,doggy --threshold 0.4 --predictions 3")
    assert picked.sections == ("evaluation", "confusion", "predictions") and picked.threshold == 0.4
    assert list(picked.confusion.index) == ["kitty", "doggy"]
    assert "first 3 of 11" in picked._repr_html_()


def test_magic_feature_maps_and_augment_preview(ip, trained, imgs, tmp_path):
    from nnmagics.feature_maps import conv_pool_layers

    model, _ = trained
    ip.user_ns.update(net=model, imgs=imgs)
    conv, pool = conv_pool_layers(model)
    report = ip.run_line_magic("nn_diagnose", f"net --feature-maps imgs[3] --layer {pool}")
    assert report.sections == ("feature_maps",) and list(report.feature_maps) == [conv, pool]
    assert (report.gallery.index, report.gallery.layer) == (3, pool)
    path = tmp_path / "one.png"
    Image.fromarray(np.zeros((30, 20, 3), "uint8")).save(path)
    from_file = ip.run_line_magic("nn_diagnose", f"net --feature-maps {path}")
    assert from_file.feature_maps[conv].shape == (14, 14, 4)
    preview = ip.run_line_magic("nn_diagnose", "--augment-preview imgs[2]")
    assert preview.augmented[1].shape == (8, 16, 16, 3)
    assert "nn_diagnose cnn --feature-maps val[0]" in ip.find_line_magic("nn_diagnose").__doc__


@pytest.mark.parametrize("line, message", [
    ("", "Give the model to diagnose"),
    ("nothere imgs", "There is no model named 'nothere'"),
    ("imgs", "is an ImageData, not a Keras model"),
    ("net tab --feature-maps tab[0]", "needs an image dataset, but 'tab' is a table"),
    ("net --feature-maps imgs[99]", "out of range"),
    ("net --feature-maps missing.jpg", "No such image file"),
    ("net --feature-maps notes.txt", "is not an image"),
    ("net --feature-maps imgs[0] --layer dense", "no convolution or pooling layer named 'dense'; choose one of: conv2d"),
    ("net imgs --predictions many", "--predictions needs a positive"),
    ("net imgs --threshold high", "threshold must be a number"),
    ("net imgs --bogus", "unrecognized arguments"),
    ("net imgs[0]", "DATA is a whole dataset"),
    ("--augment-preview tab", "needs an image dataset"),
])
def test_magic_errors(ip, trained, imgs, table, line, message):
    from IPython.core.error import UsageError

    model, _ = trained
    ip.user_ns.update(net=model, imgs=imgs, tab=table)
    with open("notes.txt", "w") as fh:
        fh.write("not an image")
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace("[", r"\[")):
        ip.run_line_magic("nn_diagnose", line)


def test_notebook_display_shows_each_part_and_the_gallery_widget(ip, trained, imgs, monkeypatch):
    from IPython.display import display
    from IPython.utils.capture import capture_output

    import nnmagics.display.output as output
    from nnmagics.diagnose import diagnose

    model, history = trained
    report = diagnose(model, imgs, history=history, show=["curves", "confusion"], feature_maps=(imgs, 1))
    monkeypatch.setattr(output, "in_notebook", lambda: True)
    with capture_output() as captured:
        display(report)
    bundles = [o.data for o in captured.outputs]
    htmls = [b.get("text/html", "") for b in bundles]
    assert any("Training curves" in h and "<img" in h for h in htmls)
    assert any("Confusion matrix" in h and "<img" in h for h in htmls)
    assert any("application/vnd.jupyter.widget-view+json" in b for b in bundles)   # the gallery widget
    assert report.gallery.view is not None and "cats.1.png (cats)" in report.gallery.view.value

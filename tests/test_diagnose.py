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
@pytest.fixture(autouse=True)
def displays():
    """The display layer registered, as ``%load_ext nnmagics`` does (whatever ran before)."""
    from nnmagics.display.diagnosis_view import register

    register()


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

    from nnmagics.model.build import build_model

    keras.utils.set_random_seed(0)
    model = build_model(CNN)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(imgs.batches(shuffle=True, seed=0), validation_data=imgs.batches(),
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

    from nnmagics.diagnosis import diagnose

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

    from nnmagics.diagnosis import diagnose

    model, _ = trained
    truth, p, _ = independent_binary(model, imgs)
    threshold = float(np.sort(p)[4] + 1e-6)             # 5 samples at or under it → class 0
    report = diagnose(model, imgs, threshold=threshold)
    assert (report.y_pred == 0).sum() == 5
    assert report.confusion.to_numpy().tolist() == confusion_matrix(truth, (p > threshold).astype(int)).tolist()


def test_predictions_and_errors_tables(trained, imgs):
    from nnmagics.diagnosis import diagnose

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

    from nnmagics.model.build import build_model
    from nnmagics.diagnosis import diagnose

    model = build_model("input 2, dense 8 relu, dense 3 softmax")
    report = diagnose(model, table)
    p = model.predict(table.X, verbose=0)
    y_pred = p.argmax(axis=1)
    assert report.confusion.to_numpy().tolist() == confusion_matrix(table.y, y_pred, labels=[0, 1, 2]).tolist()
    assert report.confusion.to_numpy().sum() == 20
    loss = float(np.mean(keras.ops.convert_to_numpy(keras.losses.sparse_categorical_crossentropy(table.y, p))))
    assert report.evaluation == pytest.approx({"loss": loss, "accuracy": float(np.mean(y_pred == table.y))}, rel=1e-4)
    assert "not compiled" in report.evaluation_source
    sk = classification_report(table.y, y_pred, labels=[0, 1, 2], output_dict=True, zero_division=0)
    assert report.report.loc["b", "recall"] == pytest.approx(sk["1"]["recall"])
    assert report.predictions["row"].tolist() == list(range(20)) and "X1" in report.predictions
    assert report.verdict_kind == "not trained" and report.curves is None and "no training history" in report.verdict


def test_logit_outputs_are_turned_into_probabilities(table):
    from nnmagics.model.build import build_model
    from nnmagics.diagnosis import diagnose

    model = build_model("input 2, dense 3")                   # linear outputs: logits
    report = diagnose(model, table, show="confusion")
    assert any("logits" in n for n in report.notes)
    np.testing.assert_allclose(report.probabilities.sum(axis=1), 1, atol=1e-6)
    assert report.y_pred.tolist() == model.predict(table.X, verbose=0).argmax(axis=1).tolist()


# ----------------------------------------------------------------------------- history and verdict
def test_report_uses_the_verdict_function(trained, monkeypatch):
    import nnmagics.training.verdict as verdict_module
    from nnmagics.diagnosis import diagnose

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
    from nnmagics.model.build import build_model
    from nnmagics.diagnosis import diagnose
    from nnmagics.training.history import forget, history_of

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
    train_module = pytest.importorskip("nnmagics.training")
    from nnmagics.model.build import build_model
    from nnmagics.diagnosis import diagnose
    from nnmagics.training.history import history_of
    from nnmagics.training.verdict import verdict

    model = build_model("input 2, dense 4 relu, dense 3 softmax")
    train_module.train(model, table, val=table, epochs=2, reporter=False, mixed_precision="off", seed=0)
    report = diagnose(model, table)
    assert len(report.curves) == 2 and report.verdict == verdict(history_of(model).history).text
    assert report.evaluation_source.startswith("model.evaluate")


# ----------------------------------------------------------------------------- errors
def test_usage_errors(trained, imgs, table, tmp_path):
    from nnmagics.model.build import build_model
    from nnmagics.diagnosis import diagnose

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
    with pytest.raises(NNUsageError, match=r"--threshold must be a number in \(0, 1\), not 1.5"):
        diagnose(model, imgs, threshold=1.5)
    with pytest.raises(NNUsageError, match="--confusion needs data"):
        diagnose(model, show="confusion")
    with pytest.raises(NNUsageError, match="--layer picks"):
        diagnose(model, layer="conv2d")
    with pytest.raises(NNUsageError, match=r"--predictions must be a positive whole number, not 0; e.g. --predictions 10"):
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

    from nnmagics.diagnosis import diagnose

    model, history = trained
    report = diagnose(model, imgs, history=history, feature_maps=2, augment_preview=(imgs, 1),
                      show=["curves", "confusion"], errors=2, save=str(tmp_path / "out"))
    assert [m.shape for m in report.feature_maps.values()] == [(14, 14, 4), (7, 7, 4)]
    assert report.feature_map_set.index == 2
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

    from nnmagics.diagnosis import diagnose

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
    from nnmagics.diagnosis import conv_pool_layers

    model, _ = trained
    ip.user_ns.update(net=model, imgs=imgs)
    conv, pool = conv_pool_layers(model)
    report = ip.run_line_magic("nn_diagnose", f"net --feature-maps imgs[3] --layer {pool}")
    assert report.sections == ("feature_maps",) and list(report.feature_maps) == [conv, pool]
    assert (report.feature_map_set.index, report.feature_map_set.layer) == (3, pool)
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
    ("net imgs --predictions many", "--predictions must be a positive whole number, not 'many'"),
    ("net imgs --threshold high", "threshold must be a number"),
    ("net imgs --bogus", "%nn_diagnose has no option --bogus"),
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
    from nnmagics.diagnosis import diagnose

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
    gallery = report.views["gallery"]                            # made by the display layer, not by diagnose()
    assert gallery.view is not None and "cats.1.png (cats)" in gallery.view.value


# ----------------------------------------------------------------------------- class names in the data's order
@pytest.mark.parametrize("names, message", [
    ("dog,cats", "--class-names dog,cats puts 'dog' first but class 0 is 'cats'; give them in the data's order: cats, dogs."),
    ("Dogs, Cats", "--class-names Dogs, Cats puts 'Dogs' first but class 0 is 'cats'; give them in the data's order: cats, dogs."),
    (["cats", "cats"], "--class-names cats,cats puts 'cats' second but class 1 is 'dogs'; give them in the data's order: cats, dogs."),
])
def test_class_names_in_another_order_are_refused(trained, imgs, names, message):
    from nnmagics.diagnosis import diagnose

    model, _ = trained
    with pytest.raises(NNUsageError) as info:
        diagnose(model, imgs, class_names=names)
    assert str(info.value) == message


def test_class_names_in_the_data_order_or_new_names_are_kept(trained, imgs, ip):
    from nnmagics.diagnosis import diagnose

    model, _ = trained
    assert list(diagnose(model, imgs, class_names="cat,dog", show="confusion").confusion.index) == ["cat", "dog"]
    assert diagnose(model, imgs, class_names=["Cats", "Dogs"], show="report").report.index[:2].tolist() == ["Cats", "Dogs"]
    ip.user_ns.update(net=model, imgs=imgs)
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="puts 'dog' first but class 0 is 'cats'"):
        ip.run_line_magic("nn_diagnose", "net imgs --class-names dog,cats")


# ----------------------------------------------------------------------------- without the display layer
def test_report_without_registered_displays_is_text_and_tables(trained, imgs, tmp_path, monkeypatch, capsys):
    from IPython.display import display

    from nnmagics import registry
    from nnmagics.diagnosis import diagnose
    from nnmagics.diagnosis.export import NO_FIGURES

    monkeypatch.setattr(registry, "_ENTRIES", {})                 # plain Python: nothing registered
    model, history = trained
    report = diagnose(model, imgs, history=history, save=str(tmp_path / "out"))
    assert sorted(os.listdir(tmp_path / "out")) == ["confusion.csv", "curves.csv", "errors.csv", "evaluation.csv",
                                                    "predictions.csv", "report.csv"]
    assert NO_FIGURES in report.notes and report.views == {}
    text = repr(report)
    assert text.startswith("Diagnosis of") and "Verdict:" in text and "Confusion matrix" in text
    assert report._repr_html_().startswith("<pre>") and "&#x27;" in report._repr_html_()
    display(report)
    assert "Per-class report" in capsys.readouterr().out
    with pytest.raises(NNUsageError, match="registers itself with %load_ext nnmagics"):
        report.figure("curves")


# ----------------------------------------------------------------------------- progress
def test_long_passes_show_progress_and_short_ones_stay_quiet(trained, imgs, capsys, monkeypatch):
    import nnmagics.progress as progress
    from nnmagics.diagnosis import diagnose

    model, history = trained
    diagnose(model, imgs, history=history, feature_maps=0)        # well under two seconds: no bar at all
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(progress, "DELAY", 0)                   # as if every pass were long
    diagnose(model, imgs, history=history, feature_maps=0)
    err = capsys.readouterr().err
    assert "Predicting 'imgs':" in err and "/3 [" in err         # 11 images in batches of 4
    assert "Evaluating on 'imgs':" in err
    assert f"Feature maps of '{model.name}':" in err and "/2 [" in err and "layer/s" in err   # two tapped layers


# ----------------------------------------------------------------------------- layering and public names
def test_the_core_imports_no_display_and_public_names_stay_functions():
    import subprocess
    import sys

    code = (
        "import sys, importlib, pkgutil, nnmagics, nnmagics.diagnosis as d\n"
        "for m in pkgutil.iter_modules(d.__path__): importlib.import_module('nnmagics.diagnosis.' + m.name)\n"
        "shown = sorted(k for k in sys.modules if k.startswith('nnmagics.display'))\n"
        "assert not shown, shown\n"
        "assert 'tensorflow' not in sys.modules and 'matplotlib' not in sys.modules\n"
        "for _ in range(2):\n"
        "    assert nnmagics.diagnose is d.diagnose and nnmagics.feature_maps is d.feature_maps\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def _imports(package_dir, package):
    """``{module: {imported nnmagics modules}}`` for every module of ``package``, function-level imports included."""
    import ast
    import pathlib

    root = pathlib.Path(package_dir)
    graph = {}
    for path in root.glob("*.py"):
        module = package if path.stem == "__init__" else f"{package}.{path.stem}"
        base = package.split(".") if path.stem == "__init__" else module.split(".")[:-1]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                parts = base[: len(base) - node.level + 1] if node.level else []
                target = ".".join(parts + ([node.module] if node.module else []))
                found.add(target)
                found |= {f"{target}.{a.name}" for a in node.names}      # `from .. import registry`
        graph[module] = {m for m in found if m.startswith("nnmagics")}
    return graph


def test_no_import_cycle_between_diagnosis_and_display():
    import nnmagics

    here = os.path.dirname(nnmagics.__file__)
    graph = {**_imports(os.path.join(here, "diagnosis"), "nnmagics.diagnosis"),
             **_imports(os.path.join(here, "display"), "nnmagics.display")}
    core = {m: deps for m, deps in graph.items() if m.startswith("nnmagics.diagnosis")}
    assert len(core) >= 8 and graph["nnmagics.display.diagnosis_view"]            # the walk found both packages
    assert any(d.startswith("nnmagics.diagnosis") for d in graph["nnmagics.display.feature_gallery"])
    offenders = {m: sorted(d for d in deps if d.startswith("nnmagics.display")) for m, deps in core.items()}
    assert not any(offenders.values()), offenders
    # no diagnosis module, nor a display of it, reaches itself again (function-level imports included)
    mine = [m for m in graph if m.startswith("nnmagics.diagnosis")] + ["nnmagics.display.diagnosis_view",
                                                                        "nnmagics.display.feature_gallery"]
    for start in mine:
        seen, todo = set(), list(graph[start])
        while todo:
            m = todo.pop()
            if m == start:
                raise AssertionError(f"import cycle through {start}")
            if m in graph and m not in seen:
                seen.add(m)
                todo += graph[m]
    assert not os.path.exists(os.path.join(here, "diagnose.py")) and not os.path.exists(os.path.join(here, "feature_maps.py"))
    assert not {"diagnose", "feature_maps"} & {os.path.splitext(f)[0] for f in os.listdir(os.path.join(here, "diagnosis"))}

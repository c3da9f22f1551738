"""``--code`` on ``%nn_train`` and ``%nn_diagnose``: the printed code, executed, rebuilds the same result.

Everything runs in a real kernel (the ``kernel`` fixture), as a student would: the magic trains (or
diagnoses) and prints its code block; the test takes that block from the cell's outputs, executes it
in a fresh namespace holding a copy of the model with the same starting weights, and compares.

Tolerances: with the same seed, the same starting weights and the same batches in the same order,
the printed code runs the same float operations as nnmagics, so histories agree to float noise
(TensorFlow's multi-threaded CPU reductions may change the last bits): losses within 1e-3 relative,
accuracies within one sample of the validation set (1/60 for data4's 60 validation rows).
"""
from __future__ import annotations

import json
import re

import pytest

NNMAGICS_IMPORT = re.compile(r"^\s*(from\s+nnmagics\b|import\s+nnmagics\b)", re.M)


def code_block(cell) -> str:
    """The code block a cell shows (``show_code``: HTML ``<pre>`` + the code as plain text)."""
    from kernel_harness import code_block as shown_code

    assert cell.status == "ok", cell.text
    assert not cell.has_traceback, cell.text
    return shown_code(cell)


def result_of(cell) -> dict:
    """The JSON a checking cell printed after ``RESULT``."""
    assert cell.status == "ok", cell.text
    found = [line for line in cell.lines if line.startswith("RESULT ")]
    assert found, cell.text[-3000:]
    return json.loads(found[-1][len("RESULT "):])


def nnmagics_imports(code: str) -> list[str]:
    return [line.strip() for line in code.splitlines() if NNMAGICS_IMPORT.match(line)]


# runs the printed train code on a copy of MODEL with the weights it started from, then compares
RERUN = '''
import json, keras
code = {code}
fresh = keras.models.clone_model({model})
fresh.set_weights(w0_{model})
ns = {{"{model}": fresh}}
exec(code, ns)
mine, theirs = {model}_history.history, ns["history"].history
def compile_info(model):
    config = model.get_compile_config()
    return {{"loss": str(config["loss"]), "metrics": [str(m) for m in config["metrics"]],
             "optimizer": type(model.optimizer).__name__, "lr": float(model.optimizer.learning_rate.numpy())}}
print("RESULT", json.dumps({{
    "keys": [sorted(dict(mine)), sorted(theirs)],
    "epochs": [len({model}_history.epoch), len(theirs["loss"])],
    "compile": [compile_info({model}), compile_info(fresh)],
    "last": [{{k: dict(mine)[k][-1] for k in theirs}}, {{k: v[-1] for k, v in theirs.items()}}],
    "augment": ns["augment"].get_config()["params"] if "augment" in ns else None,
    "seed": ns["augment"].get_config()["seed"] if "augment" in ns else None,
}}))
'''


def check_same_run(result: dict, accuracy_step: float | None) -> None:
    """Same history keys, epochs and compile; last values within the tolerances (``None``: not compared)."""
    (keys, their_keys), (epochs, their_epochs) = result["keys"], result["epochs"]
    assert keys == their_keys and epochs == their_epochs
    assert result["compile"][0] == result["compile"][1]
    if accuracy_step is None:
        return
    mine, theirs = result["last"]
    for key, value in mine.items():
        if "accuracy" in key:
            assert abs(value - theirs[key]) <= accuracy_step + 1e-6, (key, value, theirs[key])
        else:
            assert theirs[key] == pytest.approx(value, rel=1e-3), (key, value, theirs[key])


def test_train_code_on_a_table_reruns_to_the_same_history(kernel, samples):
    table = samples["table"]
    setup = kernel.run(f"%nn_data code_d4 {table!r} --sheet data4\n"
                       "%nn_build code_m --preset course-dense --from code_d4 --quiet\n"
                       "w0_code_m = code_m.get_weights()")
    assert setup.status == "ok", setup.text
    cell = kernel.run("%nn_train code_m code_d4 --val-split 0.2 --epochs 4 --optimizer adam --lr 0.01 "
                      "--early-stop 3 --checkpoint code_best.weights.h5 --seed 0 --no-live --code")
    code = code_block(cell)
    assert nnmagics_imports(code) == []
    for expected in ("pd.read_excel(", "sheet_name='data4'", "train_test_split(", "test_size=0.2",
                     "keras.optimizers.Adam(learning_rate=0.01)", "keras.callbacks.EarlyStopping(", "patience=3",
                     "keras.callbacks.ModelCheckpoint(", "'code_best.weights.h5'", "keras.utils.set_random_seed(0)"):
        assert expected in code, expected
    result = result_of(kernel.run(RERUN.format(code=json.dumps(code), model="code_m")))
    check_same_run(result, accuracy_step=1 / 60)
    assert result["compile"][1]["optimizer"] == "Adam" and result["compile"][1]["lr"] == pytest.approx(0.01)


@pytest.mark.tensorflow(reason="the printed tf.data code reruns to the same history; off TensorFlow it loads with PIL (tests/test_backends.py runs it)")
@pytest.mark.parametrize("options", ["--augment", "--val-split 0.25"])
def test_train_code_on_an_image_folder_reruns_to_the_same_history(kernel, tiny_images, options):
    name = "code_cnn_aug" if "augment" in options else "code_cnn_split"
    setup = kernel.run(f"%nn_data code_tiny {tiny_images.root!r} --image-size 32 --batch-size 4\n"
                       f"%nn_build {name} --layers 'input 32x32x3, rescale 1/255, conv 4 3 relu, pool 2, flatten, "
                       "dense 1 sigmoid' --quiet\n"
                       f"w0_{name} = {name}.get_weights()")
    assert setup.status == "ok", setup.text
    code = code_block(kernel.run(f"%nn_train {name} code_tiny --epochs 2 {options} --seed 0 --no-live --code"))
    assert "keras.utils.image_dataset_from_directory(" in code and "image_size=(32, 32)" in code
    assert nnmagics_imports(code) == (["from nnmagics.data.augment_fused import FusedAugment"]
                                      if "augment" in options else [])
    result = result_of(kernel.run(RERUN.format(code=json.dumps(code), model=name)))
    if "augment" in options:
        # the augmentation's random numbers are drawn in batch order, in nnmagics and in the printed code
        # alike, so --augment --seed repeats exactly; the layer is the very one nnmagics trains with
        from nnmagics.data.augment_fused import COURSE_PARAMS
        from nnmagics.model.build import make_augmentation

        assert "numbers = tf.random.Generator.from_seed(0)" in code
        layer = make_augmentation(0)
        assert layer.params == COURSE_PARAMS
        assert result["augment"] == layer.get_config()["params"] and result["seed"] == 0
        check_same_run(result, accuracy_step=1 / 8)
    else:
        check_same_run(result, accuracy_step=1 / 2)   # 2 validation images


@pytest.mark.tensorflow(reason="the printed tf.data code of an image folder (off TensorFlow the printed code loads with PIL: tests/test_backends.py)")
def test_train_code_with_a_validation_folder_and_mixed_precision(kernel, samples):
    """The sample tree's validation/ folder becomes its own pipeline; mixed precision trains a copy under the policy."""
    name = "code_cnn_val"
    setup = kernel.run(f"%nn_data code_cats {samples['images']!r} --image-size 16 --batch-size 10\n"
                       f"%nn_build {name} --layers 'input 16x16x3, rescale 1/255, conv 4 3 relu, pool 2, flatten, "
                       "dense 1 sigmoid' --quiet\n"
                       f"w0_{name} = {name}.get_weights()")
    assert setup.status == "ok", setup.text
    code = code_block(kernel.run(f"%nn_train {name} code_cats --epochs 2 --mixed-precision on --seed 0 --no-live --code"))
    assert code.count("keras.utils.image_dataset_from_directory(") == 2 and "validation_data=val" in code
    assert "clone_model(" in code and "mixed_" in code and "set_global_policy" in code
    result = result_of(kernel.run(RERUN.format(code=json.dumps(code), model=name)))
    check_same_run(result, accuracy_step=1 / 60)   # 60 validation images


def test_train_code_reads_a_french_csv_as_nnmagics_did(kernel):
    """';' separators, ',' decimals, cp1252 and a text target: the printed read_csv gives the same table."""
    setup = kernel.run(
        "import numpy as np\n"
        "rng = np.random.default_rng(1)\n"
        "rows = ['X1;X2;Espèce'] + [f'{a:.3f};{b:.3f};{\"chat\" if a + b > 0 else \"chien\"}'.replace('.', ',')\n"
        "                           for a, b in rng.normal(size=(80, 2))]\n"
        "open('code_fr.csv', 'w', encoding='cp1252').write('\\n'.join(rows) + '\\n')\n"
        "%nn_data code_fr code_fr.csv\n"
        "%nn_build code_mfr --layers 'input 2, dense 4 relu, dense 1 sigmoid' --quiet\n"
        "w0_code_mfr = code_mfr.get_weights()")
    assert setup.status == "ok", setup.text
    code = code_block(kernel.run("%nn_train code_mfr code_fr --val-split 0.25 --epochs 3 --seed 0 --no-live --code"))
    assert "pd.read_csv('code_fr.csv', sep=';', decimal=',', encoding='cp1252')" in code
    assert "LabelEncoder().fit_transform(df['Espèce']" in code   # .astype(str) where pandas keeps text as objects
    result = result_of(kernel.run(RERUN.format(code=json.dumps(code), model="code_mfr")))
    check_same_run(result, accuracy_step=1 / 20)   # 20 validation rows


def test_train_code_of_a_continued_fit_says_what_it_kept(kernel, samples):
    setup = kernel.run(f"%nn_data code_d4b {samples['table']!r} --sheet data4\n"
                       "%nn_build code_m2 --preset course-dense --from code_d4b --quiet\n"
                       "%nn_train code_m2 code_d4b --epochs 2 --no-live")
    assert setup.status == "ok", setup.text
    code = code_block(kernel.run("%nn_train code_m2 code_d4b --epochs 1 --lr 0.005 --no-live --code"))
    assert "initial_epoch=2" in code and "epochs=3" in code
    assert "was compiled before" in code and "code_m2.optimizer.learning_rate = 0.005" in code
    compile(code, "<printed>", "exec")   # valid Python


# runs the printed diagnose code and compares its confusion matrix with the report's
DIAGNOSE = '''
import json
code = {code}
ns = {{"{model}": {model}, "{model}_history": {model}_history}}
exec(code, ns)
print("RESULT", json.dumps({{"cm": ns["cm"].tolist(), "shown": report.confusion.to_numpy().tolist(),
                            "results": ns["results"], "evaluation": report.evaluation}}))
'''


@pytest.mark.parametrize("kind", ["table", "images"])
def test_diagnose_code_computes_the_confusion_matrix_shown(kernel, samples, tiny_images, kind):
    model = f"code_diag_{kind}"
    if kind == "table":
        setup = (f"%nn_data code_dd {samples['table']!r} --sheet data4\n"
                 f"%nn_build {model} --preset course-dense --from code_dd --quiet\n"
                 f"%nn_train {model} code_dd --epochs 3 --seed 0 --no-live")
    else:
        setup = (f"%nn_data code_dd {tiny_images.root!r} --image-size 32 --batch-size 4\n"
                 f"%nn_build {model} --layers 'input 32x32x3, rescale 1/255, conv 4 3 relu, pool 2, flatten, "
                 "dense 1 sigmoid' --quiet\n"
                 f"%nn_train {model} code_dd --epochs 2 --seed 0 --no-live")
    assert kernel.run(setup).status == "ok"
    cell = kernel.run(f"report = %nn_diagnose {model} code_dd --curves --confusion --report --threshold 0.4 --code")
    code = code_block(cell)
    assert nnmagics_imports(code) == []
    for expected in ("confusion_matrix(y_true, y_pred", "classification_report(", "plot_confusion_matrix(",
                     ".evaluate(", ".predict(", "history.history['accuracy']", "plt.plot(epochs, acc, 'bo'"):
        assert expected in code, expected
    assert ("> 0.4" in code) == (kind == "images") and ("argmax(axis=1)" in code) == (kind == "table")
    result = result_of(kernel.run(DIAGNOSE.format(code=json.dumps(code), model=model)))
    assert result["cm"] == result["shown"]
    assert result["results"]["loss"] == pytest.approx(result["evaluation"]["loss"], rel=1e-4)
    assert result["results"]["accuracy"] == pytest.approx(result["evaluation"]["accuracy"], abs=1e-6)


def test_code_renders_values_not_text():
    from nnmagics.training.code import literal

    assert literal("x'); import os; ('") == repr("x'); import os; ('")
    assert literal(0.0010000000474974513) == "0.001"     # a float32 learning rate read back
    assert literal((32, 32)) == "(32, 32)" and literal([1]) == "[1]" and literal((1,)) == "(1,)"
    with pytest.raises(TypeError):
        literal(object())
    from nnmagics.training.code_data import shown_name

    assert shown_name("cats.validation") == "cats.validation" and shown_name("x\nimport os") == repr("x\nimport os")


@pytest.mark.tensorflow(reason="the printed tf.data code reruns to the same history")
@pytest.mark.parametrize("augment", [True, False])
def test_train_code_of_the_accelerator_path_reruns_to_the_same_history(tiny_images, monkeypatch, augment):
    """The GPU/TPU path (uint8 batches, augmentation and cast in the training step), chosen here by an
    injected device list as on a GPU machine: the printed trainer model trains exactly like nnmagics'."""
    import keras

    from nnmagics.data.augment_fused import placement
    from nnmagics.model.build import build_model
    from nnmagics.training import fit
    from nnmagics.training.code import train_code

    monkeypatch.setattr(fit, "augment_placement", lambda info: placement(["GPU:0", "CPU:0"]))
    model = build_model("input 32x32x3, rescale 1/255, conv 4 3 relu, pool 2, flatten, dense 1 sigmoid")
    start = model.get_weights()
    history = fit.train(model, tiny_images, epochs=2, seed=0, augment=augment, reporter=False,
                        model_name="gpu_m", data_name="tiny")
    recipe = history.fits[-1]["recipe"]
    assert recipe.pixels == "uint8" and recipe.augment == ("model" if augment else None)
    code = train_code(recipe)
    assert "dtype='uint8'" in code and "trainer.fit(" in code and ("x = augment(pixels)" in code) == augment
    fresh = keras.models.clone_model(model)
    fresh.set_weights(start)
    namespace = {"gpu_m": fresh}
    exec(code, namespace)  # noqa: S102 - the code nnmagics printed, made of repr()'d values
    theirs = namespace["history"].history
    assert sorted(theirs) == sorted(dict(history.history)) and len(theirs["loss"]) == 2
    assert theirs["loss"] == pytest.approx(history.history["loss"], rel=1e-3)


@pytest.mark.tensorflow(reason="the printed code repeats a tf.data pipeline")
def test_train_code_with_a_validation_table_and_fixed_steps(samples):
    """``--val DATA`` on tables reads the second table; ``--steps-per-epoch`` repeats a shuffled tf.data pipeline."""
    import keras

    from nnmagics.model.build import build_model
    from nnmagics.data.tables import load_table
    from nnmagics.training import train
    from nnmagics.training.code import train_code

    data = load_table(samples["table"], sheet="data4", name="d4")
    val = load_table(samples["table"], sheet="data4", name="d4_val")
    model = build_model(preset="course-dense", data=data)
    start = model.get_weights()
    history = train(model, data, val=val, epochs=2, steps_per_epoch=5, validation_steps=3, seed=0, reporter=False,
                    model_name="tm", data_name="d4", val_name="d4_val")
    code = train_code(history.fits[-1]["recipe"])
    assert "df_val = pd.read_excel(" in code and ".repeat()" in code and "steps_per_epoch=5" in code
    fresh = keras.models.clone_model(model)
    fresh.set_weights(start)
    namespace = {"tm": fresh}
    exec(code, namespace)  # noqa: S102 - the code nnmagics printed, made of repr()'d values
    theirs = namespace["history"].history
    assert sorted(theirs) == sorted(dict(history.history))
    assert theirs["loss"] == pytest.approx(history.history["loss"], rel=1e-3)
    assert theirs["val_loss"] == pytest.approx(history.history["val_loss"], rel=1e-3)

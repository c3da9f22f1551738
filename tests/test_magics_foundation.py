"""The extension through a real IPython shell: loading, %config, help, %nn_data and %nn_build."""
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError

HEAVY = ["tensorflow", "keras", "matplotlib", "ipywidgets", "pandas", "sklearn", "PIL"]


def test_load_ext_is_instant_and_imports_nothing_heavy():
    code = (
        "import sys, time, json\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "t = time.perf_counter(); ip.run_line_magic('load_ext', 'nnmagics'); t = time.perf_counter() - t\n"
        f"print(json.dumps({{'seconds': t, 'loaded': [m for m in {HEAVY!r} if m in sys.modules],"
        " 'magics': sorted(ip.magics_manager.magics['line'])}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["loaded"] == []
    assert report["seconds"] < 0.5
    assert {"nn_data", "nn_build"} <= set(report["magics"])


def test_config_lists_and_changes_settings(ip, capsys):
    from nnmagics.config import settings

    ip.run_line_magic("config", "NNMagics")
    assert "NNMagics.live" in capsys.readouterr().out
    ip.run_line_magic("config", "NNMagics.default_api = 'sequential'")
    try:
        ip.run_line_magic("nn_build", "m --preset course-dense --quiet")
        assert type(ip.user_ns["m"]).__name__ == "Sequential"
        assert settings().default_api == "sequential"
    finally:
        ip.run_line_magic("config", "NNMagics.default_api = 'functional'")


def test_help_shows_examples(ip, capsys):
    ip.run_line_magic("pinfo", "%nn_build")
    out = capsys.readouterr().out
    assert "--preset" in out and "%%nn_build model --api subclass" in out
    ip.run_line_magic("pinfo", "%nn_data")
    assert "--make-samples" in capsys.readouterr().out


@pytest.fixture
def book(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"X1": rng.normal(size=30), "X2": rng.normal(size=30), "Y": ["a", "b", "c"] * 10})
    path = tmp_path / "artificial_generator.xlsx"
    with pd.ExcelWriter(path) as writer:
        frame.to_excel(writer, sheet_name="data4", index=False)
    return str(path)


def test_nn_data_table_with_plot_and_code(ip, book, capsys):
    ip.run_line_magic("nn_data", f"data4 {book} --sheet data4 --plot --code")
    data = ip.user_ns["data4"]
    assert data.kind == "table" and data.class_names == ["a", "b", "c"] and len(data) == 30
    out = capsys.readouterr().out
    assert "le.fit_transform(df['Y'])" in out and "sheet_name='data4'" in out
    assert "Image object" in out  # the scatter went out as a PNG


def test_nn_data_from_a_dataframe_in_the_namespace(ip, capsys):
    ip.user_ns["df"] = pd.DataFrame({"a": [0.0, 1, 2, 3], "b": [1.0, 0, 1, 0], "label": ["x", "y", "x", "y"]})
    ip.run_line_magic("nn_data", "small df --target label")
    assert ip.user_ns["small"].features == ["a", "b"] and ip.user_ns["small"].num_classes == 2


@pytest.mark.parametrize("line, words", [
    ("d nope.xlsx", ["not found"]),
    ("d", ["Give a name and a source"]),
    ("d BOOK --sheet data9", ["no sheet 'data9'", "data4"]),
    ("d BOOK --target Z", ["no column 'Z'"]),
    ("d BOOK --batch-size 0", ["positive"]),
    ("d BOOK --batch-size x", ["whole number"]),
    ("d BOOK --show 3", ["--show draws images"]),
    ("d BOOK --bogus", ["%nn_data has no option --bogus", "%nn_data?"]),
    ("d BOOK --sheat data4", ["%nn_data has no option --sheat; did you mean --sheet?"]),
])
def test_nn_data_errors_are_usage_errors(ip, book, line, words):
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("nn_data", line.replace("BOOK", book))
    for word in words:
        assert word in str(info.value)


def test_course_tabular_steps_three_apis(ip, book, tmp_path, capsys):
    ip.run_line_magic("nn_data", f"data4 {book} --sheet data4")
    ip.run_line_magic("nn_build", "seq --preset course-dense --api sequential --code")
    out = capsys.readouterr().out
    assert "keras.Sequential([" in out and "9 inputs" not in out and "2 inputs × 3 units + 3 biases = 9" in out
    ip.run_line_magic("nn_build", "fun --layers 'dense 3 relu, dense 3 relu' --from data4")
    ip.run_cell_magic("nn_build", "sub --api subclass --weights", "input 2\ndense 3 relu\ndense 3 relu\ndense 3 softmax\n")
    out = capsys.readouterr().out
    assert "kernel (2, 3)" in out and "bias (3,)" in out
    counts = {n: ip.user_ns[n].count_params() for n in ("seq", "fun", "sub")}
    assert counts == {"seq": 33, "fun": 33, "sub": 33}
    path = str(tmp_path / "course.weights.h5")
    ip.run_line_magic("nn_build", f"fun --save {path} --quiet")
    ip.run_line_magic("nn_build", f"sub --load {path} --quiet")
    for a, b in zip(ip.user_ns["fun"].get_weights(), ip.user_ns["sub"].get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(UsageError, match="another architecture"):
        ip.run_line_magic("nn_build", f"other --layers 'input 2, dense 4 relu, dense 3 softmax' --load {path}")


def test_code_output_is_runnable_plain_keras(ip, capsys):
    ip.run_line_magic("nn_build", "cnn --preset course-cnn --dropout 0.5 --code --quiet")
    code = capsys.readouterr().out
    namespace = {}
    exec(code, namespace)
    assert namespace["model"].count_params() == ip.user_ns["cnn"].count_params() == 9_494_561
    assert "layers.Dropout(0.5)" in code


@pytest.mark.parametrize("line, words", [
    ("m --layers 'input 2, dense 3 rleu'", ["activation 'rleu'", "relu"]),
    ("m --layers 'input 2, dens 3'", ["layer 'dens'", "dense"]),
    ("m --layers 'input 2, dense many'", ["not a whole number"]),
    ("m --layers 'input 2, conv 16 3 relu'", ["needs image inputs"]),
    ("m --layers 'input 2, dropout 1.5'", ["[0, 1)"]),
    ("m --preset course-dens", ["Did you mean 'course-dense'"]),
    ("m --preset course-dense --api funky", ["Unknown API"]),
    ("m --preset course-dense --dropout lots", ["--dropout needs a number"]),
    ("m --from nothing", ["no dataset named 'nothing'"]),
    ("--preset course-dense", ["Give the model a name"]),
    ("never_built --weights", ["no model named 'never_built'"]),
    ("m --preset course-dense --load missing.weights.h5", ["not found"]),
    ("m --layers 'input 2, dense 3' --code 'x", ["check the quotes"]),
])
def test_nn_build_errors_are_usage_errors(ip, line, words):
    with pytest.raises(UsageError) as info:
        ip.run_line_magic("nn_build", line)
    for word in words:
        assert word in str(info.value)


def test_cell_and_layers_together_are_refused(ip):
    with pytest.raises(UsageError, match="either in the cell or with --layers"):
        ip.run_cell_magic("nn_build", "m --layers 'dense 3'", "input 2\ndense 3 softmax")


@pytest.mark.tensorflow(reason="TensorFlow's start-up chatter")
def test_tensorflow_start_up_chatter_is_kept_out_of_the_notebook():
    def stderr_of(load_extension: bool) -> str:
        code = ("from IPython.core.interactiveshell import InteractiveShell\n"
                "ip = InteractiveShell.instance()\n"
                + ("ip.run_line_magic('load_ext', 'nnmagics')\n" if load_extension else "")
                + "import tensorflow as tf\nprint(tf.constant(2).numpy() * 21)\n")
        env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
        assert done.stdout.strip().endswith("42")
        return done.stderr

    baseline = stderr_of(load_extension=False)
    if "absl" not in baseline and "cuda" not in baseline.lower():
        pytest.skip("this TensorFlow build prints nothing at start-up here")
    quiet = stderr_of(load_extension=True)
    assert "absl" not in quiet and "cuda" not in quiet.lower()


def test_tensorflow_retracing_warning_is_kept_out_of_the_notebook(ip):
    """Several fits in one notebook trace several training steps, by design: TensorFlow's warning about it is dropped."""
    import logging

    records: list = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("tensorflow")
    logger.addHandler(handler)
    try:
        logger.warning("5 out of the last 9 calls to <function f at 0x1> triggered tf.function retracing. Tracing is "
                       "expensive and the excessive number of tracings could be due to (1) creating @tf.function …")
        logger.warning("another TensorFlow warning")
    finally:
        logger.removeHandler(handler)
    assert [record.getMessage() for record in records] == ["another TensorFlow warning"]


def test_data_code_output_is_runnable_and_loads_the_same_data(ip, samples, capsys):
    """``%nn_data --code`` prints pandas/Keras that, run as is, loads what the magic loaded."""
    ip.run_line_magic("nn_data", f"data4 {samples['table']} --sheet data4 --code")
    code = capsys.readouterr().out
    code = code[code.index("import pandas"):]         # the dataset's one-line description comes first
    namespace: dict = {}
    exec(code, namespace)  # noqa: S102 - the code nnmagics printed, made of repr()'d values
    data4 = ip.user_ns["data4"]
    np.testing.assert_array_equal(namespace["X"], data4.X)
    np.testing.assert_array_equal(namespace["y"], data4.y)

    ip.run_line_magic("nn_data", f"cats {samples['images']} --image-size 32 --batch-size 8 --code")
    code = capsys.readouterr().out
    code = code[code.index("import keras"):]          # the lines before it say which names were made
    namespace = {}
    exec(code, namespace)  # noqa: S102
    cats = ip.user_ns["cats"]
    if os.environ["KERAS_BACKEND"] != "tensorflow":   # numpy arrays, the files in nnmagics' order
        assert namespace["x"].shape == (len(cats), 32, 32, 3)
        np.testing.assert_array_equal(namespace["labels"], cats.labels)
        return
    train = namespace["train"]
    assert train.class_names == cats.class_names
    images, labels = next(iter(train))
    assert tuple(images.shape) == (8, 32, 32, 3) and tuple(labels.shape) == (8, 1)
    assert sum(int(b.shape[0]) for b, _ in train) == len(cats)

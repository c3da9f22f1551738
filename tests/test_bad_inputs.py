"""Bad inputs through every magic, in one real kernel: what the cell shows is one sentence, never a traceback.

Each row is ``(bad cell, expected sentence (regex))``; the cell runs in a real ipykernel (the
``kernel`` fixture) against a small world of data and models made once (``world``). A row passes
when the execute reply is an error (so "Run all" stops there), the visible text of the cell is at
most two lines, matches the sentence and shows no traceback. ``kind="warning"``/``"note"`` rows
succeed and show their one line; ``then`` is a good cell that must still work afterwards (the
model or data the bad cell touched is left usable).
"""
from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass

import pytest

pytestmark = pytest.mark.notebook


@dataclass(frozen=True)
class Row:
    """One bad input: the cell, the regex of its sentence, and what must hold afterwards."""

    id: str
    cell: str
    expect: str
    kind: str = "error"          # error | warning (cell succeeds, shows the warning) | note (same, a remark)
    then: str | None = None      # a good cell that must succeed after the bad one


def rows(*items) -> list[Row]:
    return [Row(*item) if isinstance(item, tuple) else item for item in items]


# -- the world every row runs against -------------------------------------------------------------
WORLD_FILES = textwrap.dedent('''
    import os, numpy as np, pandas as pd
    rng = np.random.default_rng(0)
    good = pd.DataFrame({"X1": rng.normal(size=40), "X2": rng.normal(size=40), "Y": ["a", "b"] * 20})
    good.to_csv("good.csv", index=False)
    def variant(name, column, row, value, frame=good):
        bad = frame.astype({column: object}).copy(); bad.loc[row, column] = value; bad.to_csv(name, index=False)
    variant("inf.csv", "X1", 3, "inf"); variant("ninf.csv", "X2", 5, "-inf"); variant("big.csv", "X1", 7, "1e39")
    variant("nan.csv", "X2", 2, None); variant("text.csv", "X1", 4, "abc"); variant("tnan.csv", "Y", 6, None)
    numeric = good.assign(Y=[0, 1] * 20); variant("tinf.csv", "Y", 1, "inf", numeric)
    good.assign(Y="a").to_csv("onecls.csv", index=False)
    open("dup.csv", "w").write("X1,X1,Y\\n1,2,a\\n3,4,b\\n")
    open("head.csv", "w").write("X1,X2,Y\\n")
    open("empty.csv", "w").write("")
    open("ragged.csv", "w").write("X1,X2,Y\\n1,2,a\\n3,4,b,7\\n")
    open("onecol.csv", "w").write("X1 X2 Y\\n1 2 a\\n3 4 b\\n")
    open("quoted.csv", "w").write('X1,X2,Y\\n"1,5",2,a\\n"3,1",4,b\\n')
    open("notes.txt", "w").write("not a table")
    open("notzip.zip", "w").write("not a zip archive")
    open("corrupt.xlsx", "w").write("not an excel file")
    open("fr.csv", "wb").write("X1;X2;Y\\n1,5;2,25;été\\n-0,5;3;hiver\\n2;4,5;été\\n".encode("cp1252"))
    open("tab.csv", "w").write("X1\\tX2\\tY\\n1.5\\t2\\ta\\n3\\t4\\tb\\n")
    pd.DataFrame({"X1": range(120), "X2": range(120), "Y": np.arange(120) / 7}).to_csv("cont.csv", index=False)
    frame_dup = pd.DataFrame([[1, 2, "a"], [3, 4, "b"]], columns=["X1", "X1", "Y"])
    os.makedirs("emptydir", exist_ok=True)
    notmodel = 5
''')

WORLD_MAGICS = [
    "%nn_data --make-samples samples",
    "%nn_data d good.csv",
    "%nn_data d3 samples/artificial_generator.xlsx --sheet data4",
    "%nn_data imgs samples/cats_and_dogs_filtered --image-size 32 --batch-size 20",
    "%nn_build m --layers 'dense 4 relu' --from d --quiet",
    "%nn_build m3 --preset course-dense --quiet",
    "%nn_build fresh --layers 'dense 4 relu' --from d --quiet",
    "%nn_build cnn --layers 'rescale 1/255, conv 4 3 relu, pool 2, flatten' --from imgs --quiet",
    "%nn_train m d --epochs 1 --no-live",
    "%nn_train cnn imgs --epochs 1 --no-live",
    "%nn_data dless good.csv --batch-size 8\ndless = dless.subset(range(30), name='dless')",
]


@pytest.fixture(scope="module")
def world(kernel, tmp_path_factory):
    """The kernel, working in a fresh folder holding the small files, datasets and models the rows use."""
    folder = tmp_path_factory.mktemp("bad_inputs")
    for cell in [f"import os; os.chdir({str(folder)!r})", WORLD_FILES, *WORLD_MAGICS]:
        result = kernel.run(cell)
        assert result.status == "ok", f"{cell}\n{result.text}"
    yield kernel
    kernel.run(f"os.chdir({str(kernel.folder)!r})")


# -- the table -------------------------------------------------------------------------------------
DATA_ROWS = rows(
    ("data-nothing", "%nn_data", r"Give a name and a source"),
    ("data-no-source", "%nn_data d2", r"Give a name and a source"),
    ("data-missing-file", "%nn_data d2 missing.csv", r"'missing.csv' not found; check the path"),
    ("data-not-a-table", "%nn_data d2 notes.txt", r"neither a table .* nor a \.zip"),
    ("data-sheet-on-csv", "%nn_data d2 good.csv --sheet data4", r"--sheet applies to Excel files only"),
    ("data-unknown-sheet", "%nn_data d2 samples/artificial_generator.xlsx --sheet data9",
     r"has no sheet 'data9'; its sheets are: .*data4"),
    ("data-unknown-target", "%nn_data d2 good.csv --target Z", r"no column 'Z'; the columns are: X1, X2, Y"),
    ("data-unknown-feature", "%nn_data d2 good.csv --features X1,X9", r"no column 'X9'"),
    ("data-target-in-features", "%nn_data d2 good.csv --features X1,Y",
     r"'Y' is the target; remove it from --features"),
    ("data-empty-features", "%nn_data d2 good.csv --features ,", r"--features needs at least one column"),
    ("data-text-feature", "%nn_data d2 text.csv", r"Feature column 'X1' holds text \(index 4\)"),
    ("data-missing-feature", "%nn_data d2 nan.csv", r"Feature column 'X2' has missing values \(index 2\)"),
    ("data-missing-target", "%nn_data d2 tnan.csv", r"Target column 'Y' has missing values \(index 6\)"),
    ("data-single-class", "%nn_data d2 onecls.csv", r"single class \('a'\)"),
    ("data-inf-feature", "%nn_data d2 inf.csv",
     r"Feature column 'X1' has infinite values \(index 3: inf\); replace or drop"),
    ("data-minus-inf-feature", "%nn_data d2 ninf.csv", r"Feature column 'X2' has infinite values \(index 5: -inf\)"),
    ("data-float32-overflow", "%nn_data d2 big.csv",
     r"Feature column 'X1' has values too large for float32 .*\(index 7: 1e\+39\)"),
    ("data-inf-target", "%nn_data d2 tinf.csv", r"Target column 'Y' has infinite values \(index 1: inf\)"),
    ("data-duplicate-columns-csv", "%nn_data d2 dup.csv",
     r"Column name 'X1' appears 2 times in 'dup.csv' \(columns 1, 2\)"),
    ("data-duplicate-columns-frame", "%nn_data d2 frame_dup", r"Column name 'X1' appears 2 times in the DataFrame"),
    ("data-header-only", "%nn_data d2 head.csv", r"'head.csv' has column names \(X1, X2, Y\) but no rows"),
    ("data-empty-csv", "%nn_data d2 empty.csv", r"'empty.csv' is empty"),
    ("data-ragged-csv", "%nn_data d2 ragged.csv",
     r"Could not read 'ragged.csv' as CSV .*Expected 3 fields in line 3, saw 4"),
    ("data-space-separated", "%nn_data d2 onecol.csv", r"reads as a single column 'X1 X2 Y'; separate the values"),
    ("data-quoted-decimal-commas", "%nn_data d2 quoted.csv", r"'X1' holds numbers written with a decimal comma"),
    ("data-corrupt-excel", "%nn_data d2 corrupt.xlsx",
     r"Could not open 'corrupt.xlsx' as an Excel file .*export it as \.csv"),
    ("data-unknown-class-mode", "%nn_data d2 good.csv --class-mode binry", r"Unknown class mode 'binry'.*'binary'"),
    ("data-binary-three-classes", "%nn_data d2 samples/artificial_generator.xlsx --sheet data4 --class-mode binary",
     r"--class-mode binary needs two classes"),
    ("data-batch-size-zero", "%nn_data d2 good.csv --batch-size 0", r"--batch-size must be a positive whole number, not '0'"),
    ("data-batch-size-text", "%nn_data d2 good.csv --batch-size ten", r"--batch-size must be a positive whole number, not 'ten'"),
    ("data-image-size-on-table", "%nn_data d2 good.csv --image-size 32", r"--image-size applies to image folders"),
    ("data-show-on-table", "%nn_data d2 good.csv --show 3", r"--show draws images; for a table use --plot"),
    ("data-show-zero", "%nn_data d2 samples/cats_and_dogs_filtered --show 0", r"--show needs a positive number"),
    ("data-plot-on-images", "%nn_data d2 samples/cats_and_dogs_filtered --image-size 32 --plot",
     r"--plot draws a table's two features"),
    ("data-target-on-images", "%nn_data d2 samples/cats_and_dogs_filtered --target Y", r"--target applies to tables"),
    ("data-image-size-text", "%nn_data d2 samples/cats_and_dogs_filtered --image-size big",
     r"Invalid image size 'big'"),
    ("data-image-class-mode", "%nn_data d2 samples/cats_and_dogs_filtered --class-mode foo",
     r"Unknown class mode 'foo'\. Choose one of: binary, categorical, int"),
    ("data-empty-folder", "%nn_data d2 emptydir", r"emptydir' has no class sub-folders"),
    ("data-bad-name", "%nn_data 2bad good.csv", r"'2bad' is not a valid dataset name"),
    ("data-image-size-zero", "%nn_data d2 samples/cats_and_dogs_filtered --image-size 0", r"Invalid image size '0'"),
    ("data-image-size-huge", "%nn_data d2 samples/cats_and_dogs_filtered --image-size 100000",
     r"Image size 100000×100000 is too large"),
    ("data-image-batch-zero", "%nn_data d2 samples/cats_and_dogs_filtered --batch-size 0",
     r"--batch-size must be a positive whole number, not '0'"),
    ("data-not-a-zip", "%nn_data d2 notzip.zip", r"'notzip.zip' is not a valid zip archive"),
    ("data-samples-unwritable", "%nn_data --make-samples /proc/nope",
     r"Writing the sample data into '/proc/nope' failed"),
    ("data-unknown-option", "%nn_data d2 good.csv --bogus", r"^UsageError: %nn_data has no option --bogus; see %nn_data\? for its options\.$"),
    ("data-misspelt-option", "%nn_data d2 samples/cats_and_dogs_filtered --augmnt",
     r"^UsageError: %nn_data has no option --augmnt; did you mean --augment\?$"),
    ("data-misspelt-option-value", "%nn_data d2 good.csv --targt Y", r"%nn_data has no option --targt; did you mean --target\?"),
    ("data-option-missing-value", "%nn_data d2 good.csv --sheet", r"^UsageError: %nn_data --sheet needs a value: Excel sheet to read"),
    ("data-show-not-a-number", "%nn_data d2 samples/cats_and_dogs_filtered --show x",
     r"%nn_data --show needs a whole number, not 'x'\."),
    ("data-augment-table", "%nn_data d2 good.csv --augment", r"--augment applies to image folders"),
    ("data-augment-unknown-param", "%nn_data d2 samples/cats_and_dogs_filtered --augment 'rotaton_range=20'",
     r"--augment: Unknown augmentation parameter 'rotaton_range'\. Did you mean 'rotation_range'\?"),
    ("data-augment-bad-value", "%nn_data d2 samples/cats_and_dogs_filtered --augment 'zoom_range=2'",
     r"--augment: zoom_range must be a float in \[0, 1\)"),
    ("data-augment-not-keywords", "%nn_data d2 samples/cats_and_dogs_filtered --augment 40",
     r"--augment takes ImageDataGenerator's keywords as name=value pairs, not '40'"),
    ("data-augment-rescale", "%nn_data d2 samples/cats_and_dogs_filtered --augment 'rescale=1/255'",
     r"rescale is not an augmentation; give it to %nn_data as --rescale 1/255"),
    ("data-seed-without-augment", "%nn_data d2 samples/cats_and_dogs_filtered --seed 1", r"--seed goes with --augment"),
    ("data-augment-seed-text", "%nn_data d2 samples/cats_and_dogs_filtered --augment --seed x",
     r"--seed must be a whole number of at least 0, not 'x'"),
    ("data-unbalanced-quote", '%nn_data d2 "good.csv', r"check the quotes"),
)

DATA_NOTES = rows(
    Row("data-french-csv", "%nn_data fr fr.csv",
        r"^Read as CSV with ';' separator, ',' decimals, cp1252 encoding\.$", kind="note",
        then="assert fr.X.tolist()[0] == [1.5, 2.25] and fr.class_names == ['hiver', 'été']"),
    Row("data-tab-csv", "%nn_data tb tab.csv", r"^Read as CSV with tab separator, '\.' decimals, UTF-8 encoding\.$",
        kind="note", then="assert tb.X.shape == (2, 2)"),
    Row("data-continuous-target", "%nn_data cont cont.csv",
        r"^Warning: target 'Y' has 120 different values.*not regression", kind="warning"),
)

BUILD_ROWS = rows(
    ("build-nothing", "%nn_build", r"Give the model a name"),
    ("build-misspelt-activation", "%nn_build m2 --layers 'dense 3 rleu'",
     r"Unknown activation 'rleu'\. Did you mean 'relu'\?"),
    ("build-units-text", "%nn_build m2 --layers 'dense x relu'", r"Cannot read 'dense x relu'"),
    ("build-units-zero", "%nn_build m2 --layers 'dense 0'",
     r"Cannot read 'dense 0': the number of units must be positive"),
    ("build-dropout-rate", "%nn_build m2 --layers 'input 2, dense 3, dropout 1.5'",
     r"dropout rate must be in \[0, 1\), not 1\.5"),
    ("build-conv-missing-kernel", "%nn_build m2 --layers 'input 8x8x3, conv 3'",
     r"Cannot read 'conv 3'.*conv FILTERS KERNEL"),
    ("build-unknown-layer", "%nn_build m2 --layers 'input 2, foo 3'", r"Unknown layer 'foo'"),
    ("build-unknown-api", "%nn_build m2 --layers 'input 2, dense 3' --api seq", r"Unknown API 'seq'.*'sequential'"),
    ("build-unknown-preset", "%nn_build m2 --preset course-foo", r"Unknown preset 'course-foo'"),
    ("build-dropout-text", "%nn_build m2 --preset course-dense --dropout abc",
     r"--dropout needs a number in \[0, 1\), not 'abc'"),
    ("build-dropout-too-big", "%nn_build m2 --preset course-dense --dropout 1.5",
     r"dropout rate must be in \[0, 1\), not 1\.5"),
    ("build-from-missing", "%nn_build m2 --from nothing", r"no dataset named 'nothing'"),
    ("build-existing-missing", "%nn_build nothing --code", r"no model named 'nothing'"),
    ("build-not-a-model", "%nn_build notmodel --code", r"'notmodel' is a int, not a Keras model"),
    ("build-load-missing", "%nn_build m --load missing.weights.h5", r"Weights file 'missing\.weights\.h5' not found"),
    ("build-cell-and-layers", "%%nn_build m2 --layers 'dense 3'\ninput 2\ndense 3",
     r"either in the cell or with --layers"),
    ("build-cell-misspelt", "%%nn_build m2\ninput 2\ndense 3 rleu", r"Unknown activation 'rleu'"),
    ("build-bad-name", "%nn_build 2x --layers 'input 2, dense 3'", r"'2x' is not a valid model name"),
    Row("build-code-in-name", """%nn_build 'm" if __import__("os").system("touch pwned") else "m' --layers 'input 2'""",
        r"is not a valid model name", then="assert not os.path.exists('pwned')"),
    ("build-slash-in-name", "%nn_build a/b --layers 'input 2, dense 3'", r"'a/b' is not a valid model name"),
    ("build-absurd-size", "%nn_build big --layers 'input 100000, dense 100000'", r"10,000,100,000 parameters"),
    ("build-dense-on-images", "%nn_build m2 --layers 'input 8x8x3, dense 3'",
     r"Add 'flatten' \(or 'gap'\) before the Dense"),
    ("build-rescale-zero", "%nn_build m2 --layers 'rescale 1/0'", r"Cannot read 'rescale 1/0'"),
    ("build-unknown-option", "%nn_build m2 --layers 'input 2, dense 3' --bogus", r"%nn_build has no option --bogus; see %nn_build\?"),
    ("build-misspelt-preset", "%nn_build m2 --presett course-dense", r"%nn_build has no option --presett; did you mean --preset\?"),
    ("build-augment-elsewhere", "%nn_build m2 --preset course-dense --augment",
     r"^UsageError: %nn_build has no option --augment; --augment belongs to %nn_data/%nn_train\.$"),
    ("build-unbalanced-quote", "%nn_build m2 --layers 'input 2, dense 3", r"check the quotes"),
    Row("build-bad-layers-keep-model", "%nn_build m --layers 'dense 3 rleu'", r"Unknown activation 'rleu'",
        then="assert m.count_params() == 17 and m_history.epochs_done >= 1"),
)

TRAIN_ROWS = rows(
    ("train-nothing", "%nn_train", r"Give a model and a dataset"),
    ("train-no-data", "%nn_train m", r"Give a model and a dataset"),
    ("train-unknown-model", "%nn_train nope d", r"no model named 'nope'"),
    ("train-unknown-data", "%nn_train m nope", r"no dataset named 'nope'"),
    ("train-not-a-model", "%nn_train notmodel d", r"'notmodel' is an int, not a Keras model"),
    ("train-epochs-text", "%nn_train m d --epochs ten", r"--epochs must be a positive whole number, not 'ten'"),
    ("train-epochs-zero", "%nn_train m d --epochs 0", r"positive whole number, not 0"),
    ("train-batch-size-negative", "%nn_train m d --batch-size -1 --epochs 1", r"positive whole number, not -1"),
    ("train-lr-text", "%nn_train m d --lr abc", r"--lr, the learning rate must be a positive number, not 'abc'"),
    ("train-lr-negative", "%nn_train m d --lr -1 --epochs 1", r"learning rate must be a positive number"),
    ("train-unknown-optimizer", "%nn_train m d --optimizer adamm --epochs 1", r"'adamm'.*Did you mean 'adam'"),
    ("train-unknown-loss", "%nn_train m d --loss binary_crossentropi --epochs 1",
     r"Unknown loss 'binary_crossentropi'"),
    ("train-loss-mismatch", "%nn_train m3 d3 --loss binary_crossentropy --epochs 1",
     r"expects one sigmoid output unit but 'm3' ends with 3 softmax"),
    ("train-val-split-range", "%nn_train m d --val-split 1.5 --epochs 1", r"--val-split must be a number in \(0, 1\), not 1\.5"),
    ("train-val-split-text", "%nn_train m d --val-split x", r"--val-split must be a number in \(0, 1\), not 'x'"),
    ("train-val-and-split", "%nn_train m d --val d --val-split 0.2 --epochs 1", r"either --val DATA or --val-split"),
    ("train-augment-table", "%nn_train m d --augment --epochs 1", r"--augment applies to image data"),
    ("train-augment-bad-param", "%nn_train cnn imgs --augment 'rotaton_range=5' --epochs 1",
     r"rotaton_range.*Did you mean 'rotation_range'"),
    ("train-momentum-range", "%nn_train m d --momentum 1.5 --epochs 1", r"--momentum must be a number in \[0, 1\), not 1\.5"),
    ("train-momentum-adam", "%nn_train m d --optimizer adam --momentum 0.9 --epochs 1",
     r"--momentum applies to sgd and rmsprop; adam has none"),
    ("train-table-model-on-images", "%nn_train m imgs --epochs 1", r"takes tables .* holds images"),
    ("train-image-model-on-table", "%nn_train cnn d --epochs 1", r"takes images .* holds a table"),
    ("train-classes-mismatch", "%nn_train m d3 --epochs 1", r"'m' ends with 1 unit\(s\) but 'd3' has 3 classes"),
    ("train-val-steps-no-val", "%nn_train m d --validation-steps 2 --epochs 1",
     r"--validation-steps needs validation data"),
    ("train-early-stop-zero", "%nn_train m d --early-stop 0 --epochs 1",
     r"--early-stop .* must be a positive whole number, not 0"),
    ("train-steps-zero", "%nn_train m d --steps-per-epoch 0 --epochs 1",
     r"--steps-per-epoch must be a positive whole number"),
    ("train-seed-text", "%nn_train m d --seed x", r"--seed must be a whole number of at least 0, not 'x'"),
    ("train-empty-checkpoint", "%nn_train m d --checkpoint '' --epochs 1", r"--checkpoint needs a file path"),
    ("train-val-other-classes", "%nn_train m d --val d3 --epochs 1",
     r"Validation data 'd3' has classes .* but training data 'd' has"),
    ("train-unknown-option", "%nn_train m d --bogus", r"%nn_train has no option --bogus; see %nn_train\? for its options"),
    ("train-misspelt-option", "%nn_train m d --val-splt 0.2", r"^UsageError: %nn_train has no option --val-splt; did you mean --val-split\?$"),
    ("train-misspelt-augment", "%nn_train cnn imgs --augmnt", r"%nn_train has no option --augmnt; did you mean --augment\?"),
    ("train-epochs-missing-value", "%nn_train m d --epochs", r"^UsageError: %nn_train --epochs needs a value: number of epochs \(default 10\)\.$"),
    ("train-mixed-precision", "%nn_train m d --mixed-precision maybe --epochs 1", r"Unknown --mixed-precision 'maybe'"),
    Row("train-unknown-metric", "%nn_train m d --metrics foo --epochs 1 --no-live", r"Unknown metric 'foo'",
        then="%nn_train m d --epochs 1 --no-live"),
    Row("train-bad-option-keeps-model", "%nn_train m d --loss binary_crossentropi --epochs 1", r"Unknown loss",
        then="%nn_train m d --epochs 1 --no-live"),
)

DIAGNOSE_ROWS = rows(
    ("diagnose-nothing", "%nn_diagnose", r"Give the model to diagnose"),
    ("diagnose-unknown-model", "%nn_diagnose nope", r"no model named 'nope'"),
    ("diagnose-untrained", "%nn_diagnose fresh", r"'fresh' has not been trained yet"),
    ("diagnose-threshold-range", "%nn_diagnose m d --threshold 1.5",
     r"--threshold must be a number in \(0, 1\), not '1\.5'"),
    ("diagnose-threshold-text", "%nn_diagnose m d --threshold high", r"threshold must be a number .*not 'high'"),
    ("diagnose-confusion-without-data", "%nn_diagnose m --confusion", r"--confusion needs data"),
    ("diagnose-predictions-zero", "%nn_diagnose m d --predictions 0", r"--predictions must be a positive whole number, not '0'"),
    ("diagnose-predictions-text", "%nn_diagnose m d --predictions x",
     r"--predictions must be a positive whole number, not 'x'"),
    ("diagnose-shape-mismatch", "%nn_diagnose m imgs",
     r"'m' expects inputs of shape \(2,\) but 'imgs' gives \(32, 32, 3\)"),
    ("diagnose-class-names-count", "%nn_diagnose m d --class-names a,b,c", r"--class-names gives 3 name"),
    ("diagnose-feature-maps-no-conv", "%nn_diagnose m --feature-maps imgs[0]", r"no convolution or pooling layer"),
    ("diagnose-feature-maps-missing", "%nn_diagnose cnn --feature-maps missing.png", r"No such image file"),
    ("diagnose-feature-maps-range", "%nn_diagnose cnn --feature-maps imgs[9999]",
     r"Index 9999 is out of range: 'imgs' has \d+ images"),
    ("diagnose-feature-maps-not-image", "%nn_diagnose cnn --feature-maps good.csv",
     r"'good.csv' is not an image file"),
    ("diagnose-augment-preview-table", "%nn_diagnose m --augment-preview d",
     r"--augment-preview needs an image dataset, but 'd' is a table"),
    ("diagnose-unknown-layer", "%nn_diagnose cnn --feature-maps imgs[0] --layer conv99",
     r"no convolution or pooling layer named 'conv99'; choose one of"),
    ("diagnose-gradcam-no-conv", "%nn_diagnose m --gradcam imgs[0:2]",
     r"^UsageError: Model 'm' has no convolution layer: Grad-CAM needs one"),
    ("diagnose-gradcam-misspelt-layer", "%nn_diagnose cnn --gradcam imgs[0:2] --layer conv2", r"Did you mean 'conv2d"),
    ("diagnose-gradcam-layer-no-maps", "%nn_diagnose cnn --gradcam imgs[0:2] --layer {cnn.layers[-2].name}",   # its Flatten
     r"gives 2-D outputs, not maps: Grad-CAM needs a layer"),
    ("diagnose-gradcam-empty-slice", "%nn_diagnose cnn --gradcam imgs[5:5]", r"'imgs\[5:5\]' holds no image"),
    ("diagnose-gradcam-too-many", "%nn_diagnose cnn --gradcam imgs[0:40]", r"Grad-CAM shows at most 32 images at once, not 40"),
    ("diagnose-gradcam-table", "%nn_diagnose cnn --gradcam d[0:4]", r"--gradcam needs an image dataset, but 'd' is a table"),
    ("diagnose-gradcam-unknown-data", "%nn_diagnose cnn --gradcam nope[0:4]", r"no dataset named 'nope'"),
    ("diagnose-gradcam-missing-file", "%nn_diagnose cnn --gradcam missing.png", r"No such image file"),
    ("diagnose-unknown-option", "%nn_diagnose m --bogus", r"%nn_diagnose has no option --bogus"),
    ("diagnose-misspelt-option", "%nn_diagnose m --confusoin", r"%nn_diagnose has no option --confusoin; did you mean --confusion\?"),
    ("diagnose-augment-elsewhere", "%nn_diagnose m --augment",
     r"%nn_diagnose has no option --augment; --augment belongs to %nn_data/%nn_train \(here it reads as --augment-preview\)"),
)

TRANSFER_ROWS = rows(
    ("vgg-nothing", "%vgg_transfer", r"Say what to do"),
    ("vgg-unknown-command", "%vgg_transfer foo", r"Unknown %vgg_transfer command 'foo'"),
    ("vgg-unknown-group", "%vgg_transfer labels --group unicorn", r"Unknown label group"),
    ("vgg-no-label", "%vgg_transfer labels --contains zzzz", r"No ImageNet label contains 'zzzz'"),
    ("vgg-labels-positional", "%vgg_transfer labels dog", r"labels takes options only"),
    ("vgg-predict-nothing", "%vgg_transfer predict", r"Give an image"),
    ("vgg-predict-missing", "%vgg_transfer predict missing.jpg --weights none",
     r"No such image file or folder: 'missing\.jpg'"),
    ("vgg-predict-bad-index", "%vgg_transfer predict imgs[9999] --weights none",
     r"Index 9999 is out of range: 'imgs' has \d+ images"),
    ("vgg-predict-unknown-data", "%vgg_transfer predict nope[0] --weights none", r"no dataset named 'nope'"),
    ("vgg-predict-model-not-a-model", "%vgg_transfer predict imgs[0] --model notmodel",
     r"'notmodel' is an int, not a Keras model"),
    ("vgg-build-no-name", "%vgg_transfer build", r"Give the model a name"),
    ("vgg-build-classes-text", "%vgg_transfer build tl --classes x --weights none",
     r"--classes must be a positive whole number, not 'x'"),
    ("vgg-build-one-class", "%vgg_transfer build tl --classes 1 --weights none", r"needs at least 2 classes, not 1"),
    ("vgg-build-unknown-mode", "%vgg_transfer build tl --classes 2 --mode foo --weights none",
     r"Unknown transfer mode 'foo'"),
    ("vgg-build-unknown-block", "%vgg_transfer build tl --classes 2 --fine-tune block9 --weights none",
     r"Unknown VGG16 block 'block9'\. Did you mean 'block5'\?"),
    ("vgg-build-weights-missing", "%vgg_transfer build tl --classes 2 --weights missing.h5",
     r"Weights file 'missing\.h5' not found"),
    ("vgg-option-wrong-command", "%vgg_transfer labels --top 3", r"--top applies to predict"),
    ("vgg-lr-text", "%vgg_transfer build tl --classes 2 --fine-tune block5 --lr fast --weights none",
     r"--lr must be a positive number, not 'fast'"),
    ("vgg-build-from-table", "%vgg_transfer build tl --classes 2 --from d --weights none",
     r"--from needs an image dataset"),
    ("vgg-unknown-option", "%vgg_transfer labels --bogus", r"%vgg_transfer has no option --bogus"),
    ("vgg-misspelt-option", "%vgg_transfer labels --contians dog", r"%vgg_transfer has no option --contians; did you mean --contains\?"),
)

RUNS_ROWS = rows(
    ("lr-find-nothing", "%nn_lr_find", r"^UsageError: Give a model and a dataset, e\.g\. %nn_lr_find cnn cats\.$"),
    ("lr-find-end-below-start", "%nn_lr_find m d --start 1 --end 0.1",
     r"--end \(0\.1\) must be larger than --start \(1\); e\.g\. --start 1e-7 --end 10\.$"),
    ("lr-find-few-steps", "%nn_lr_find m d --steps 3", r"--steps must be a whole number of at least 10, not '3'"),
    ("lr-find-image-model-on-table", "%nn_lr_find cnn d", r"takes images .* holds a table"),
    ("runs-unknown-action", "%nn_runs lod m", r"^UsageError: %nn_runs takes list or load, not 'lod'; did you mean load\?$"),
    ("runs-a-name-alone", "%nn_runs m", r"not 'm'; to load that run: %nn_runs load m\.$"),
    ("runs-load-nothing", "%nn_runs load", r"Give the run to load, e\.g\. %nn_runs load cnn"),
    ("runs-load-unknown", "%nn_runs load nope", r"There is no recorded run named 'nope' in .*; %nn_runs lists them\.$"),
    ("runs-sort-unknown", "%nn_runs --sort val_los", r"--sort takes a column of the runs table, not 'val_los'\. Did you mean 'val_loss'\?"),
    # (another network, a runs folder that cannot be written: tests/test_runs.py; one more fit in this kernel tips
    # TensorFlow's retracing warning into test_nan_loss_stops_training_and_says_so)
    ("train-resume-other-data", "%nn_train m dless --epochs 1 --resume",
     r"Run 'm-\d+' was trained on other data than 'dless' \(it was 40 rows .*, now 30 rows"),
)

OTHER_ROWS = rows(
    ("gpu-unknown-option", "%nn_gpu --foo", r"^UsageError: %nn_gpu has no option --foo; see %nn_gpu\? for its options\.$"),
    ("gpu-extra-argument", "%nn_gpu extra", r"%nn_gpu got more arguments than it takes \('extra'\)"),
    ("gpu-augment-elsewhere", "%nn_gpu --augment", r"%nn_gpu has no option --augment; --augment belongs to %nn_data/%nn_train"),
    # IPython's %config logs a rejected value in one line and keeps the old one (its reply is 'ok')
    Row("config-unknown-api", "%config NNMagics.default_api = 'foo'", r"expected any of \['functional'",
        kind="warning", then="from nnmagics.config import settings; assert settings().default_api == 'functional'"),
    Row("config-batch-size-text", "%config NNMagics.batch_size = 'x'", r"'batch_size' trait .* expected an int",
        kind="warning", then="assert settings().batch_size == 32"),
    Row("config-batch-size-zero", "%config NNMagics.batch_size = 0", r"batch_size.*less than 1",
        kind="warning", then="assert settings().batch_size == 32"),
    Row("config-language-unknown", "%config NNMagics.language = 'de'", r"'language' trait .* expected any of",
        kind="warning", then="assert settings().language != 'de'"),
    Row("config-redraw-negative", "%config NNMagics.redraw_seconds = -1", r"redraw_seconds.*less than 0",
        kind="warning", then="assert settings().redraw_seconds == 1.0"),
)

ROWS = DATA_ROWS + DATA_NOTES + BUILD_ROWS + TRAIN_ROWS + DIAGNOSE_ROWS + TRANSFER_ROWS + RUNS_ROWS + OTHER_ROWS


def check_one_sentence(result, row: Row) -> None:
    """The cell shows the row's sentence in at most two lines, no traceback, with the right status."""
    lines = result.lines
    assert not result.has_traceback, f"{row.cell}: a traceback is shown:\n{result.text}"
    assert 1 <= len(lines) <= 2, f"{row.cell}: expected one sentence, got {len(lines)} lines:\n{result.text}"
    assert re.search(row.expect, result.text, re.M), f"{row.cell}: expected /{row.expect}/, got:\n{result.text}"
    if row.kind == "error":
        assert result.status == "error", f"{row.cell}: the reply should be an error so that Run all stops"
        assert lines[0].startswith("UsageError: "), result.text
    else:
        assert result.status == "ok", f"{row.cell}: a {row.kind} should not stop the notebook:\n{result.text}"


def test_the_table_is_broad():
    assert len(ROWS) >= 80 and len({row.id for row in ROWS}) == len(ROWS)
    for magic in ("%nn_data", "%nn_build", "%%nn_build", "%nn_train", "%nn_diagnose", "%vgg_transfer", "%nn_gpu",
                  "%nn_runs", "%nn_lr_find", "%config NNMagics"):
        assert any(row.cell.startswith(magic) for row in ROWS), magic


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_bad_input_shows_one_sentence(world, row):
    result = world.run(row.cell)
    check_one_sentence(result, row)
    if row.then is not None:
        after = world.run(row.then)
        assert after.status == "ok" and not after.has_traceback, f"after {row.cell}: {row.then}\n{after.text}"


# %config's own checks are traitlets' sentences (English whatever the language)
THEIRS = {row.id for row in ROWS if row.cell.startswith("%config")}


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_bad_input_in_french(world, row):
    """The same table with ``%config NNMagics.language = 'fr'``: one French sentence, no traceback, the same
    status; the good cell after it still works."""
    from kernel_harness import english_lines

    world.run("%config NNMagics.language = 'fr'")
    try:
        result = world.run(row.cell)
        lines = result.lines
        assert not result.has_traceback, f"{row.cell}: a traceback is shown:\n{result.text}"
        assert 1 <= len(lines) <= 2, f"{row.cell}: expected one sentence, got {len(lines)} lines:\n{result.text}"
        assert result.status == ("error" if row.kind == "error" else "ok"), f"{row.cell}:\n{result.text}"
        if row.kind == "error":
            assert lines[0].startswith("UsageError: "), result.text
        if row.id not in THEIRS:
            assert not english_lines(result.text), f"{row.cell}: English in French:\n{result.text}"
        if row.then is not None:
            after = world.run(row.then)
            assert after.status == "ok" and not after.has_traceback, f"after {row.cell}: {row.then}\n{after.text}"
    finally:
        world.run("%config NNMagics.language = 'en'")


# -- the boundary itself ---------------------------------------------------------------------------
def test_internal_errors_keep_their_traceback(world):
    """A bug is not a user mistake: its traceback stays visible (to be reported)."""
    world.run("import nnmagics.data as _nd; _orig_load = _nd.load_data\n"
              "def _broken(*a, **k): raise RuntimeError('an nnmagics bug')\n"
              "_nd.load_data = _broken")
    try:
        result = world.run("%nn_data d2 good.csv")
    finally:
        world.run("_nd.load_data = _orig_load")
    assert result.status == "error" and result.ename == "RuntimeError"
    assert result.has_traceback and "an nnmagics bug" in result.text


def test_plain_ipython_shows_one_line_too(ip, capsys):
    """In IPython (terminal, Colab's shell) every nnmagics magic raises exactly ``UsageError``, shown as one line."""
    from IPython.core.error import UsageError

    for magic, line in (("nn_data", ""), ("nn_build", "m --layers 'dense 3 rleu'"), ("nn_train", ""),
                        ("nn_diagnose", ""), ("vgg_transfer", "")):
        with pytest.raises(UsageError) as info:
            ip.run_line_magic(magic, line)
        assert type(info.value) is UsageError and info.value.__cause__ is None and info.value.__suppress_context__
    capsys.readouterr()
    ip.run_cell("%nn_build m --layers 'dense 3 rleu'")
    shown = capsys.readouterr()
    assert (shown.out + shown.err).strip() == "UsageError: Unknown activation 'rleu'. Did you mean 'relu'?"


def test_help_still_shows_for_every_magic(world):
    for magic in ("nn_data", "nn_build", "nn_train", "nn_diagnose", "vgg_transfer", "nn_gpu", "nn_runs", "nn_lr_find"):
        result = world.run(f"%{magic}?")
        assert result.status == "ok" and f"%{magic}" in result.text and len(result.lines) > 3, result.text


@pytest.mark.tensorflow(reason="TensorFlow's SGD at lr 1e38 makes the loss NaN; on JAX the clipped cross-entropy stays finite (9.6)")
def test_nan_loss_stops_training_and_says_so(world):
    """A loss that becomes NaN ends the fit as 'failed' with one sentence; the model keeps its earlier weights."""
    world.run("%nn_build blowup --layers 'dense 4 relu' --from d --quiet")
    world.run("_before = [w.copy() for w in blowup.get_weights()]")
    result = world.run("%nn_train blowup d --optimizer sgd --lr 1e38 --epochs 3 --no-live")
    assert result.status == "error" and not result.has_traceback, result.text
    assert result.error_lines == [
        "UsageError: The loss became NaN (not a number) at epoch 1, so training stopped and the weights were put "
        "back as they were before this run; try a lower --lr (e.g. --lr 0.0001) and check the data for huge values."]
    check = world.run("import numpy as np\n"
                      "from nnmagics import history_of\n"
                      "assert history_of(blowup).status == 'failed', history_of(blowup).status\n"
                      "assert all(np.array_equal(a, b) for a, b in zip(_before, blowup.get_weights()))")
    assert check.status == "ok", check.text
    again = world.run("%nn_train blowup d --lr 0.001 --epochs 1 --no-live")
    assert again.status == "ok" and "nan" not in again.text.lower(), again.text


def test_run_all_stops_at_the_failing_cell(tmp_path):
    """nbclient (what "Run all", nbconvert and ``make demo`` use) stops at the bad cell and shows one line."""
    import nbformat

    from nnmagics._notebooks import run_notebook

    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("%load_ext nnmagics"),
        nbformat.v4.new_code_cell("%nn_build m --layers 'dense 3 rleu'"),
        nbformat.v4.new_code_cell("print('never reached')"),
    ])
    path = tmp_path / "bad.ipynb"
    nbformat.write(notebook, path)
    result = run_notebook(str(path), str(tmp_path / "out"), html=False)
    executed = nbformat.read(result["executed"], as_version=4)
    bad, after = executed.cells[1], executed.cells[2]
    shown = "".join(o.get("text", "") for o in bad.outputs if o["output_type"] == "stream")
    assert shown.strip() == "UsageError: Unknown activation 'rleu'. Did you mean 'relu'?"
    assert after.outputs == [] and after.get("execution_count") is None
    assert result["errors"], "the run should be reported as failed"

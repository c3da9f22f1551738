"""Tables: reading files and DataFrames, label encoding, the scatter plot, and every error."""
import numpy as np
import pandas as pd
import pytest

from nnmagics.data import load_data
from nnmagics.data.tables import load_table
from nnmagics.errors import NNUsageError


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    return pd.DataFrame({"X1": rng.normal(size=40), "X2": rng.normal(size=40),
                         "Y": ["red", "blue", "green", "blue"] * 10})


@pytest.fixture
def book(tmp_path, frame):
    path = tmp_path / "artificial_generator.xlsx"
    with pd.ExcelWriter(path) as writer:
        frame.iloc[:20].to_excel(writer, sheet_name="data2", index=False)
        frame.to_excel(writer, sheet_name="data4", index=False)
    return str(path)


def test_excel_sheet_is_label_encoded_like_sklearn(book, frame):
    from sklearn.preprocessing import LabelEncoder

    data = load_table(book, sheet="data4")
    expected = LabelEncoder().fit_transform(frame["Y"])
    np.testing.assert_array_equal(data.y, expected)
    assert data.classes == ["blue", "green", "red"]
    assert data.mapping == {"blue": 0, "green": 1, "red": 2}
    assert data.X.shape == (40, 2) and data.X.dtype == np.float32
    assert len(data) == 40 and data.input_shape == (2,) and data.num_classes == 3
    assert data.class_counts() == {"blue": 20, "green": 10, "red": 10}
    assert "blue→0" in repr(data) and "40 rows" in repr(data)


def test_first_sheet_by_default_and_csv(book, tmp_path, frame):
    assert len(load_table(book)) == 20
    csv = tmp_path / "t.csv"
    frame.to_csv(csv, index=False)
    assert load_data(str(csv), features="X1").features == ["X1"]


def test_dataframe_source_and_target_choice(frame):
    data = load_data(frame.rename(columns={"Y": "label"}))
    assert data.target == "label" and data.features == ["X1", "X2"]
    data = load_data(frame, target="Y", features="X2,X1")
    assert data.features == ["X2", "X1"]
    np.testing.assert_allclose(data.X[:, 0], frame["X2"].to_numpy(dtype="float32"))


def test_tf_dataset_yields_encoded_batches(frame):
    data = load_data(frame, batch_size=16)
    batches = list(data.as_tf_dataset())
    assert [int(x.shape[0]) for x, _ in batches] == [16, 16, 8]
    assert np.array_equal(np.concatenate([y.numpy() for _, y in batches]), data.y)
    one_hot = next(iter(data.as_tf_dataset(class_mode="categorical")))[1].numpy()
    assert one_hot.shape == (16, 3) and set(one_hot.sum(axis=1)) == {1.0}


def test_split_is_stratified_and_disjoint(frame):
    data = load_data(frame)
    train, val = data.split(0.25, seed=1)
    assert len(train) + len(val) == len(data) and len(val) == 10
    assert set(val.class_counts()) == set(data.classes)
    assert train.classes == val.classes == data.classes


def test_scatter_plot_has_one_series_per_class(frame):
    from nnmagics.display.figures import scatter_plot

    fig = scatter_plot(load_data(frame, name="data4"))
    ax = fig.axes[0]
    assert len(ax.collections) == 3
    assert ax.get_xlabel() == "X1" and ax.get_ylabel() == "X2"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["blue (0)", "green (1)", "red (2)"]


@pytest.mark.parametrize("change, kwargs, words", [
    (None, {"sheet": "data9"}, ["no sheet 'data9'", "data2, data4"]),
    (None, {"target": "Z"}, ["no column 'Z'", "X1, X2, Y"]),
    (None, {"features": "X1,X3"}, ["no column 'X3'"]),
    (None, {"features": "X1,Y"}, ["is the target"]),
    ("text", {}, ["'X2' holds text", "index 3"]),
    ("missing", {}, ["'X1' has missing values", "index 5"]),
    ("single", {}, ["single class"]),
    ("missing-target", {}, ["Target column 'Y' has missing values"]),
])
def test_table_errors_name_rows_and_columns(tmp_path, frame, change, kwargs, words):
    if change == "text":
        frame["X2"] = frame["X2"].astype(object)
        frame.loc[3, "X2"] = "abc"
    elif change == "missing":
        frame.loc[5, "X1"] = np.nan
    elif change == "single":
        frame["Y"] = "red"
    elif change == "missing-target":
        frame.loc[2, "Y"] = None
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        frame.to_excel(writer, sheet_name="data2", index=False)
        frame.to_excel(writer, sheet_name="data4", index=False)
    with pytest.raises(NNUsageError) as info:
        load_table(str(path), **({"sheet": "data4"} | kwargs))
    for word in words:
        assert word in str(info.value)


def test_missing_file_wrong_suffix_and_bad_options(tmp_path, frame):
    with pytest.raises(NNUsageError, match="not found"):
        load_data(str(tmp_path / "nope.xlsx"))
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(NNUsageError, match="neither a table"):
        load_data(str(tmp_path / "notes.txt"))
    with pytest.raises(NNUsageError, match="binary needs two classes"):
        load_data(frame, class_mode="binary")
    with pytest.raises(NNUsageError, match="Unknown class mode"):
        load_data(frame, class_mode="binar")
    with pytest.raises(NNUsageError, match="positive"):
        load_data(frame, batch_size=0)
    with pytest.raises(NNUsageError, match="--image-size applies to image folders"):
        load_data(frame, image_size=150)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(NNUsageError, match="Could not open"):
        load_data(str(broken))

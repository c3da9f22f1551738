"""Tables: reading files and DataFrames, label encoding, the scatter plot, and every error."""
import re

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
    assert data.class_names == ["blue", "green", "red"]
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


@pytest.mark.tensorflow(reason="as_tf_dataset is the tf.data pipeline")
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
    assert set(val.class_counts()) == set(data.class_names)
    assert train.class_names == val.class_names == data.class_names


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


# -- CSV files as they come (issue 10) ------------------------------------------------------------
FRENCH = "X1;X2;Y\n1,5;2,25;été\n-0,5;3;hiver\n2;4,5;été\n"


@pytest.mark.parametrize("text, encoding, said", [
    (FRENCH, "cp1252", "Read as CSV with ';' separator, ',' decimals, cp1252 encoding."),
    (FRENCH, "utf-8", "Read as CSV with ';' separator, ',' decimals, UTF-8 encoding."),
    (FRENCH, "utf-8-sig", "Read as CSV with ';' separator, ',' decimals, UTF-8 encoding."),
    (FRENCH.replace("été", "\xe9t\xe9\x81"), "latin-1", "Read as CSV with ';' separator, ',' decimals, latin-1 encoding."),
    (FRENCH.replace(";", "\t"), "cp1252", "Read as CSV with tab separator, ',' decimals, cp1252 encoding."),
    (FRENCH.replace(",", ".").replace(";", "\t"), "utf-16", "Read as CSV with tab separator, '.' decimals, UTF-16 encoding."),
    (FRENCH.replace(",", ".").replace(";", "|"), "utf-8", "Read as CSV with '|' separator, '.' decimals, UTF-8 encoding."),
])
def test_csv_separators_decimals_and_encodings_are_detected(tmp_path, text, encoding, said):
    path = tmp_path / "notes.csv"
    path.write_bytes(text.encode(encoding))
    data = load_table(str(path))
    assert data.X.tolist() == [[1.5, 2.25], [-0.5, 3.0], [2.0, 4.5]]
    assert data.class_names[0] == "hiver" and data.class_names[1].startswith("été") and data.class_counts()["hiver"] == 1
    assert data.notes == [said]


def test_plain_csv_says_nothing_about_its_format(tmp_path, frame):
    frame.to_csv(tmp_path / "plain.csv", index=False)
    assert load_table(str(tmp_path / "plain.csv")).notes == []


@pytest.mark.parametrize("content, words", [
    ("X1,X1,Y\n1,2,a\n3,4,b\n", ["Column name 'X1' appears 2 times", "(columns 1, 2)", "give each column its own name"]),
    ("X1,X2,Y\n", ["has column names (X1, X2, Y) but no rows"]),
    ("", ["is empty"]),
    ("X1,X2,Y\n1,2,a\n3,4,b,7\n", ["Expected 3 fields in line 3, saw 4", "',' separators"]),
    ("X1 X2 Y\n1 2 a\n3 4 b\n", ["reads as a single column 'X1 X2 Y'"]),
    ('X1,X2,Y\n"1,5",2,a\n"3,1",4,b\n', ["'X1' holds numbers written with a decimal comma (index 0, 1: '1,5')"]),
    ("X1,X2,Y\n1,2,a\ninf,4,b\n", ["Feature column 'X1' has infinite values (index 1: inf)"]),
    ("X1,X2,Y\n1,-inf,a\n1,4,b\n", ["Feature column 'X2' has infinite values (index 0: -inf)"]),
    ("X1,X2,Y\n1,2,a\n1e39,4,b\n", ["Feature column 'X1' has values too large for float32", "(index 1: 1e+39)"]),
    ("X1,X2,Y\n1,2,0\n1,4,inf\n", ["Target column 'Y' has infinite values (index 1: inf)"]),
])
def test_csv_problems_are_one_sentence(tmp_path, content, words):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(NNUsageError) as info:
        load_table(str(path))
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message


def test_non_finite_values_in_a_dataframe_are_rejected_like_missing_ones(frame):
    for value, shown in ((np.inf, "inf"), (-np.inf, "-inf"), (1e39, "1e+39")):
        bad = frame.copy()
        bad.loc[[3, 8], "X2"] = value
        with pytest.raises(NNUsageError, match=rf"Feature column 'X2' has .* \(index 3, 8: {re.escape(shown)}\)"):
            load_table(bad)
    assert np.isfinite(load_table(frame.assign(X1=3e38)).X).all()      # large but finite in float32


def test_duplicate_and_empty_excel_sheets(tmp_path, frame):
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame([[1, 2, "a"], [3, 4, "b"]], columns=["X1", "Y", "Y"]).to_excel(writer, sheet_name="dup", index=False)
        frame.iloc[:0].to_excel(writer, sheet_name="header", index=False)
    with pytest.raises(NNUsageError, match=r"Column name 'Y' appears 2 times in sheet 'dup' of .* \(columns 2, 3\)"):
        load_table(str(path), sheet="dup")
    with pytest.raises(NNUsageError, match=r"has column names \(X1, X2, Y\) but no rows"):
        load_table(str(path), sheet="header")
    with pytest.raises(NNUsageError, match=r"Column name 'X1' appears 2 times in the DataFrame"):
        load_table(pd.DataFrame([[1, 2, "a"], [3, 4, "b"]], columns=["X1", "X1", "Y"]))


def test_a_continuous_target_warns_once_and_lists_few_classes(frame):
    assert load_table(frame.assign(Y=np.arange(40) / 7.0)).notes == []   # 40 classes: still a classifier's job
    many = pd.DataFrame({"X1": np.arange(300.0), "X2": np.arange(300.0), "Y": np.linspace(0, 1, 300)})
    data = load_table(many)
    assert len(data.notes) == 1 and data.notes[0].startswith("Warning: target 'Y' has 300 different values")
    assert "not regression" in data.notes[0]
    assert "(290 more)" in repr(data) and len(repr(data)) < 600
    assert "290 more classes" in data._repr_html_()


def test_boolean_and_date_features_and_text_next_to_missing_values(frame):
    with pytest.raises(NNUsageError, match=r"Feature column 'X1' holds bool values, not numbers; convert it"):
        load_table(frame.assign(X1=frame.X1 > 0))
    with pytest.raises(NNUsageError, match=r"Feature column 'X1' holds datetime64\[.*\] values"):
        load_table(frame.assign(X1=pd.Timestamp("2024-01-01")))
    mixed = frame.astype({"X1": object})
    mixed.loc[2, "X1"], mixed.loc[4, "X1"] = None, "abc"
    with pytest.raises(NNUsageError, match=r"Feature column 'X1' holds text \(index 4\);"):
        load_table(mixed)


def test_batch_size_setting_is_the_default_for_tables(ip):
    """``%config NNMagics.batch_size`` is what a table gets when ``--batch-size`` is left out."""
    import numpy as np
    import pandas as pd

    ip.user_ns["frame_bs"] = pd.DataFrame({"X1": np.arange(10.0), "X2": np.arange(10.0), "Y": ["a", "b"] * 5})
    ip.run_line_magic("config", "NNMagics.batch_size = 7")
    try:
        ip.run_line_magic("nn_data", "tbl_bs frame_bs")
        assert ip.user_ns["tbl_bs"].batch_size == 7
        ip.run_line_magic("nn_data", "tbl_bs2 frame_bs --batch-size 5")
        assert ip.user_ns["tbl_bs2"].batch_size == 5
    finally:
        ip.run_line_magic("config", "NNMagics.batch_size = 32")

"""The sample maker: the course's xlsx table and a cats_and_dogs_filtered-like image tree."""
from __future__ import annotations

import hashlib
import os
import zipfile

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from nnmagics.data.images import load_images
from nnmagics.data.pets import BACKGROUNDS, CUE_AGREEMENT, cue_styles
from nnmagics.data.samples import make_samples, sample_manifest, table_frames
from nnmagics.errors import NNUsageError


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NNMAGICS_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    """One small tree shared by the image tests (6 train + 3 validation per class, zipped)."""
    folder = tmp_path_factory.mktemp("samples")
    return make_samples(folder, images_per_class=(6, 3), table=False, zip=True)


@pytest.fixture(scope="module")
def default_samples(tmp_path_factory):
    """The default tree (200 + 100 images per class): the conftest's shared ``samples`` is smaller."""
    return make_samples(tmp_path_factory.mktemp("default_samples"), table=False)


# ----------------------------------------------------------------------------- the table
def test_table_sheets_columns_and_text_labels(tmp_path):
    paths = make_samples(tmp_path, image_tree=False)
    assert paths == {"table": str(tmp_path / "artificial_generator.xlsx")}
    sheets = pd.read_excel(paths["table"], sheet_name=None)
    assert set(sheets) == {"data2", "data4"}
    for frame in sheets.values():
        assert list(frame.columns) == ["X1", "X2", "Y"] and len(frame) == 300
        assert frame["Y"].map(type).eq(str).all()
        assert frame[["X1", "X2"]].dtypes.eq("float64").all() and not frame.isna().any().any()
    assert sheets["data2"]["Y"].value_counts().to_dict() == {"blue": 150, "red": 150}
    assert sheets["data4"]["Y"].value_counts().to_dict() == {"inner": 100, "middle": 100, "outer": 100}
    # classes are interleaved in the rows, not sorted blocks
    assert sheets["data4"]["Y"].head(20).nunique() == 3


def test_table_geometry_and_determinism():
    frames = table_frames(300, seed=0)
    data4 = frames["data4"]
    radius = np.hypot(data4["X1"], data4["X2"]).groupby(data4["Y"]).mean()
    assert radius["inner"] < radius["middle"] < radius["outer"]  # concentric rings
    pd.testing.assert_frame_equal(table_frames(300, seed=0)["data2"], frames["data2"])
    assert not table_frames(300, seed=1)["data2"].equals(frames["data2"])
    assert len(table_frames(91)["data4"]) == 91


def test_data4_fits_the_course_dense_net():
    from sklearn.neural_network import MLPClassifier

    data4 = table_frames(300, seed=0)["data4"]
    net = MLPClassifier((3, 3), activation="relu", max_iter=3000, random_state=0)  # 2 → 3 → 3 → 3 softmax
    assert net.fit(data4[["X1", "X2"]], data4["Y"]).score(data4[["X1", "X2"]], data4["Y"]) > 0.9


# ----------------------------------------------------------------------------- the image tree
def test_tree_layout_like_cats_and_dogs_filtered(tree):
    root = tree["images"]
    assert os.path.basename(root) == "cats_and_dogs_filtered"
    assert sorted(os.listdir(os.path.join(root, "train"))) == ["cats", "dogs"]
    assert sorted(os.listdir(os.path.join(root, "validation"))) == ["cats", "dogs"]
    key = lambda name: int(name.split(".")[1])  # noqa: E731
    assert sorted(os.listdir(os.path.join(root, "train", "cats")), key=key) == [f"cat.{i}.jpg" for i in range(6)]
    assert sorted(os.listdir(os.path.join(root, "validation", "dogs")), key=key) == [f"dog.{i}.jpg" for i in range(6, 9)]


def test_tree_images_have_varied_shapes_and_orientations(tree):
    shapes = []
    for dirpath, _, files in os.walk(tree["images"]):
        for name in files:
            if name.endswith(".jpg"):
                with Image.open(os.path.join(dirpath, name)) as im:
                    assert im.format == "JPEG" and im.mode == "RGB"
                    shapes.append(im.size)
    assert len(shapes) == 18
    assert all(120 <= side <= 400 for size in shapes for side in size)
    assert any(w > h for w, h in shapes) and any(h > w for w, h in shapes)
    assert len(set(shapes)) >= 12


def test_tree_loads_with_load_images(tree):
    data = load_images(tree["images"], image_size=32)
    assert data.class_names == ["cats", "dogs"] and data.class_counts() == {"cats": 6, "dogs": 6}
    assert len(data.validation) == 6 and data.skipped == [] and data.class_mode == "binary"
    shapes = data.original_shapes(12)
    assert len(set(shapes)) > 1 and all(s[2] == 3 for s in shapes)


def test_zip_has_a_single_top_folder_and_loads(tree, tmp_path):
    with zipfile.ZipFile(tree["zip"]) as zf:
        names = zf.namelist()
    assert {n.split("/")[0] for n in names} == {"cats_and_dogs_filtered"}
    assert len(names) == 18
    data = load_images(tree["zip"], image_size=16, extract_to=tmp_path / "x")
    assert len(data) == 12 and len(data.validation) == 6


def test_default_tree_is_the_course_size_and_small(default_samples):
    root = default_samples["images"]
    counts = {split: {c: len(os.listdir(os.path.join(root, split, c))) for c in ("cats", "dogs")}
              for split in ("train", "validation")}
    assert counts == {"train": {"cats": 200, "dogs": 200}, "validation": {"cats": 100, "dogs": 100}}
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(root) for f in files)
    assert size < 15e6


def test_train_and_validation_come_from_disjoint_photos(tree):
    root = tree["images"]
    images = sample_manifest(root)["images"]
    on_disk = {os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/")
               for d, _, files in os.walk(root) for f in files if f.endswith(".jpg")}
    assert set(images) == on_disk
    used = {split: {images[k]["background"] for k in images if k.startswith(split + "/")}
            for split in ("train", "validation")}
    assert used["train"] <= set(BACKGROUNDS["train"]) and used["validation"] <= set(BACKGROUNDS["validation"])
    assert not set(BACKGROUNDS["train"]) & set(BACKGROUNDS["validation"])
    digests = {hashlib.sha256(open(os.path.join(root, k), "rb").read()).hexdigest() for k in images}
    assert len(digests) == len(images)


def test_cues_follow_the_class_most_of_the_time():
    rng = np.random.default_rng(0)
    agree = [style == animal for animal in ("cat", "dog") for _ in range(500)
             for style in cue_styles(animal, rng).values()]
    assert abs(np.mean(agree) - CUE_AGREEMENT) < 0.02 and 0.7 < CUE_AGREEMENT < 0.9


def test_signal_is_real_but_not_trivial(default_samples):
    """A cheap model (edges + colours, logistic regression) beats chance on validation, yet stays far from perfect."""
    from skimage.feature import hog
    from sklearn.linear_model import LogisticRegression

    root = default_samples["images"]   # the default tree: 200 + 100 images per class

    def features(split):
        x, y = [], []
        for label, class_name in enumerate(("cats", "dogs")):
            folder = os.path.join(root, split, class_name)
            for name in sorted(os.listdir(folder)):
                with Image.open(os.path.join(folder, name)) as im:
                    pixels = np.asarray(im.convert("RGB").resize((64, 64), Image.BILINEAR), np.float32) / 255
                edges = hog(pixels.mean(axis=2), orientations=8, pixels_per_cell=(16, 16), cells_per_block=(1, 1))
                colours = [np.histogram(pixels[..., c], bins=8, range=(0, 1))[0] / 4096 for c in range(3)]
                x.append(np.concatenate([edges, *colours]))
                y.append(label)
        return np.array(x), np.array(y)

    (x, y), (xv, yv) = features("train"), features("validation")
    model = LogisticRegression(C=1.0, max_iter=5000).fit(x, y)
    train_acc, val_acc = model.score(x, y), model.score(xv, yv)
    assert 0.6 <= val_acc <= 0.9 and train_acc >= val_acc + 0.05, (train_acc, val_acc)


def test_same_seed_same_images_and_rerun_replaces(tmp_path):
    a = make_samples(tmp_path / "a", images_per_class=(2, 1), table=False, seed=5)["images"]
    b = make_samples(tmp_path / "b", images_per_class=(2, 1), table=False, seed=5)["images"]
    c = make_samples(tmp_path / "c", images_per_class=(2, 1), table=False, seed=6)["images"]
    first = os.path.join("train", "cats", "cat.0.jpg")
    read = lambda root: open(os.path.join(root, first), "rb").read()  # noqa: E731
    assert read(a) == read(b) != read(c)
    again = make_samples(tmp_path / "a", images_per_class=(3, 1), table=False, seed=5)["images"]
    assert len(os.listdir(os.path.join(again, "train", "cats"))) == 3


def test_existing_foreign_files_are_protected(tmp_path):
    (tmp_path / "cats_and_dogs_filtered").mkdir()
    (tmp_path / "cats_and_dogs_filtered" / "real.jpg").write_bytes(b"precious")
    with pytest.raises(NNUsageError, match="not made by nnmagics"):
        make_samples(tmp_path, table=False, images_per_class=(1, 1))
    pd.DataFrame({"a": [1]}).to_excel(tmp_path / "artificial_generator.xlsx", index=False)
    with pytest.raises(NNUsageError, match="not made by nnmagics"):
        make_samples(tmp_path, image_tree=False)
    make_samples(tmp_path, image_tree=False, overwrite=True)
    assert set(pd.read_excel(tmp_path / "artificial_generator.xlsx", sheet_name=None)) == {"data2", "data4"}
    make_samples(tmp_path, image_tree=False)  # now ours: replaced without complaint


@pytest.mark.parametrize("bad", [0, (5, 0), "many", (1, 2, 3)])
def test_bad_counts(tmp_path, bad):
    with pytest.raises(NNUsageError, match="images_per_class"):
        make_samples(tmp_path, images_per_class=bad, table=False)

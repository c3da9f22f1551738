"""Image folders → ImageData → tf.data, on tiny trees written with PIL."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from nnmagics.data.images import ImageData, load_images, parse_image_size
from nnmagics.data.dirty_folder import make_dirty_folder
from nnmagics.errors import NNUsageError


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    path = tmp_path / "cache"
    monkeypatch.setenv("NNMAGICS_CACHE_DIR", str(path))
    return path


def colour(class_index: int, i: int) -> tuple[int, int, int]:
    """A distinct solid colour per file, so pixel values reveal the order of the files."""
    return (20 + 40 * i, 60 + 90 * class_index, 200 - 30 * class_index)


def make_tree(root, counts: dict[str, int], *, sizes=((40, 30), (30, 50), (48, 48)), fmt="JPEG") -> str:
    """``root/<class>/<class>.<i>.jpg`` solid-colour images of varied (w, h)."""
    for c, (name, n) in enumerate(counts.items()):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            ext = "jpg" if fmt == "JPEG" else fmt.lower()
            Image.new("RGB", sizes[i % len(sizes)], colour(c, i)).save(folder / f"{name}.{i}.{ext}", fmt)
    return str(root)


def batches(ds):
    """A pipeline's ``(x, y)`` concatenated: ``tf.data`` on TensorFlow, numpy batches elsewhere (``data.batches``)."""
    xs, ys = zip(*[(np.asarray(x), np.asarray(y)) for x, y in ds])
    return np.concatenate(xs), np.concatenate(ys)


# ----------------------------------------------------------------------------- happy path
def test_happy_path_files_labels_order_and_pixels(tmp_path):
    root = make_tree(tmp_path / "train", {"dogs": 4, "cats": 3})
    data = load_images(root, image_size=32)

    assert isinstance(data, ImageData) and data.kind == "images"
    assert data.class_names == ["cats", "dogs"]
    names = [os.path.relpath(f, root) for f in data.files]
    assert names == [os.path.join("cats", f"cats.{i}.jpg") for i in range(3)] + \
        [os.path.join("dogs", f"dogs.{i}.jpg") for i in range(4)]
    assert data.labels.tolist() == [0, 0, 0, 1, 1, 1, 1]
    assert (data.input_shape, data.image_size, data.batch_size, data.class_mode) == ((32, 32, 3), (32, 32), 20, "binary")
    assert data.skipped == [] and data.validation is None and data.name == "train"
    assert data.class_indices == {"cats": 0, "dogs": 1}

    x, y = batches(data.batches())
    assert x.shape == (7, 32, 32, 3) and x.dtype == np.float32
    assert y.dtype == np.float32 and y.tolist() == [0, 0, 0, 1, 1, 1, 1]
    # raw 0–255 pixels (not rescaled), in the order of .files (cats were written with class index 1)
    means = x.mean(axis=(1, 2))
    expected = [colour(1, i) for i in range(3)] + [colour(0, i) for i in range(4)]
    np.testing.assert_allclose(means, expected, atol=4)
    assert x.max() > 200

    text = repr(data)
    assert "ImageData 'train': 7 images 32×32 in 2 classes (cats: 3, dogs: 4), batch 20, class_mode binary" == text
    assert data.original_shapes(3) == [(30, 40, 3), (50, 30, 3), (48, 48, 3)]
    assert "<table>" in data._repr_html_()


def test_class_modes_encode_labels(tmp_path):
    root = make_tree(tmp_path / "three", {"a": 2, "b": 2, "c": 1})
    data = load_images(root, image_size=16)
    assert data.class_mode == "int"
    _, y = batches(data.batches())
    assert y.dtype == np.int32 and y.tolist() == [0, 0, 1, 1, 2]

    _, y = batches(data.batches(class_mode="categorical"))
    np.testing.assert_array_equal(y, np.eye(3, dtype="float32")[[0, 0, 1, 1, 2]])

    cat = load_images(root, image_size=16, class_mode="categorical")
    assert cat.class_mode == "categorical" and batches(cat.batches())[1].shape == (5, 3)

    with pytest.raises(NNUsageError, match="exactly 2 classes"):
        load_images(root, image_size=16, class_mode="binary")
    with pytest.raises(NNUsageError, match="exactly 2 classes"):
        data.batches(class_mode="binary")

    two = load_images(make_tree(tmp_path / "two", {"x": 1, "y": 2}), image_size=16, class_mode="int")
    _, y = batches(two.batches())
    assert y.dtype == np.int32 and y.tolist() == [0, 1, 1]
    _, y = batches(two.batches(class_mode="binary"))
    assert y.dtype == np.float32 and y.tolist() == [0.0, 1.0, 1.0]


def test_shuffle_and_batching(tmp_path):
    root = make_tree(tmp_path / "d", {"cats": 6, "dogs": 6}, sizes=((20, 20),))
    data = load_images(root, image_size=8, batch_size=5)
    fixed = [b[0].shape[0] for b in data.batches()]
    assert fixed == [5, 5, 2]
    assert [b[0].shape[0] for b in data.batches(drop_remainder=True)] == [5, 5]

    x_fixed, y_fixed = batches(data.batches(batch_size=12))
    np.testing.assert_array_equal(y_fixed, data.labels)
    ds = data.batches(shuffle=True, seed=3, batch_size=12)
    epochs = [batches(ds) for _ in range(4)]
    orders = [tuple(e[0][:, 0, 0, 0].round()) for e in epochs]
    assert len(set(orders)) > 1  # reshuffled each epoch
    for x, y in epochs:  # same images with the same labels, only reordered
        pairs = sorted(map(tuple, np.c_[x[:, 0, 0, :], y].round()))
        assert pairs == sorted(map(tuple, np.c_[x_fixed[:, 0, 0, :], y_fixed].round()))


@pytest.mark.parametrize("value, expected", [
    (150, (150, 150)), ("150", (150, 150)), ("150x120", (150, 120)), ("150 × 120", (150, 120)),
    ((64, 32), (64, 32)), ([28, 28], (28, 28)), (np.int64(32), (32, 32)), ("(40, 50)", (40, 50)),
])
def test_image_size_forms(value, expected):
    assert parse_image_size(value) == expected


@pytest.mark.parametrize("value", [0, -5, "abc", "150x", "1x2x3", (150,) * 3, 15.5, True, None, "0x150"])
def test_bad_image_size(value):
    with pytest.raises(NNUsageError, match="image size"):
        parse_image_size(value)


def test_bad_batch_size_and_class_mode(tmp_path):
    root = make_tree(tmp_path / "d", {"cats": 1, "dogs": 1})
    for bad in (0, -1, "x", 2.5):
        with pytest.raises(NNUsageError, match="batch size"):
            load_images(root, batch_size=bad)
    with pytest.raises(NNUsageError, match="Did you mean 'binary'"):
        load_images(root, class_mode="binnary")
    with pytest.raises(NNUsageError, match="Unknown class mode 'sparse'"):
        load_images(root, class_mode="sparse")
    data = load_images(root, image_size=8)
    with pytest.raises(NNUsageError, match="batch size"):
        data.batches(batch_size=0)


# ----------------------------------------------------------------------------- layouts
@pytest.mark.parametrize("val_name", ["validation", "val"])
def test_train_and_validation_folders(tmp_path, val_name):
    make_tree(tmp_path / "ds" / "train", {"cats": 3, "dogs": 2})
    make_tree(tmp_path / "ds" / val_name, {"cats": 1, "dogs": 2})
    data = load_images(tmp_path / "ds", image_size=16, batch_size=4)
    assert len(data) == 5 and data.root.endswith("train")
    val = data.validation
    assert isinstance(val, ImageData) and len(val) == 3 and val.class_names == data.class_names
    assert (val.image_size, val.batch_size, val.class_mode) == ((16, 16), 4, "binary")
    assert "; validation: 3 images" in repr(data)
    x, y = batches(val.batches())
    assert x.shape == (3, 16, 16, 3) and y.tolist() == [0, 1, 1]


def test_single_top_folder_is_descended(tmp_path):
    make_tree(tmp_path / "outer" / "cats_and_dogs_filtered" / "train", {"cats": 1, "dogs": 1})
    make_tree(tmp_path / "outer" / "cats_and_dogs_filtered" / "validation", {"cats": 1, "dogs": 1})
    data = load_images(tmp_path / "outer", image_size=8)
    assert data.validation is not None and data.class_names == ["cats", "dogs"]


def test_hidden_folders_and_loose_files_are_not_classes(tmp_path):
    root = tmp_path / "d"
    make_tree(root, {"cats": 1, "dogs": 1})
    (root / ".ipynb_checkpoints").mkdir()
    (root / "__MACOSX").mkdir()
    (root / "README.txt").write_text("hello")
    data = load_images(root, image_size=8)
    assert data.class_names == ["cats", "dogs"]
    assert [(os.path.basename(p), r) for p, r in data.skipped] == [("README.txt", "not inside a class sub-folder")]


# ----------------------------------------------------------------------------- user errors
def test_missing_path(tmp_path):
    with pytest.raises(NNUsageError, match="No such file or folder"):
        load_images(tmp_path / "nope")


def test_no_class_subfolders(tmp_path):
    (tmp_path / "flat").mkdir()
    Image.new("RGB", (10, 10)).save(tmp_path / "flat" / "a.jpg")
    with pytest.raises(NNUsageError, match="one sub-folder per class, e.g. train/cats"):
        load_images(tmp_path / "flat")


def test_single_class(tmp_path):
    make_tree(tmp_path / "one", {"cats": 2})
    with pytest.raises(NNUsageError, match="at least 2"):
        load_images(tmp_path / "one")


def test_empty_class_folder(tmp_path):
    make_tree(tmp_path / "d", {"cats": 2})
    (tmp_path / "d" / "dogs").mkdir()
    with pytest.raises(NNUsageError, match="dogs' holds no readable image"):
        load_images(tmp_path / "d")
    (tmp_path / "d" / "dogs" / "junk.txt").write_text("x")
    with pytest.raises(NNUsageError, match=r"no readable image \(1 unreadable file\)"):
        load_images(tmp_path / "d")


def test_train_validation_with_different_classes(tmp_path):
    make_tree(tmp_path / "ds" / "train", {"cats": 1, "dogs": 1})
    make_tree(tmp_path / "ds" / "validation", {"cats": 1, "birds": 1})
    with pytest.raises(NNUsageError, match="only in train: dogs; only in validation: birds"):
        load_images(tmp_path / "ds")


def test_a_plain_file_is_not_a_source(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n")
    with pytest.raises(NNUsageError, match="not a folder of images"):
        load_images(path)
    import zipfile

    with zipfile.ZipFile(tmp_path / "book.xlsx", "w") as zf:  # an .xlsx is a zip, but not an image archive
        zf.writestr("cats/a.jpg", b"x")
    with pytest.raises(NNUsageError, match="not a folder of images"):
        load_images(tmp_path / "book.xlsx")
    assert not (tmp_path / "book").exists()
    with pytest.raises(NNUsageError, match="DataFrame|int"):
        load_images(3)


# ----------------------------------------------------------------------------- dirty folders
def test_dirty_folder_skips_and_converts(tmp_path):
    root = make_dirty_folder(tmp_path)
    data = load_images(root, image_size=24, batch_size=4)
    skipped = {os.path.relpath(p, root): reason for p, reason in data.skipped}
    assert set(skipped) == {os.path.join("cats", "cat.9.jpg"), os.path.join("cats", "notes.txt"),
                            os.path.join("dogs", ".DS_Store"), os.path.join("dogs", "Thumbs.db"),
                            os.path.join("dogs", "empty.jpg"), os.path.join("dogs", "fake.jpg")}
    assert skipped[os.path.join("cats", "cat.9.jpg")].startswith("truncated")
    assert skipped[os.path.join("cats", "notes.txt")] == "not an image file"
    assert skipped[os.path.join("dogs", "empty.jpg")] == "empty file"
    assert len(data) == 11 and data.class_counts() == {"cats": 5, "dogs": 6}
    assert "6 files skipped (see .skipped)" in repr(data)

    seen = 0
    for _ in range(2):  # two full epochs, the second from the cache
        for x, y in data.batches(shuffle=True, seed=1):
            assert x.shape[1:] == (24, 24, 3) and x.dtype == np.float32
            seen += int(x.shape[0])
    assert seen == 2 * len(data.files)
    shapes = dict(zip((os.path.basename(f) for f in data.files), data.original_shapes()))
    assert shapes["cat.3.png"][2] == 1 and shapes["cat.4.png"][2] == 4 and shapes["dog.2.jpg"][2] == 4


def test_truncated_jpeg_is_skipped_even_if_pil_allows_truncated(tmp_path, monkeypatch):
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    root = make_dirty_folder(tmp_path)
    data = load_images(root, image_size=8)
    assert any(p.endswith("cat.9.jpg") for p, _ in data.skipped)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True  # the user's setting is restored


def solid_files(folder, rgb=(200, 30, 60)):
    """The same solid colour written in many modes and formats; returns {name: expected RGB}."""
    folder.mkdir(parents=True)
    base = Image.new("RGB", (20, 14), rgb)
    gray = round(0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2])
    base.convert("CMYK").save(folder / "cmyk.jpg", "JPEG", quality=100)
    base.convert("L").save(folder / "gray.png")
    base.convert("L").save(folder / "gray.jpg", quality=100)
    rgba = base.convert("RGBA")
    rgba.putalpha(90)
    rgba.save(folder / "rgba.png")
    base.convert("P").save(folder / "palette.png")
    base.convert("LA").save(folder / "la.png")
    Image.fromarray(np.full((14, 20), 40000, dtype=np.uint16)).save(folder / "gray16.png")
    base.save(folder / "tiff.tif", "TIFF")
    base.save(folder / "bmp.bmp", "BMP")
    base.save(folder / "gif.gif", "GIF")
    expected = {"cmyk.jpg": rgb, "gray.png": (gray,) * 3, "gray.jpg": (gray,) * 3, "rgba.png": rgb,
                "palette.png": rgb, "la.png": (gray,) * 3, "gray16.png": (round(40000 / 65535 * 255),) * 3,
                "tiff.tif": rgb, "bmp.bmp": rgb, "gif.gif": rgb}
    try:
        base.save(folder / "webp.webp", "WEBP", lossless=True)
        expected["webp.webp"] = rgb
    except (KeyError, OSError):
        pass
    return expected


def test_every_mode_and_format_becomes_the_right_rgb(tmp_path):
    expected = solid_files(tmp_path / "d" / "odd")
    make_tree(tmp_path / "d", {"plain": 1})
    data = load_images(tmp_path / "d", image_size=10, class_mode="int")
    assert data.skipped == []
    x, _ = batches(data.batches())
    assert len(x) == len(expected) + 1
    for path, image in zip(data.files, x):
        name = os.path.basename(path)
        if name in expected:
            np.testing.assert_allclose(image.mean(axis=(0, 1)), expected[name], atol=6, err_msg=name)
            np.testing.assert_allclose(data.load_image(path), image, atol=0.5, err_msg=name)


def test_augment_layer_runs_on_batches(tmp_path):
    import keras

    data = load_images(make_tree(tmp_path / "d", {"cats": 3, "dogs": 3}), image_size=16)
    calls = []
    flip = keras.layers.RandomFlip("horizontal", seed=1)

    def augment(x, training=False):
        calls.append(training)
        return flip(x, training=training) + 1.0

    x, y = batches(data.batches(augment=augment))
    plain, _ = batches(data.batches())
    assert calls and all(calls) and x.shape == (6, 16, 16, 3)
    np.testing.assert_allclose(x.mean(axis=(1, 2)), plain.mean(axis=(1, 2)) + 1.0, atol=1e-3)
    # a Keras layer as is: random per epoch (a horizontal ramp is reversed by a flip)
    ramp = tmp_path / "ramp"
    for name in ("a", "b"):
        (ramp / name).mkdir(parents=True)
        for i in range(4):
            ramp_image = Image.fromarray(np.tile(np.linspace(0, 250, 16, dtype=np.uint8), (16, 1)))
            ramp_image.convert("RGB").save(ramp / name / f"{i}.png")
    ds = load_images(ramp, image_size=16).batches(augment=flip)
    flipped = [tuple(batches(ds)[0][:, 0, 0, 0] > 100) for _ in range(4)]
    assert len(set(flipped)) > 1
    # a plain function without `training`
    x2, _ = batches(data.batches(augment=lambda b: b * 0.0))
    assert float(np.abs(x2).max()) == 0.0


# ----------------------------------------------------------------------------- caches
def test_check_results_are_cached_on_disk(tmp_path, cache_dir, monkeypatch):
    import PIL.Image

    root = make_tree(tmp_path / "d", {"cats": 4, "dogs": 4})
    opened = []
    real_open = PIL.Image.open

    def counting_open(fp, *args, **kwargs):
        opened.append(str(fp))
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(PIL.Image, "open", counting_open)
    load_images(root, image_size=8)
    assert len(opened) >= 8
    assert list((cache_dir / "image-checks").glob("*.json"))

    opened.clear()
    again = load_images(root, image_size=8)
    assert opened == [] and len(again) == 8

    changed = os.path.join(root, "dogs", "dogs.1.jpg")
    Image.new("RGB", (12, 12), (1, 2, 3)).save(changed)
    os.utime(changed, ns=(1, 10**18))
    third = load_images(root, image_size=8)
    assert opened and set(opened) == {changed}
    assert third.original_shapes()[5] == (12, 12, 3)


def test_converted_copies_are_reused(tmp_path, cache_dir):
    root = make_dirty_folder(tmp_path)
    load_images(root, image_size=8)
    converted = sorted((cache_dir / "converted").glob("*.png"))
    # CMYK JPEG, 16-bit PNG and TIFF (PNG/JPEG in RGB, L, RGBA, P modes go straight to TensorFlow)
    assert len(converted) == 3
    stamps = [p.stat().st_mtime_ns for p in converted]
    load_images(root, image_size=8)
    assert [p.stat().st_mtime_ns for p in sorted((cache_dir / "converted").glob("*.png"))] == stamps


@pytest.mark.tensorflow(reason="tf.data's cache of the decoded images")
def test_decoded_images_are_cached_after_the_first_epoch(tmp_path):
    root = make_tree(tmp_path / "d", {"cats": 3, "dogs": 3})
    data = load_images(root, image_size=16)
    first, _ = batches(data.batches())
    for f in data.files:  # break every file: a pipeline that decoded again would fail
        with open(f, "wb") as fh:
            fh.write(b"garbage")
    data.check_unchanged = lambda: None  # (normally the broken files are named before any epoch)
    again, _ = batches(data.batches(batch_size=4))
    np.testing.assert_array_equal(again, first)
    shuffled, _ = batches(data.batches(shuffle=True, seed=0, class_mode="categorical"))
    assert sorted(shuffled.sum(axis=(1, 2, 3))) == pytest.approx(sorted(first.sum(axis=(1, 2, 3))))
    import tensorflow as tf

    with pytest.raises(tf.errors.InvalidArgumentError):
        batches(data.as_tf_dataset(cache=False))


@pytest.mark.tensorflow(reason="tf.data's cache files")
def test_disk_cache_prefix(tmp_path):
    data = load_images(make_tree(tmp_path / "d", {"cats": 2, "dogs": 2}), image_size=8)
    prefix = tmp_path / "tfcache" / "train"
    x, _ = batches(data.as_tf_dataset(cache=str(prefix)))
    assert x.shape == (4, 8, 8, 3)
    assert list((tmp_path / "tfcache").glob("train*"))


# ----------------------------------------------------------------------------- single images
def test_load_image_and_errors(tmp_path):
    root = make_tree(tmp_path / "d", {"cats": 2, "dogs": 2})
    data = load_images(root, image_size=(12, 20))
    first = data.load_image(0)
    assert first.shape == (12, 20, 3) and first.dtype == np.float32
    np.testing.assert_allclose(first.mean(axis=(0, 1)), colour(0, 0), atol=4)
    np.testing.assert_array_equal(data.load_image(data.files[-1]), data.load_image(-1))

    outside = tmp_path / "outside.png"
    Image.new("L", (50, 40), 77).save(outside)
    np.testing.assert_allclose(data.load_image(str(outside)), np.full((12, 20, 3), 77.0))
    with pytest.raises(NNUsageError, match="out of range"):
        data.load_image(4)
    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    with pytest.raises(NNUsageError, match="not an image file"):
        data.load_image(str(notes))
    with pytest.raises(NNUsageError, match="No such image file"):
        data.load_image(str(tmp_path / "missing.jpg"))


def test_module_import_is_light():
    code = ("import sys, nnmagics.data.images, nnmagics.data.archive, nnmagics.data.samples, nnmagics.display.images; "
            "heavy = [m for m in ('tensorflow', 'keras', 'PIL', 'matplotlib', 'pandas', 'skimage') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


# ----------------------------------------------------------------------------- display
def test_image_grid_titles_show_original_shapes(tmp_path):
    from matplotlib.figure import Figure

    from nnmagics.display.images import image_grid

    data = load_images(make_tree(tmp_path / "train", {"cats": 3, "dogs": 3}), image_size=16)
    fig = image_grid(data, n=4, columns=3)
    assert isinstance(fig, Figure)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["cats (30, 40, 3)", "cats (50, 30, 3)", "cats (48, 48, 3)", "dogs (30, 40, 3)"]
    assert fig.axes[1].images[0].get_array().shape == (50, 30, 3)  # original size, not resized
    assert len(image_grid(data, n=50).axes) == 6
    with pytest.raises(NNUsageError, match="positive"):
        image_grid(data, n=0)


def test_pickling_and_copies_keep_the_validation_set(tmp_path):
    import copy
    import pickle

    make_tree(tmp_path / "ds" / "train", {"cats": 2, "dogs": 2})
    make_tree(tmp_path / "ds" / "validation", {"cats": 1, "dogs": 1})
    data = load_images(tmp_path / "ds", image_size=8)
    assert batches(data.batches())[0].shape == (4, 8, 8, 3)
    for clone in (pickle.loads(pickle.dumps(data)), copy.deepcopy(data)):
        assert clone.files == data.files and len(clone.validation) == 2
        np.testing.assert_array_equal(batches(clone.batches())[0], batches(data.batches())[0])


def test_the_image_check_shows_progress_when_long(tmp_path, monkeypatch, capsys):
    """A long check (thousands of files) shows a tqdm bar; a short one shows nothing (tqdm's delay)."""
    import numpy as np
    from PIL import Image

    import nnmagics.progress as progress
    from nnmagics.data.image_files import check_images

    paths = []
    for i in range(5):
        path = tmp_path / f"img{i}.png"
        Image.fromarray(np.full((8, 8, 3), i * 40, dtype="uint8")).save(path)
        paths.append(str(path))
    check_images(paths[:2], "quiet")
    assert "Checking images" not in capsys.readouterr().err
    monkeypatch.setattr(progress, "DELAY", 0)                      # as if the check were long
    check_images(paths[2:], "long")
    assert "Checking images" in capsys.readouterr().err

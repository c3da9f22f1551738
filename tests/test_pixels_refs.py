"""The one image-file-to-pixels function (``read_image``), the one ``DATA[i]`` resolver, and ``split``."""
from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from nnmagics.config import settings
from nnmagics.data.images import ImageData, load_images
from nnmagics.data.pixels import read_image, read_rgb
from nnmagics.data.refs import parse_reference, resolve_item
from nnmagics.data.tables import table_from_frame
from nnmagics.errors import NNUsageError


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    path = tmp_path / "cache"
    monkeypatch.setenv("NNMAGICS_CACHE_DIR", str(path))
    return path


def noise(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def tree(root, counts=None) -> str:
    """``root/{cats,dogs}/N.jpg``: noisy JPEGs, where two JPEG decoders visibly disagree."""
    counts = counts or {"cats": 3, "dogs": 3}
    for c, (name, n) in enumerate(counts.items()):
        os.makedirs(os.path.join(root, name), exist_ok=True)
        for i in range(n):
            Image.fromarray(noise(30 + i, 40, seed=10 * c + i)).save(os.path.join(root, name, f"{i}.jpg"), quality=80)
    return str(root)


# ----------------------------------------------------------------------------- read_image
def test_every_mode_becomes_uint8_rgb(tmp_path):
    gray = np.arange(48, dtype=np.uint8).reshape(6, 8) * 5
    files = {
        "rgb.png": (Image.fromarray(noise(6, 8)), noise(6, 8)),
        "gray.png": (Image.fromarray(gray), np.repeat(gray[..., None], 3, axis=2)),
        "rgba.png": (Image.fromarray(np.dstack([noise(6, 8), np.full((6, 8), 9, np.uint8)])), noise(6, 8)),
        "palette.png": (Image.new("RGB", (8, 6), (10, 200, 30)).convert("P", palette=Image.ADAPTIVE), np.full((6, 8, 3), (10, 200, 30))),
        "sixteen.png": (Image.fromarray(np.full((6, 8), 65535, np.uint16)), np.full((6, 8, 3), 255)),
    }
    for name, (image, expected) in files.items():
        image.save(tmp_path / name)
        pixels = read_image(tmp_path / name)
        assert pixels.dtype == np.uint8 and pixels.shape == (6, 8, 3), name
        np.testing.assert_array_equal(pixels, expected, err_msg=name)
    Image.new("CMYK", (8, 6), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg")  # pure red in CMYK
    cmyk = read_image(tmp_path / "cmyk.jpg")
    assert cmyk.shape == (6, 8, 3) and cmyk[..., 0].min() > 200 and cmyk[..., 1:].max() < 60


def test_resize_is_the_pipelines_bilinear(tmp_path):
    """Half-pixel-centre bilinear, rounded: a 0/255 pair widened to 4 pixels gives 0, 64, 191, 255."""
    Image.fromarray(np.array([[[0] * 3, [255] * 3]], np.uint8)).save(tmp_path / "pair.png")
    pixels = read_image(tmp_path / "pair.png", (1, 4))
    assert pixels.dtype == np.uint8 and pixels.shape == (1, 4, 3)
    assert pixels[0, :, 0].tolist() == [0, 64, 191, 255]


@pytest.mark.tensorflow(reason="compares read_image with the tf.data pipeline (tests/test_decode.py compares the decoders)")
def test_a_file_gives_exactly_its_dataset_pixels(tmp_path):
    root = tree(tmp_path / "d")
    Image.new("CMYK", (20, 10), (40, 90, 0, 30)).save(os.path.join(root, "dogs", "cmyk.jpg"))  # converted copy
    data = load_images(root, image_size=(12, 16))
    x = np.concatenate([batch.numpy() for batch, _ in data.as_tf_dataset()])
    assert len(x) == 7
    for i, path in enumerate(data.files):
        np.testing.assert_array_equal(read_image(path, (12, 16)), x[i], err_msg=path)
        np.testing.assert_array_equal(data.load_image(i), x[i], err_msg=path)
        np.testing.assert_array_equal(data.load_image(path), x[i], err_msg=path)
    # PIL's JPEG decoder differs from TensorFlow's: read_rgb (display) is not what the model sees
    assert not np.array_equal(read_rgb(data.files[0]), read_image(data.files[0]))


def test_errors_are_one_sentence_naming_the_file(tmp_path, monkeypatch):
    with pytest.raises(NNUsageError, match=r"No such image file: '.*missing\.jpg'"):
        read_image(tmp_path / "missing.jpg")
    with pytest.raises(NNUsageError, match=r"is a folder; give one image file, or DATA\[i\]"):
        read_image(tmp_path)
    (tmp_path / "notes.txt").write_text("not pixels")
    with pytest.raises(NNUsageError, match=r"'.*notes\.txt' is not an image file"):
        read_image(tmp_path / "notes.txt", (8, 8))
    Image.fromarray(noise(64, 64)).save(tmp_path / "cut.jpg")
    (tmp_path / "cut.jpg").write_bytes((tmp_path / "cut.jpg").read_bytes()[:600])
    from PIL import ImageFile

    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)  # a user's setting does not let it through
    with pytest.raises(NNUsageError, match=r"'.*cut\.jpg' is not an image that can be read \(.*[Tt]runcated"):
        read_image(tmp_path / "cut.jpg")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is True


def test_the_pixel_cap_is_checked_from_the_header(tmp_path, monkeypatch):
    from PIL import ImageFile

    Image.fromarray(noise(40, 50)).save(tmp_path / "big.png")
    decoded = []
    real_load = ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self.size) or real_load(self))
    monkeypatch.setattr(settings(), "max_image_pixels", 1000)
    with pytest.raises(NNUsageError, match=r"'.*big\.png' is not read: image too large \(50×40 = 0\.0 megapixels"):
        read_image(tmp_path / "big.png", (10, 10))
    assert decoded == []
    monkeypatch.setattr(settings(), "max_image_pixels", 2000)
    assert read_image(tmp_path / "big.png").shape == (40, 50, 3)


# ----------------------------------------------------------------------------- DATA[i]
@pytest.fixture
def namespace(tmp_path):
    images = load_images(tree(tmp_path / "imgs"), image_size=8)
    table = table_from_frame(pd.DataFrame({"X1": [0.0, 1.0, 2.0, 3.0], "Y": ["a", "b", "a", "b"]}))
    return {"imgs": images, "tbl": table, "numbers": [1, 2, 3]}


@pytest.mark.parametrize("text, expected", [
    ("imgs[3]", ("imgs", 3)), ("imgs[-1]", ("imgs", -1)), ("  imgs[ 2 ] ", ("imgs", 2)), ("_a1[+0]", ("_a1", 0)),
    ("dog.jpg", None), ("imgs", None), ("imgs[1:2]", None), ("imgs[x]", None), ("2imgs[0]", None),
    ("photos/imgs[0]", None), ("imgs[0][1]", None), (None, None),
])
def test_the_grammar(text, expected):
    assert parse_reference(text) == expected


def test_resolve_item_gives_the_dataset_and_a_non_negative_index(namespace):
    imgs = namespace["imgs"]
    assert resolve_item(namespace, "imgs[3]") == (imgs, 3)
    assert resolve_item(namespace, "imgs[-1]") == (imgs, 5)
    assert resolve_item(namespace, "imgs[-6]") == (imgs, 0)
    assert resolve_item(namespace, "dog.jpg") is None
    assert resolve_item(namespace, "imgs") is None


@pytest.mark.parametrize("text, option, sentence", [
    ("imgs[9999]", None, "Index 9999 is out of range: 'imgs' has 6 images (0 to 5)."),
    ("imgs[-7]", None, "Index -7 is out of range: 'imgs' has 6 images (0 to 5)."),
    ("nope[0]", None, "There is no dataset named 'nope' in the notebook; load it with %nn_data or give an image path."),
    ("tbl[0]", None, "DATA[i] needs an image dataset, but 'tbl' is a table; load an image folder with %nn_data."),
    ("tbl[0]", "--feature-maps",
     "--feature-maps needs an image dataset, but 'tbl' is a table; load an image folder with %nn_data."),
    ("numbers[0]", None, "DATA[i] needs an image dataset, but 'numbers' is a list; load an image folder with %nn_data."),
])
def test_mistakes_are_one_sentence(namespace, text, option, sentence):
    with pytest.raises(NNUsageError) as err:
        resolve_item(namespace, text, option)
    assert str(err.value) == sentence


def test_a_file_named_like_a_reference_is_a_path(namespace, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "shot[1]").write_bytes(b"")
    assert resolve_item(namespace, "shot[1]") is None
    (tmp_path / "imgs[1]").write_bytes(b"")
    assert resolve_item(namespace, "imgs[1]") == (namespace["imgs"], 1)  # a dataset of that name wins


# ----------------------------------------------------------------------------- split
@pytest.mark.tensorflow(reason="counts the tf.data pipeline's batches")
def test_image_split_is_stratified_deterministic_and_keeps_the_checks(tmp_path):
    data = load_images(tree(tmp_path / "d", {"cats": 10, "dogs": 10}), image_size=8)
    train, val = data.split(0.2, seed=0)
    assert isinstance(train, ImageData) and isinstance(val, ImageData)
    assert (len(train), len(val)) == (16, 4) and val.class_counts() == {"cats": 2, "dogs": 2}
    assert sorted(train.files + val.files) == sorted(data.files) and not set(train.files) & set(val.files)
    assert train.files == sorted(train.files, key=data.files.index)  # the dataset's order is kept
    assert train.validation is None and val.image_size == data.image_size and val.class_names == data.class_names
    again = data.split(0.2, seed=0)
    assert again[1].files == val.files and data.split(0.2)[1].files == val.files  # seed None is seed 0
    assert {tuple(data.split(0.2, seed=s)[1].files) for s in range(6)} != {tuple(val.files)}
    victim = val.files[0]
    os.remove(victim)
    with pytest.raises(NNUsageError, match=f"'{victim}' was deleted after %nn_data checked it"):
        val.as_tf_dataset()
    assert sum(int(x.shape[0]) for x, _ in train.as_tf_dataset()) == 16


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.2, True, "0.2", float("nan")])
def test_split_refuses_what_is_not_a_fraction(tmp_path, fraction):
    data = load_images(tree(tmp_path / "d"), image_size=8)
    with pytest.raises(NNUsageError, match="must be a fraction between 0 and 1"):
        data.split(fraction)


def test_split_too_small_to_hold_out_is_one_sentence(tmp_path):
    data = load_images(tree(tmp_path / "d"), image_size=8)
    with pytest.raises(NNUsageError, match=r"Cannot hold out 0\.1 of 6 samples for validation"):
        data.split(0.1)


def test_tables_split_the_same_way():
    frame = pd.DataFrame({"X1": np.arange(20.0), "Y": ["a", "b"] * 10})
    data = table_from_frame(frame)
    train, val = data.split(0.2)
    assert (len(train), len(val)) == (16, 4) and val.class_counts() == {"a": 2, "b": 2}
    assert val.X[:, 0].tolist() == data.split(0.2, seed=0)[1].X[:, 0].tolist()

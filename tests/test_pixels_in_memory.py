"""An image folder is decoded once, when ``%nn_data`` loads it, and every path serves those exact pixels:
the ``tf.data`` pipeline, the Keras ``PyDataset`` face, ``load_image`` and the parts of a split; training
then opens no image file. Folders over the memory budget decode during the first epoch, as before."""
from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from nnmagics.config import settings
from nnmagics.data import image_data, image_pixels
from nnmagics.data.images import load_images, read_image
from nnmagics.errors import NNUsageError


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NNMAGICS_CACHE_DIR", str(tmp_path / "cache"))


def noisy_tree(root, per_class: int = 7) -> str:
    """``root/{cats,dogs}/N.jpg``: noise of different sizes, so the resize and the JPEG decode both matter."""
    rng = np.random.default_rng(0)
    for name in ("cats", "dogs"):
        os.makedirs(os.path.join(root, name))
        for i in range(per_class):
            h, w = (int(v) for v in rng.integers(20, 60, 2))
            Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(
                os.path.join(root, name, f"{i}.jpg"), quality=90)
    return str(root)


def rows(ds):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
    return np.concatenate(xs), np.concatenate(ys)


def no_decoding(monkeypatch):
    """Make any decode of an image file fail loudly from now on."""
    def refuse(*args, **kwargs):
        raise AssertionError("an image file was decoded again")

    monkeypatch.setattr(image_pixels, "decode_rows", refuse)
    monkeypatch.setattr(image_data, "_decode_resize", refuse)


@pytest.mark.tensorflow(reason="compares the tf.data pipeline from files and from memory")
def test_loading_decodes_once_and_every_path_serves_those_pixels(tmp_path):
    data = load_images(noisy_tree(tmp_path / "d"), image_size=16, batch_size=4)
    assert data.pixels_in_memory
    assert "kept in memory: 0.0 MB" in data._repr_html_()      # 14 images of 16×16: what %nn_data shows
    from_files = rows(data.as_tf_dataset(shuffle=True, seed=3, cache=False, dtype="uint8"))
    from_memory = rows(data.as_tf_dataset(shuffle=True, seed=3, dtype="uint8"))
    # the same images, in the same shuffled order, with the same labels, as decoding the files now
    np.testing.assert_array_equal(from_memory[0], from_files[0])
    np.testing.assert_array_equal(from_memory[1], from_files[1])
    assert not np.array_equal(from_memory[1], np.sort(from_memory[1]))  # it was shuffled
    for i in (0, 5, len(data) - 1):
        np.testing.assert_array_equal(data.load_image(i), read_image(data.files[i], (16, 16)).astype(np.float32))
    data.shuffle = False
    x, y = data[1]
    np.testing.assert_array_equal(x, np.stack([read_image(f, (16, 16)) for f in data.files[4:8]]))
    assert y.tolist() == data.labels[4:8].tolist()


def test_training_and_a_split_open_no_image_file_after_loading(tmp_path, monkeypatch):
    import keras

    from nnmagics.training import train

    data = load_images(noisy_tree(tmp_path / "d"), image_size=16, batch_size=4)
    no_decoding(monkeypatch)
    part, held_out = data.split(0.3, seed=0)
    assert part.pixels_in_memory and held_out.pixels_in_memory
    np.testing.assert_array_equal(held_out._pixels, data._pixels[[data.files.index(f) for f in held_out.files]])
    model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.Rescaling(1 / 255),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(1, activation="sigmoid")])
    history = train(model, data, epochs=2, val_split=0.3, seed=0, reporter=False)
    assert len(history.seconds) == 2 and "val_loss" in history.history
    model.fit(data, epochs=1, verbose=0)            # the course's own call, on the PyDataset face
    assert model.evaluate(held_out, verbose=0)[0] > 0


@pytest.mark.tensorflow(reason="the tf.data pipeline decodes during its first epoch")
def test_a_folder_over_the_memory_budget_decodes_during_the_first_epoch(tmp_path, monkeypatch):
    root = noisy_tree(tmp_path / "d")
    expected = load_images(root, image_size=16, batch_size=4)
    monkeypatch.setattr(settings(), "decoded_memory_mb", 0)
    data = load_images(root, image_size=16, batch_size=4)
    assert expected.pixels_in_memory and not data.pixels_in_memory
    assert "kept in memory" not in data._repr_html_()
    lazy = rows(data.as_tf_dataset(dtype="uint8"))
    np.testing.assert_array_equal(lazy[0], expected._pixels)
    for i in range(data.num_batches):   # the PyDataset face fills its store as Keras asks for batches
        data[i]
    assert data.pixels_in_memory
    np.testing.assert_array_equal(data._pixels, expected._pixels)


def test_the_budget_is_the_setting_and_never_over_a_quarter_of_free_memory(monkeypatch):
    monkeypatch.setattr(settings(), "decoded_memory_mb", 10)
    assert image_pixels.memory_budget() <= 10 * 1024 ** 2
    monkeypatch.setattr(os, "sysconf", lambda name: 1000 if name == "SC_AVPHYS_PAGES" else 4096)
    assert image_pixels.memory_budget() == 1000 * 4096 // 4
    assert image_pixels.pixel_bytes(1000, (150, 150)) == 67_500_000


@pytest.mark.tensorflow(reason="the tf.data pipeline's check")
def test_a_file_changed_after_loading_is_named_not_served_from_memory(tmp_path):
    data = load_images(noisy_tree(tmp_path / "d"), image_size=16, batch_size=4)
    assert data.pixels_in_memory
    victim = data.files[2]
    Image.new("RGB", (30, 30), (255, 255, 255)).save(victim, "JPEG")
    with pytest.raises(NNUsageError, match="was changed after %nn_data checked it"):
        data.as_tf_dataset()
    data.shuffle = False
    with pytest.raises(NNUsageError, match="was changed after %nn_data checked it"):
        data[0]                       # the batch holding it, on the PyDataset face
    with pytest.raises(NNUsageError, match="was changed after %nn_data checked it"):
        data.load_image(2)
    np.testing.assert_array_equal(data[1][0], np.stack([read_image(f, (16, 16)) for f in data.files[4:8]]))

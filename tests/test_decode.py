"""The decoder without TensorFlow (``nnmagics/data/decode.py``, the JAX and PyTorch backends) gives the
pixels TensorFlow's pipeline gives, file by file and resized, side by side (where TensorFlow is installed)."""
import io

import numpy as np
import pytest
from PIL import Image

from nnmagics.data.decode import decode_file, decode_files, resize_array


def _smooth(rng, h, w):
    """A photo-like image: random blocks upsampled (JPEG's worst case is noise, a photo's is edges)."""
    base = rng.integers(0, 256, (h // 8 + 2, w // 8 + 2, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(base).resize((w, h), Image.BICUBIC))


def _files(folder, rng):
    """JPEGs (colour and grey, three chroma subsamplings) and PNGs in every mode the pipeline reads."""
    paths = []
    for i, (mode, sub) in enumerate([("RGB", 0), ("RGB", 1), ("RGB", 2), ("L", 2), ("RGB", 2)]):
        h, w = (int(v) for v in rng.integers(40, 260, 2))
        path = folder / f"j{i}.jpg"
        Image.fromarray(_smooth(rng, h, w)).convert(mode).save(path, "JPEG", quality=int(rng.integers(60, 95)),
                                                                subsampling=sub)
        paths.append(path)
    for mode in ("RGB", "RGBA", "L", "LA", "P", "1"):
        h, w = (int(v) for v in rng.integers(7, 120, 2))
        path = folder / f"p_{mode}.png"
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).convert(mode).save(path)
        paths.append(path)
    return [str(p) for p in paths]


def test_the_numpy_resize_is_tensorflows_bilinear():
    tf = pytest.importorskip("tensorflow", reason="compares with TensorFlow's resize")
    from nnmagics.data.pixels import resize_pixels

    rng = np.random.default_rng(0)
    for _ in range(40):
        h, w, oh, ow = (int(v) for v in rng.integers(3, 200, 4))
        image = _smooth(rng, h, w) if rng.random() < 0.5 else rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        theirs = resize_pixels(tf.constant(image), (oh, ow)).numpy()
        assert np.array_equal(resize_array(image, (oh, ow)), theirs), (h, w, oh, ow)
    assert resize_pixels(image, (5, 6)).shape == (5, 6, 3)   # numpy in: numpy out, no TensorFlow tensor


def test_the_printed_load_folder_gives_nnmagics_pixels(tmp_path):
    """``--code``'s ``load_folder`` (JAX, PyTorch) resizes as ``resize_array``: a PNG folder's pixels equal
    nnmagics' own, a JPEG's within PIL's decoding difference; its comments are translated."""
    import os

    import keras

    from nnmagics.data.decode import LOAD_FOLDER, load_folder_code
    from nnmagics import i18n

    namespace = {"np": np, "os": os, "keras": keras}
    exec(LOAD_FOLDER, namespace)   # nnmagics' own text, as --code prints it
    rng = np.random.default_rng(3)
    for _ in range(40):
        h, w, oh, ow = (int(v) for v in rng.integers(3, 200, 4))
        image = _smooth(rng, h, w) if rng.random() < 0.5 else rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        assert np.array_equal(namespace["resize_bilinear"](image, (oh, ow)), resize_array(image, (oh, ow))), (h, w, oh, ow)
    for name in ("cats", "dogs"):
        os.makedirs(tmp_path / name)
    paths = _files(tmp_path, np.random.default_rng(4))
    for i, path in enumerate(paths):
        os.replace(path, tmp_path / ("cats", "dogs")[i % 2] / os.path.basename(path))
    x, labels = namespace["load_folder"](str(tmp_path), ["cats", "dogs"], (32, 48))
    ours = decode_files(sorted(str(tmp_path / c / f) for c in ("cats", "dogs") for f in os.listdir(tmp_path / c)),
                        [-1] * len(paths), (32, 48))
    assert x.shape == ours.shape == (len(paths), 32, 48, 3) and list(labels) == [0] * 6 + [1] * 5
    png = [i for i, p in enumerate(sorted(os.listdir(tmp_path / "cats")) + sorted(os.listdir(tmp_path / "dogs")))
           if p.endswith(".png")]
    assert np.array_equal(x[png], ours[png])
    assert int(np.abs(x.astype(int) - ours).max()) <= 12   # JPEG: PIL's accurate DCT against the fast one
    previous = i18n._setting
    try:
        i18n.set_language("fr")
        assert "    # le redimensionnement bilinéaire de TensorFlow" in load_folder_code()
        assert "    # (un JPEG décodé par PIL" in load_folder_code()
        i18n.set_language("en")
        assert load_folder_code() == LOAD_FOLDER
    finally:
        i18n.set_language(previous)


@pytest.mark.parametrize("size", [None, (32, 48), (150, 150)])
def test_files_decode_to_tensorflows_pixels(tmp_path, size):
    tf = pytest.importorskip("tensorflow", reason="compares with TensorFlow's decoder")
    pytest.importorskip("simplejpeg", reason="JPEGs decode as TensorFlow's only through simplejpeg")
    from nnmagics.data.image_pixels import decode_resize

    for path in _files(tmp_path, np.random.default_rng(1)):
        ours = decode_file(path, size)
        if size is None:
            theirs = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False).numpy()
        else:
            theirs = decode_resize(tf.constant(path), size).numpy()
        assert ours.shape == theirs.shape and ours.dtype == np.uint8, path
        assert int(np.abs(ours.astype(int) - theirs).max()) <= 1, path   # within one grey level (in fact equal)


def test_many_files_decode_in_order_and_a_changed_file_is_named(tmp_path):
    from nnmagics.errors import NNUsageError

    paths = _files(tmp_path, np.random.default_rng(2))
    sizes = [len(open(p, "rb").read()) for p in paths]
    many = decode_files(paths, sizes, (20, 30))
    assert many.shape == (len(paths), 20, 30, 3)
    for i in (0, 5, len(paths) - 1):
        assert np.array_equal(many[i], decode_file(paths[i], (20, 30)))
    with open(paths[3], "ab") as handle:
        handle.write(b"more")
    with pytest.raises(NNUsageError, match=r"j3\.jpg' was changed after %nn_data checked it"):
        decode_files(paths, sizes, (20, 30))

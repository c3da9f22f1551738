"""Real files that used to break nnmagics or lose work: names, changes after the check, huge images,
hostile names in HTML, stale or damaged caches, unwritable folders. Each test failed before its fix."""
from __future__ import annotations

import errno
import os
import struct
import sys
import zlib

import numpy as np
import pytest
from PIL import Image

from nnmagics.config import settings
from nnmagics.data.images import explain_file_error, load_images, read_rgb
from nnmagics.errors import NNUsageError

EVIL = "<img src=x onerror=alert(1)>.jpg"


def tree(root, counts=None, size=(12, 10)):
    """``root/{cats,dogs}/N.jpg``: solid colours, different per class and image."""
    counts = counts or {"cats": 3, "dogs": 3}
    for c, (name, n) in enumerate(counts.items()):
        os.makedirs(os.path.join(root, name), exist_ok=True)
        for i in range(n):
            Image.new("RGB", size, (200 * c, 40 * i, 90)).save(os.path.join(root, name, f"{i}.jpg"), quality=95)
    return str(root)


def epoch(data):
    return sum(int(x.shape[0]) for x, _ in data.batches())   # tf.data on TensorFlow, numpy batches elsewhere


def bytes_names_allowed(folder) -> bool:
    try:
        open(os.fsencode(str(folder)) + b"/probe\xe9", "wb").close()
        os.remove(os.fsencode(str(folder)) + b"/probe\xe9")
        return True
    except OSError:
        return False


# ----------------------------------------------------------------------------- non-UTF-8 file names
def test_file_and_folder_names_that_are_not_utf8_are_read(tmp_path):
    if sys.platform != "linux" or not bytes_names_allowed(tmp_path):
        pytest.skip("this file system refuses names that are not UTF-8")
    root = tree(tmp_path / "d")
    cats = os.fsencode(os.path.join(root, "cats"))
    Image.new("RGB", (12, 10), (5, 5, 5)).save(cats + b"/caf\xe9.jpg", "JPEG")
    os.makedirs(os.fsencode(root) + b"/\xe9l\xe9phants")
    Image.new("RGB", (12, 10), (9, 9, 9)).save(os.fsencode(root) + b"/\xe9l\xe9phants/a.jpg", "JPEG")

    data = load_images(root, image_size=8)
    assert len(data) == 8 and data.skipped == []
    assert data.class_names == ["cats", "dogs", "\ufffdl\ufffdphants"]  # shown as text every notebook can send
    assert epoch(data) == 8  # the first epoch used to fail on the name
    assert data.load_image(3).shape == (8, 8, 3)
    data._repr_html_().encode("utf-8")  # no lone surrogate reaches the notebook


# ----------------------------------------------------------------------------- files changed after the check
@pytest.mark.parametrize("how", ["deleted", "truncated", "rewritten"])
def test_a_file_changed_after_the_check_is_named_before_the_epoch(tmp_path, how):
    root = tree(tmp_path / "d")
    data = load_images(root, image_size=8)
    victim = data.files[4]
    if how == "deleted":
        os.remove(victim)
    elif how == "truncated":
        blob = open(victim, "rb").read()
        open(victim, "wb").write(blob[: len(blob) // 2])
    else:
        Image.new("RGB", (30, 30), (1, 2, 3)).save(victim, "JPEG")
    word = "deleted" if how == "deleted" else "changed"
    expected = (f"The image file '{victim}' was {word} after %nn_data checked it; "
                "run %nn_data again to re-check the folder.")
    with pytest.raises(NNUsageError) as err:
        data.batches()
    assert str(err.value) == expected
    with pytest.raises(NNUsageError, match=f"was {word} after %nn_data checked it"):
        data.load_image(4)
    assert epoch(load_images(root, image_size=8)) == (6 if how == "rewritten" else 5)  # re-running %nn_data works


def test_a_split_keeps_each_files_identity(tmp_path):
    data = load_images(tree(tmp_path / "d"), image_size=8)
    part, other = data.subset([1, 4]), data.subset([0, 2])
    os.remove(data.files[4])
    with pytest.raises(NNUsageError, match=f"'{data.files[4]}' was deleted"):
        part.batches()
    assert epoch(other) == 2 and other.files == [data.files[0], data.files[2]]


@pytest.mark.tensorflow(reason="TensorFlow's errors met mid-epoch in tf.data (numpy batches come from the decoded pixels)")
def test_a_file_truncated_during_an_epoch_is_named_not_decoded(tmp_path):
    import tensorflow as tf

    root = tree(tmp_path / "d")
    data = load_images(root, image_size=8)
    pipeline = data.as_tf_dataset(cache=False)  # checked now; the file changes while the epoch runs
    victim = data.files[2]
    blob = open(victim, "rb").read()
    open(victim, "wb").write(blob[:-40])
    with pytest.raises(tf.errors.OpError) as err:
        for _ in pipeline:
            pass
    explained = explain_file_error(err.value)
    assert explained is not None and f"'{victim}' was changed after %nn_data checked it" in str(explained)
    assert f"'{victim}' was changed" in str(explain_file_error(err.value, data))
    os.remove(victim)
    with pytest.raises(tf.errors.OpError) as err:
        for _ in data._decoded(False):
            pass
    assert f"'{victim}' was deleted after %nn_data checked it" in str(explain_file_error(err.value))
    assert explain_file_error(ValueError("a bug"), data) is None


def test_a_missing_converted_copy_is_made_again(tmp_path):
    root = tree(tmp_path / "d")
    Image.new("RGB", (12, 10), (1, 200, 3)).convert("CMYK").save(os.path.join(root, "cats", "cmyk.jpg"), "JPEG")
    data = load_images(root, image_size=8)
    converted = [d for f, d in zip(data.files, data._decode_paths) if f != d]
    assert len(converted) == 1
    os.remove(converted[0])  # the user emptied the cache folder
    assert epoch(data) == 7 and os.path.exists(converted[0])


# ----------------------------------------------------------------------------- a pixel cap
def big_png(path, width, height) -> str:
    """A grey PNG of width×height pixels written row by row (tiny on disk, huge once decoded)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    packer = zlib.compressobj(9)
    row = b"\x00" + bytes(width)
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    with open(path, "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                 + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return str(path)


def test_a_90_megapixel_png_is_skipped_from_its_header(tmp_path, monkeypatch):
    from PIL import ImageFile

    root = tree(tmp_path / "d")
    bomb = big_png(os.path.join(root, "dogs", "huge.png"), 9500, 9500)
    assert os.path.getsize(bomb) < 400_000
    decoded = []
    real_load = ImageFile.ImageFile.load

    def load(self):
        decoded.append(self.size[0] * self.size[1])
        return real_load(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    data = load_images(root, image_size=8)
    assert bomb not in data.files and len(data) == 6
    assert data.skipped == [(bomb, "image too large (9500×9500 = 90.2 megapixels, over the limit of 64: "
                                   "%config NNMagics.max_image_pixels)")]
    with pytest.raises(NNUsageError, match=r"'.*huge.png' is not read: image too large \(9500×9500"):
        read_rgb(bomb)
    assert decoded and max(decoded) < 1_000_000  # never decoded: the 90 megapixels stay on disk


def test_the_pixel_cap_is_a_setting_and_cached_checks_follow_it(tmp_path, monkeypatch):
    root = tree(tmp_path / "d", size=(40, 30))
    monkeypatch.setattr(settings(), "max_image_pixels", 1000)
    with pytest.raises(NNUsageError, match="holds no readable image"):
        load_images(root, image_size=8)
    monkeypatch.setattr(settings(), "max_image_pixels", 64_000_000)
    assert len(load_images(root, image_size=8)) == 6  # the cached "too large" results are checked again


# ----------------------------------------------------------------------------- HTML injection
def test_predictions_table_escapes_file_and_folder_names(ip, tmp_path, monkeypatch):
    import keras

    folder = tmp_path / "<i onmouseover=alert(2)>"
    folder.mkdir()
    Image.new("RGB", (16, 16), (250, 0, 0)).save(folder / EVIL, "JPEG")
    Image.new("RGB", (16, 16), (0, 0, 250)).save(folder / "plain.jpg", "JPEG")
    ip.user_ns["m"] = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.GlobalAveragePooling2D(),
                                        keras.layers.Dense(2, activation="softmax")])
    shown = []
    monkeypatch.setattr("nnmagics.display.output.show_html", lambda markup, text: shown.append(markup))
    ip.run_line_magic("vgg_transfer", f"predict '{folder}' --model m")
    ip.run_line_magic("vgg_transfer", f"predict '{folder / EVIL}' --model m")
    assert len(shown) == 2
    for markup in shown:
        assert "&lt;img src=x onerror=alert(1)&gt;" in markup
        assert "<img src=x" not in markup and "<i onmouseover" not in markup
    assert shown[0].count("<img src='data:image/png;base64,") == 2  # the thumbnails are still pictures


def test_no_html_output_of_the_package_turns_off_escaping():
    import pathlib

    package = pathlib.Path(__file__).resolve().parent.parent / "nnmagics"
    offenders = [str(p) for p in package.rglob("*.py") if "escape=False" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_skipped_and_class_names_are_escaped_in_the_dataset_html(tmp_path):
    root = tree(tmp_path / "d", {"<script>cats": 2, "dogs": 2})
    open(os.path.join(root, "dogs", EVIL), "w").write("not an image")
    markup = load_images(root, image_size=8)._repr_html_()
    assert "&lt;script&gt;cats" in markup and "&lt;img src=x" in markup
    assert "<script>" not in markup and "<img src=x" not in markup


# ----------------------------------------------------------------------------- the VGG16 feature cache
@pytest.fixture
def tiny_base():
    import keras

    inputs = keras.Input((8, 8, 3))
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(inputs), name="tiny_base")


def test_features_never_come_from_stale_pixels(tmp_path, tiny_base):
    from nnmagics.training import feature_cache as fc

    root = tree(tmp_path / "d")
    data = load_images(root, image_size=8)
    before, _ = fc.cached_features(tiny_base, data)
    victim = data.files[1]
    Image.new("RGB", (12, 10), (255, 255, 255)).save(victim, "JPEG", quality=100)  # new pixels
    # the in-memory dataset still holds the old pixels: it must not compute features under the new key
    with pytest.raises(NNUsageError, match=f"'{victim}' was changed after %nn_data checked it"):
        fc.cached_features(tiny_base, data)
    fc.clear_memory_cache()  # as after a restart
    fresh = load_images(root, image_size=8)
    after, _ = fc.cached_features(tiny_base, fresh)
    assert after[1].mean() > 250 and before[1].mean() < 200  # the new pixels' features
    np.testing.assert_allclose(after[0], before[0], atol=1e-4)
    assert fc.cache_key(tiny_base, fresh) != fc.cache_key(tiny_base, data)


def test_a_damaged_feature_cache_file_is_recomputed(tmp_path, tiny_base, monkeypatch):
    from nnmagics.training import feature_cache as fc

    data = load_images(tree(tmp_path / "d"), image_size=8)
    expected, _ = fc.cached_features(tiny_base, data)
    stored = os.path.join(fc.features_dir(), fc.cache_key(tiny_base, data) + ".npz")
    for damage in (lambda b: b[: len(b) // 2], lambda b: b[:10], lambda b: b"", lambda b: os.urandom(len(b))):
        blob = open(stored, "rb").read()
        open(stored, "wb").write(damage(blob))
        fc.clear_memory_cache()
        again, labels = fc.cached_features(tiny_base, data)  # used to raise EOFError/BadZipFile every run
        np.testing.assert_allclose(again, expected, atol=1e-6)
        assert list(labels) == list(data.labels)
        with np.load(stored) as rewritten:
            assert rewritten["features"].shape == expected.shape


# ----------------------------------------------------------------------------- --make-samples folders
def test_make_samples_creates_a_missing_folder(tmp_path):
    from nnmagics.data.samples import make_samples

    paths = make_samples(tmp_path / "new" / "course_data", images_per_class=(2, 1), image_tree=True, table=False)
    assert os.path.isdir(paths["images"])


def test_make_samples_into_a_file_is_one_sentence(tmp_path):
    from nnmagics.data.samples import make_samples

    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(NNUsageError, match="is a file, not a folder; give a folder name for the sample data"):
        make_samples(tmp_path / "notes.txt")
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_make_samples_into_a_read_only_folder(tmp_path):
    from nnmagics.data.samples import make_samples

    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("running as root: chmod does not stop root from writing (the injected case below covers it)")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(NNUsageError, match=r"Cannot write into '.*locked' \(Permission denied\); choose a folder"):
            make_samples(locked)
        assert os.listdir(locked) == []
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize("code, message", [
    (errno.EROFS, r"Cannot write into '.*' \(Read-only file system\); choose a folder you can write to"),
    (errno.EACCES, r"Cannot write into '.*' \(Permission denied\)"),
    (errno.ENOSPC, r"The disk holding '.*' is full; free some space or choose another folder"),
])
def test_make_samples_checks_the_folder_before_writing(tmp_path, monkeypatch, code, message):
    import tempfile

    from nnmagics.data import samples

    def refuse(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    with pytest.raises(NNUsageError, match=message):
        samples.make_samples(tmp_path / "out")
    assert os.listdir(tmp_path / "out") == []


def test_make_samples_on_a_nearly_full_disk(tmp_path, monkeypatch):
    import collections
    import shutil

    from nnmagics.data import samples

    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 50_000, 50_000))
    with pytest.raises(NNUsageError, match=r"Not enough disk space in '.*out' \(0.1 MB free, the sample data needs "):
        samples.make_samples(tmp_path / "out")
    assert os.listdir(tmp_path / "out") == []


def test_a_disk_that_fills_up_while_writing_leaves_no_half_tree(tmp_path, monkeypatch):
    from nnmagics.data import samples

    real_save = Image.Image.save
    count = []

    def save(self, fp, *args, **kwargs):
        count.append(1)
        if len(count) > 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_save(self, fp, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "save", save)
    with pytest.raises(NNUsageError, match="is full; free some space"):
        samples.make_samples(tmp_path / "out", table=False)
    assert os.listdir(tmp_path / "out") == []


# ----------------------------------------------------------------------------- what a notebook cell shows
def one_line(cell, text: str) -> None:
    """The cell failed ("Run all" stops) and shows only ``text``, on one line, without a traceback."""
    assert cell.status == "error", cell
    assert not cell.has_traceback and len(cell.error_lines) == 1, cell
    assert text in cell.error_lines[0], cell


def test_kernel_zip_bomb_and_duplicate_entries_are_one_line(kernel):
    import zipfile

    folder = kernel.folder / "bombs"
    folder.mkdir()
    with zipfile.ZipFile(folder / "small_bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(40):
            zf.writestr(f"z/{i}.bin", bytes(600 * 1024))
    one_line(kernel.run("%nn_data b bombs/small_bomb.zip"), "'small_bomb.zip' looks like a zip bomb")
    with pytest.warns(UserWarning):
        with zipfile.ZipFile(folder / "dup.zip", "w") as zf:
            zf.writestr("cats/a.jpg", b"1")
            zf.writestr("cats/a.jpg", b"2")
    one_line(kernel.run("%nn_data b bombs/dup.zip"), "holds the entry 'cats/a.jpg' twice")


def test_kernel_re_extracting_a_changed_zip_says_what_it_did_and_keeps_the_users_file(kernel):
    import zipfile

    def write_zip(colours):
        with zipfile.ZipFile(kernel.folder / "pets.zip", "w") as zf:
            for name, colour in colours.items():
                image = tmp_image(colour)
                zf.writestr(name, image)

    def tmp_image(colour) -> bytes:
        import io

        buffer = io.BytesIO()
        Image.new("RGB", (12, 10), colour).save(buffer, "JPEG")
        return buffer.getvalue()

    write_zip({f"pets/{c}/{i}.jpg": (90 * k, 30 * i, 0) for k, c in enumerate(("cats", "dogs")) for i in range(2)})
    first = kernel.run("%nn_data pets pets.zip --image-size 8")
    assert first.status == "ok" and "changed since" not in first.text, first
    mine = kernel.folder / "pets" / "pets" / "cats" / "mine.jpg"
    mine.write_bytes(tmp_image((1, 2, 3)))
    write_zip({f"pets/{c}/{i}.jpg": (90 * k, 30 * i, 50) for k, c in enumerate(("cats", "dogs")) for i in range(3)})
    os.utime(kernel.folder / "pets.zip", ns=(1, 10**18))
    again = kernel.run("%nn_data pets pets.zip --image-size 8")
    assert again.status == "ok", again
    assert (f"'pets.zip' changed since it was extracted into '{kernel.folder / 'pets'}': 4 replaced, 2 added; "
            "kept 1 file of yours ('pets/cats/mine.jpg')." in again.lines), again
    assert "7 images" in again.text and mine.exists()


def test_kernel_predictions_of_a_folder_show_hostile_names_as_text(kernel):
    folder = kernel.folder / "to_predict"
    folder.mkdir()
    Image.new("RGB", (16, 16), (250, 0, 0)).save(folder / EVIL, "JPEG")
    Image.new("RGB", (16, 16), (0, 0, 250)).save(folder / "plain.jpg", "JPEG")
    made = kernel.run("import keras\n"
                      "tiny = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.GlobalAveragePooling2D(), "
                      "keras.layers.Dense(2, activation='softmax')])")
    assert made.status == "ok", made
    cell = kernel.run("%vgg_transfer predict to_predict --model tiny")
    assert cell.status == "ok", cell
    markup = "".join(out["data"].get("text/html", "") for out in cell.outputs if out["output_type"] == "display_data")
    assert "&lt;img src=x onerror=alert(1)&gt;.jpg" in markup
    assert "<img src=x" not in markup


def test_kernel_a_file_deleted_before_training_is_named_in_one_line(kernel):
    tree(kernel.folder / "shrinking")
    loaded = kernel.run("%nn_data shrinking shrinking --image-size 8\n"
                        "import keras\n"
                        "small_cnn = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten(), "
                        "keras.layers.Dense(1, activation='sigmoid')])")
    assert loaded.status == "ok", loaded
    victim = kernel.folder / "shrinking" / "dogs" / "1.jpg"
    victim.unlink()
    one_line(kernel.run("%nn_train small_cnn shrinking --epochs 1 --no-live"),
             f"The image file '{victim}' was deleted after %nn_data checked it; run %nn_data again")


def test_kernel_make_samples_into_a_file_is_one_line(kernel):
    (kernel.folder / "notes.txt").write_text("mine")
    one_line(kernel.run("%nn_data --make-samples notes.txt"), "is a file, not a folder")
    assert (kernel.folder / "notes.txt").read_text() == "mine"

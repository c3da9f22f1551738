"""Safe zip extraction, and loading image folders from a zip."""
from __future__ import annotations

import io
import os
import stat
import zipfile

import pytest
from PIL import Image

from nnmagics.config import settings
from nnmagics.data import archive
from nnmagics.data.archive import MARKER, extract_zip
from nnmagics.data.images import load_images
from nnmagics.errors import NNUsageError


@pytest.fixture(autouse=True)
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("NNMAGICS_CACHE_DIR", str(tmp_path / "cache"))


def make_zip(path, entries: dict[str, bytes], *, compression=zipfile.ZIP_DEFLATED) -> str:
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return str(path)


def jpeg(colour=(200, 100, 50), size=(24, 18)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "JPEG")
    return buf.getvalue()


def image_entries(prefix: str = "", splits=("train/", "validation/")) -> dict[str, bytes]:
    entries = {}
    for split in splits:
        for c, name in enumerate(("cats", "dogs")):
            for i in range(2):
                entries[f"{prefix}{split}{name}/{name[:-1]}.{i}.jpg"] = jpeg((40 + 100 * c, 80, 20 * i))
    return entries


def leftovers(folder) -> list[str]:
    return [n for n in os.listdir(folder) if ".partial-" in n or n.endswith(".old")]


# ----------------------------------------------------------------------------- extract_zip
def test_extracts_and_skips_macos_junk(tmp_path):
    zp = make_zip(tmp_path / "a.zip", {"top/x.txt": b"hello", "top/sub/y.bin": b"\x00\x01",
                                        "__MACOSX/top/._x.txt": b"junk", "top/._y.bin": b"junk", "top/empty/": b""})
    dest = extract_zip(zp, tmp_path / "out")
    assert dest == str(tmp_path / "out")
    assert (tmp_path / "out" / "top" / "x.txt").read_bytes() == b"hello"
    assert (tmp_path / "out" / "top" / "sub" / "y.bin").read_bytes() == b"\x00\x01"
    assert not (tmp_path / "out" / "__MACOSX").exists()
    assert not (tmp_path / "out" / "top" / "._y.bin").exists()
    assert (tmp_path / "out" / MARKER).exists()
    assert leftovers(tmp_path) == []


def test_unchanged_zip_is_reused_and_changed_zip_updates_its_own_files(tmp_path, capsys):
    zp = make_zip(tmp_path / "a.zip", {"x.txt": b"v1", "gone.txt": b"old"})
    extract_zip(zp, tmp_path / "out")
    (tmp_path / "out" / "x.txt").write_bytes(b"edited")  # proves the second call does not re-extract
    extract_zip(zp, tmp_path / "out")
    assert (tmp_path / "out" / "x.txt").read_bytes() == b"edited"
    assert capsys.readouterr().out == ""

    (tmp_path / "out" / "x.txt").write_bytes(b"v1")
    make_zip(tmp_path / "a.zip", {"x.txt": b"version two", "new.txt": b"n"})
    os.utime(zp, ns=(1, 10**18))
    extract_zip(zp, tmp_path / "out")
    # x.txt was touched by the user, so it is theirs now: kept, and said
    assert (tmp_path / "out" / "x.txt").read_bytes() == b"v1"
    assert (tmp_path / "out" / "new.txt").read_bytes() == b"n"
    assert not (tmp_path / "out" / "gone.txt").exists()  # nnmagics wrote it, the archive dropped it
    line = capsys.readouterr().out.strip()
    assert line == (f"'a.zip' changed since it was extracted into '{tmp_path / 'out'}': 1 added, 1 removed; "
                    "kept 1 file of yours ('x.txt'), 1 of them instead of the archive's new version.")
    assert leftovers(tmp_path) == []


def test_re_extracting_a_changed_zip_never_deletes_the_users_files(tmp_path, capsys):
    entries = image_entries("pets/")
    zp = make_zip(tmp_path / "pets.zip", entries)
    out = tmp_path / "pets"
    extract_zip(zp, out)
    mine = out / "pets" / "train" / "cats" / "my_own_cat.jpg"
    mine.write_bytes(jpeg((1, 2, 3)))
    (out / "pets" / "notes").mkdir()
    (out / "pets" / "notes" / "todo.txt").write_text("label the rest")

    entries["pets/train/cats/cat.0.jpg"] = jpeg((9, 9, 9))       # changed
    entries["pets/train/cats/cat.7.jpg"] = jpeg((7, 7, 7))       # added
    del entries["pets/validation/dogs/dog.1.jpg"]                 # dropped
    make_zip(zp, entries)
    os.utime(zp, ns=(1, 10**18))
    extract_zip(zp, out)

    assert mine.read_bytes() == jpeg((1, 2, 3))
    assert (out / "pets" / "notes" / "todo.txt").read_text() == "label the rest"
    assert (out / "pets" / "train" / "cats" / "cat.0.jpg").read_bytes() == jpeg((9, 9, 9))
    assert (out / "pets" / "train" / "cats" / "cat.7.jpg").exists()
    assert not (out / "pets" / "validation" / "dogs" / "dog.1.jpg").exists()
    line = capsys.readouterr().out.strip()
    assert "1 replaced, 1 added, 1 removed; kept 2 files of yours ('pets/notes/todo.txt', …)" in line
    assert "\n" not in line and leftovers(tmp_path) == []
    # and the re-extracted folder loads
    data = load_images(str(zp), image_size=8)
    assert len(data) == 6 and len(data.validation) == 3


def test_interrupted_update_keeps_knowing_its_files(tmp_path, monkeypatch):
    zp = make_zip(tmp_path / "a.zip", {"a.txt": b"a1", "b.txt": b"b1"})
    out = tmp_path / "out"
    extract_zip(zp, out)
    make_zip(zp, {"a.txt": b"a2", "b.txt": b"b2"})
    os.utime(zp, ns=(1, 10**18))
    real = os.replace
    calls = []

    def crash_after_first_move(src, dst):
        calls.append(dst)
        if str(dst).endswith("b.txt"):
            raise KeyboardInterrupt
        return real(src, dst)

    monkeypatch.setattr(archive.os, "replace", crash_after_first_move)
    for _ in range(2):  # interrupted twice
        with pytest.raises(KeyboardInterrupt):
            extract_zip(zp, out)
    monkeypatch.setattr(archive.os, "replace", real)
    assert (out / "a.txt").read_bytes() == b"a2" and (out / "b.txt").read_bytes() == b"b1"
    make_zip(zp, {"a.txt": b"a3", "b.txt": b"b3"})
    os.utime(zp, ns=(1, 2 * 10**18))
    extract_zip(zp, out)  # the half-done update finishes: both files are still nnmagics' own
    assert (out / "a.txt").read_bytes() == b"a3" and (out / "b.txt").read_bytes() == b"b3"
    assert leftovers(tmp_path) == []


def test_a_changed_zip_never_writes_through_the_users_folder_or_link(tmp_path):
    zp = make_zip(tmp_path / "a.zip", {"top/a.txt": b"a"})
    out = tmp_path / "out"
    extract_zip(zp, out)
    (out / "top" / "b.txt").mkdir()          # the user's folder where the new archive has a file
    (out / "top" / "b.txt" / "keep").write_text("mine")
    make_zip(zp, {"top/a.txt": b"a2", "top/b.txt": b"b"})
    os.utime(zp, ns=(1, 10**18))
    with pytest.raises(NNUsageError, match="where you keep a folder of that name; move it away"):
        extract_zip(zp, out)
    assert (out / "top" / "a.txt").read_bytes() == b"a"  # nothing changed
    assert (out / "top" / "b.txt" / "keep").read_text() == "mine"


@pytest.mark.parametrize("name", ["../evil.txt", "ok/../../evil.txt", "a\\..\\..\\evil.txt"])
def test_path_traversal_is_rejected(tmp_path, name):
    zp = make_zip(tmp_path / "a.zip", {"fine.txt": b"ok", name: b"pwned"})
    (tmp_path / "deep").mkdir()
    with pytest.raises(NNUsageError, match="escaping the target folder"):
        extract_zip(zp, tmp_path / "deep" / "out")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "deep" / "evil.txt").exists()
    assert not (tmp_path / "deep" / "out").exists()
    assert leftovers(tmp_path / "deep") == []


@pytest.mark.parametrize("name", ["/etc/evil.txt", "C:/evil.txt", "c:\\evil.txt"])
def test_absolute_paths_are_rejected(tmp_path, name):
    zp = make_zip(tmp_path / "a.zip", {name: b"pwned"})
    with pytest.raises(NNUsageError, match="absolute path"):
        extract_zip(zp, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_symlinks_are_rejected(tmp_path):
    info = zipfile.ZipInfo("link")
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as zf:
        zf.writestr("ok.txt", b"ok")
        zf.writestr(info, "/etc/passwd")
    with pytest.raises(NNUsageError, match="symbolic link"):
        extract_zip(tmp_path / "a.zip", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_size_cap(tmp_path, monkeypatch):
    zp = make_zip(tmp_path / "a.zip", {"a.bin": os.urandom(600), "b.bin": os.urandom(600)})
    with pytest.raises(NNUsageError, match="expand to more than 1.0 KB.*max_zip_bytes"):
        extract_zip(zp, tmp_path / "out", max_bytes=1024)
    assert not (tmp_path / "out").exists()
    monkeypatch.setattr(settings(), "max_zip_bytes", 1000)
    with pytest.raises(NNUsageError, match="max_zip_bytes"):
        extract_zip(zp, tmp_path / "out")
    assert extract_zip(zp, tmp_path / "out", max_bytes=1200) == str(tmp_path / "out")


def test_lying_header_cannot_exceed_the_cap(tmp_path):
    zp = make_zip(tmp_path / "a.zip", {"a.bin": b"x" * 5000})
    out = tmp_path / "out"
    out.mkdir()
    with zipfile.ZipFile(zp) as zf:
        members = archive.safe_members(zf, 10**6)
        # the bytes written are counted against the cap, whatever the headers said
        with pytest.raises(NNUsageError, match="more than"):
            archive._extract_members(zf, members, str(out), 1000, zip_name="a.zip")
        assert (out / "a.bin").stat().st_size <= 1000
        members[0][0].file_size = 10  # a header that under-reports the size: read stops there, CRC fails
        with pytest.raises(NNUsageError, match="damaged"):
            archive._extract_members(zf, members, str(out), 1000, zip_name="a.zip")


def test_zip_bomb_ratio_is_rejected(tmp_path):
    zp = make_zip(tmp_path / "bomb.zip", {"zeros.bin": bytes(8 * 1024 * 1024)})
    assert os.path.getsize(zp) < 100_000
    with pytest.raises(NNUsageError, match="zip bomb"):
        extract_zip(zp, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_corrupt_archives(tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(os.urandom(300))
    with pytest.raises(NNUsageError, match="not a valid zip archive"):
        extract_zip(junk, tmp_path / "out")

    good = make_zip(tmp_path / "good.zip", image_entries())
    cut = tmp_path / "cut.zip"
    cut.write_bytes(open(good, "rb").read()[:-100])
    with pytest.raises(NNUsageError, match="not a valid zip archive"):
        extract_zip(cut, tmp_path / "out")

    payload = b"A" * 400 + b"MARK" + b"B" * 400
    stored = make_zip(tmp_path / "crc.zip", {"first.txt": b"fine", "data.txt": payload}, compression=zipfile.ZIP_STORED)
    raw = open(stored, "rb").read()
    (tmp_path / "crc.zip").write_bytes(raw.replace(b"MARK", b"MORK"))
    with pytest.raises(NNUsageError, match="damaged at 'data.txt'"):
        extract_zip(tmp_path / "crc.zip", tmp_path / "out")
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []

    with pytest.raises(NNUsageError, match="No such zip file"):
        extract_zip(tmp_path / "missing.zip", tmp_path / "out")


def test_interrupted_extraction_leaves_nothing(tmp_path, monkeypatch):
    zp = make_zip(tmp_path / "a.zip", {"a.txt": b"a", "b.txt": b"b"})
    real = archive._extract_members

    def interrupted(zf, members, dest, cap, *, zip_name):
        real(zf, members[:1], dest, cap, zip_name=zip_name)
        raise KeyboardInterrupt

    monkeypatch.setattr(archive, "_extract_members", interrupted)
    with pytest.raises(KeyboardInterrupt):
        extract_zip(zp, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert leftovers(tmp_path) == []
    monkeypatch.setattr(archive, "_extract_members", real)
    extract_zip(zp, tmp_path / "out")
    assert sorted(os.listdir(tmp_path / "out")) == [MARKER, "a.txt", "b.txt"]


def test_existing_foreign_folder_is_not_overwritten(tmp_path):
    zp = make_zip(tmp_path / "a.zip", {"a.txt": b"a"})
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "mine.txt").write_text("keep me")
    with pytest.raises(NNUsageError, match="already exists and was not extracted"):
        extract_zip(zp, tmp_path / "out")
    assert (tmp_path / "out" / "mine.txt").read_text() == "keep me"


# ----------------------------------------------------------------------------- load_images on a zip
def test_load_zip_with_a_single_top_folder(tmp_path):
    zp = make_zip(tmp_path / "cats_and_dogs_filtered.zip", image_entries("cats_and_dogs_filtered/"))
    data = load_images(zp, image_size=16)
    assert data.class_names == ["cats", "dogs"] and len(data) == 4 and len(data.validation) == 4
    assert data.root == str(tmp_path / "cats_and_dogs_filtered" / "cats_and_dogs_filtered" / "train")
    marker = tmp_path / "cats_and_dogs_filtered" / MARKER
    stamp = marker.stat().st_mtime_ns
    again = load_images(str(zp), image_size=16)  # re-used, not extracted again
    assert marker.stat().st_mtime_ns == stamp and again.files == data.files


@pytest.mark.parametrize("entries", [image_entries(), image_entries(splits=("",))])
def test_load_zip_without_top_folder(tmp_path, entries):
    zp = make_zip(tmp_path / "d.zip", entries)
    data = load_images(zp, image_size=8, extract_to=tmp_path / "elsewhere")
    assert data.root.startswith(str(tmp_path / "elsewhere"))
    assert data.class_names == ["cats", "dogs"] and len(data) == 4


def test_zip_next_to_a_manual_unzip(tmp_path):
    zp = make_zip(tmp_path / "pets.zip", image_entries())
    (tmp_path / "pets").mkdir()
    (tmp_path / "pets" / "mine.txt").write_text("the user's own folder")
    data = load_images(zp, image_size=8)
    assert data.root == str(tmp_path / "pets_nnmagics" / "train")
    assert (tmp_path / "pets" / "mine.txt").exists()


def test_load_unsafe_zip_is_a_usage_error(tmp_path):
    entries = image_entries()
    entries["../escape.jpg"] = jpeg()
    zp = make_zip(tmp_path / "bad.zip", entries)
    with pytest.raises(NNUsageError, match="escaping"):
        load_images(zp)
    assert not (tmp_path / "escape.jpg").exists()


# ----------------------------------------------------------------------------- awkward entries
def test_duplicate_entries_are_refused(tmp_path):
    zp = tmp_path / "dup.zip"
    with pytest.warns(UserWarning, match="Duplicate name"):
        with zipfile.ZipFile(zp, "w") as zf:
            zf.writestr("train/cats/cat.0.jpg", jpeg((1, 1, 1)))
            zf.writestr("train/cats/cat.0.jpg", jpeg((2, 2, 2)))
    with pytest.raises(NNUsageError, match="holds the entry 'train/cats/cat.0.jpg' twice"):
        extract_zip(zp, tmp_path / "out")
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


def zip_with_raw_names(path, entries: dict[bytes, bytes]) -> str:
    """A zip whose entry names are the given bytes, stored without the UTF-8 flag (as many zip tools do)."""
    tokens = {}
    with zipfile.ZipFile(path, "w") as zf:
        for i, (raw, data) in enumerate(entries.items()):
            token = f"N{i:03d}".ljust(len(raw), "_").encode("ascii")
            assert len(token) == len(raw)
            tokens[token] = raw
            zf.writestr(token.decode("ascii"), data)
    blob = open(path, "rb").read()
    for token, raw in tokens.items():
        blob = blob.replace(token, raw)
    open(path, "wb").write(blob)
    return str(path)


def test_utf8_names_without_the_utf8_flag_give_the_right_class_names(tmp_path):
    entries = {f"{cls}/é{j}.jpg".encode("utf-8"): jpeg((60 * i, 10 * j, 0))
               for i, cls in enumerate(("chats_tigrés", "chiens_marrons")) for j in range(2)}
    zp = zip_with_raw_names(tmp_path / "fr.zip", entries)
    with zipfile.ZipFile(zp) as zf:
        assert all(not info.flag_bits & 0x800 for info in zf.infolist())
        assert "chats_tigrés/é0.jpg" not in zf.namelist()  # what Python alone reads: mojibake
    data = load_images(zp, image_size=8)
    assert data.class_names == ["chats_tigrés", "chiens_marrons"]
    assert os.path.basename(data.files[0]) == "é0.jpg"


def test_real_cp437_names_keep_their_reading(tmp_path):
    zp = zip_with_raw_names(tmp_path / "dos.zip", {b"caf\x82/x.txt": b"x"})  # 0x82 is é in cp437
    extract_zip(zp, tmp_path / "out")
    assert (tmp_path / "out" / "café" / "x.txt").exists()


def test_names_too_long_for_the_disk_fail_cleanly(tmp_path):
    zp = make_zip(tmp_path / "long.zip", {"train/cats/" + "c" * 296 + ".jpg": jpeg(), "train/dogs/d.jpg": jpeg()})
    with pytest.raises(NNUsageError, match=r"holds a name too long for the disk \('c{40}…', 300 bytes where at most 255"):
        extract_zip(zp, tmp_path / "out")
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


def test_zip_bomb_of_many_small_entries_is_refused(tmp_path):
    entries = {f"z/{i}.bin": bytes(600 * 1024) for i in range(40)}  # each under 1 MiB, 24 MB in all
    zp = make_zip(tmp_path / "small_bomb.zip", entries)
    assert os.path.getsize(zp) < 200_000
    with pytest.raises(NNUsageError, match="looks like a zip bomb"):
        extract_zip(zp, tmp_path / "out")
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


def test_zip_bomb_hidden_among_ordinary_files_is_refused(tmp_path):
    entries = {f"noise/{i}.bin": os.urandom(200_000) for i in range(10)}  # 2 MB that does not compress
    entries.update({f"z/{i}.bin": bytes(500 * 1024) for i in range(4)})
    zp = make_zip(tmp_path / "mixed.zip", entries)
    with pytest.raises(NNUsageError, match="looks like a zip bomb"):
        extract_zip(zp, tmp_path / "out")


def test_an_entry_named_like_the_marker_cannot_forge_it(tmp_path):
    zp = make_zip(tmp_path / "a.zip", {MARKER: b'{"zip": "x", "files": {}}', "a.txt": b"a"})
    extract_zip(zp, tmp_path / "out")
    assert '"a.txt"' in (tmp_path / "out" / MARKER).read_text()


def test_unwritable_destination_is_one_sentence(tmp_path, monkeypatch):
    zp = make_zip(tmp_path / "a.zip", {"a.txt": b"a"})
    real = os.makedirs

    def refuse(path, *args, **kwargs):
        if ".partial-" in str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(archive.os, "makedirs", refuse)
    with pytest.raises(NNUsageError, match=r"Cannot write into .* \(Permission denied\) to extract 'a.zip'"):
        extract_zip(zp, tmp_path / "out")

"""Safe extraction of ``.zip`` archives (cats_and_dogs_filtered.zip and the like).

Every entry is checked before anything is written: no absolute path, no ``..``
component, no symbolic link, no encrypted entry, no name twice, no name too long for
the disk, a cap on the total uncompressed size and on the compression ratio (zip bombs,
including those made of many small entries). Names stored as UTF-8 without the zip's
UTF-8 flag are decoded as UTF-8, not as the legacy cp437.

The archive is extracted into a hidden temporary folder beside the destination. The
first time, that folder is renamed into place (an interrupted extraction leaves nothing
half-filled). A marker file in the destination (:mod:`.archive_marker`) records the archive
and every file nnmagics wrote: the same unchanged archive is re-used as is, and a changed one
only replaces, adds and removes files nnmagics wrote and the user did not touch; files the
user added or edited are never deleted (one line says what happened).
"""
from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import time
import uuid
import zipfile
from typing import Callable

from ..config import settings
from ..errors import NNUsageError
from ..i18n import _, num
from .archive_marker import MARKER, archive_stamp, manifest_of, read_marker, same_archive, update, write_marker

# A ratio this high only comes from crafted or degenerate data (real photos compress < 2x,
# text < 20x). Tiny highly compressible files are harmless one by one, so the cap applies to
# the bytes of all such entries together (and to the whole archive) once they exceed 1 MiB.
MAX_RATIO = 200
RATIO_MIN_BYTES = 1 << 20
NAME_MAX = 255  # bytes in one file or folder name on Linux, macOS and Windows file systems
_UTF8_FLAG = 0x800
_STALE_SECONDS = 3600
_CHUNK = 1 << 20


def extract_zip(zip_path: str | os.PathLike, dest_dir: str | os.PathLike, *, max_bytes: int | None = None,
                announce: Callable[[str], None] | None = print) -> str:
    """Extract ``zip_path`` safely into the folder ``dest_dir`` and return its path.

    ``dest_dir`` is created by the extraction; if it already holds an extraction of the
    same unchanged archive it is re-used as is; if it holds one of another version of the
    archive, only the files nnmagics wrote there (and nobody changed since) are replaced or
    removed, and ``announce`` gets one line saying what changed; any other existing folder
    is left alone (an error says so). ``max_bytes`` caps the total uncompressed size (default
    ``%config NNMagics.max_zip_bytes``). ``__MACOSX/`` and ``._*`` entries are skipped.

    Example::

        >>> root = extract_zip("cats_and_dogs_filtered.zip", "data/cats_and_dogs")  # doctest: +SKIP
        >>> sorted(os.listdir(root))                                                # doctest: +SKIP
        ['.nnmagics-extracted.json', 'cats_and_dogs_filtered']
    """
    zip_path = os.path.abspath(os.path.expanduser(os.fspath(zip_path)))
    dest_dir = os.path.abspath(os.path.expanduser(os.fspath(dest_dir)))
    zip_name = os.path.basename(zip_path)
    cap = settings().max_zip_bytes if max_bytes is None else int(max_bytes)
    if not os.path.isfile(zip_path):
        raise NNUsageError(_("No such zip file: '{path}'; check the path.").format(path=zip_path))
    stamp = archive_stamp(zip_path)
    marker = read_marker(dest_dir)
    if marker is not None and same_archive(marker, stamp):
        return dest_dir
    if os.path.exists(dest_dir) and marker is None and _has_content(dest_dir):
        raise NNUsageError(
            _("The folder '{folder}' already exists and was not extracted from '{zip}'; "
              "load that folder directly or choose another folder to extract to.").format(folder=dest_dir, zip=zip_name)
        )

    parent = os.path.dirname(dest_dir)
    tmp = os.path.join(parent, f".{os.path.basename(dest_dir)}.partial-{uuid.uuid4().hex[:8]}")
    try:
        os.makedirs(parent, exist_ok=True)
        _remove_stale_temps(parent, os.path.basename(dest_dir))
        with _open_zip(zip_path) as archive:
            members = safe_members(archive, cap, zip_name=zip_name)
            os.makedirs(tmp)
            limit = min(cap, max(RATIO_MIN_BYTES, MAX_RATIO * stamp["size"]))
            _extract_members(archive, members, tmp, limit, zip_name=zip_name)
        manifest = manifest_of(tmp, [rel for _info, rel in members])
        if marker is None:  # first extraction: rename the whole folder into place
            write_marker(tmp, {**stamp, "files": manifest})
            _swap_into_place(tmp, dest_dir)
        else:
            line = update(tmp, dest_dir, manifest, marker, stamp, zip_name)
            if line and announce is not None:
                announce(line)
    except OSError as exc:
        raise _os_problem(exc, zip_name, dest_dir) from None
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    return dest_dir


def _os_problem(exc: OSError, zip_name: str, dest_dir: str) -> NNUsageError:
    """One sentence for a disk problem met while extracting (full, read-only, name too long…)."""
    if exc.errno == errno.ENOSPC:
        return NNUsageError(_("Not enough disk space to extract '{zip}'; free some space or extract elsewhere.").format(
            zip=zip_name))
    if exc.errno == errno.ENAMETOOLONG:
        return NNUsageError(
            _("'{zip}' holds paths too long for this disk once extracted into '{folder}'; "
              "extract it into a folder with a shorter path (extract_to=...).").format(zip=zip_name, folder=dest_dir)
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return NNUsageError(
            _("Cannot write into '{folder}' ({reason}) to extract '{zip}'; "
              "extract it into a writable folder (extract_to=...).").format(
                folder=os.path.dirname(dest_dir), reason=exc.strerror, zip=zip_name)
        )
    return NNUsageError(_("Extracting '{zip}' into '{folder}' failed ({reason}); "
                          "check the disk and try again.").format(zip=zip_name, folder=dest_dir,
                                                                  reason=exc.strerror or exc))


def safe_members(archive: zipfile.ZipFile, max_bytes: int, *,
                 zip_name: str = "the archive") -> list[tuple[zipfile.ZipInfo, str]]:
    """Check every entry of ``archive``; return ``(info, safe relative path)`` pairs to extract.

    Raises ``NNUsageError`` naming the first unsafe entry. Directory entries, ``__MACOSX/``
    and ``._*`` (macOS resource forks) are left out.

    Example::

        >>> with zipfile.ZipFile("pets.zip") as zf:                      # doctest: +SKIP
        ...     [rel for _, rel in safe_members(zf, 2**30)]
        ['train/cats/cat.0.jpg', 'train/dogs/dog.0.jpg']
    """
    members = []
    seen: set[str] = set()
    total = packed = bomb_bytes = 0
    for info in archive.infolist():
        name = entry_name(info)
        rel = _safe_relative_name(name, zip_name)
        if rel is None:
            continue
        if _is_symlink(info):
            raise NNUsageError(
                _("'{zip}' contains a symbolic link ('{name}'), which is refused for safety; "
                  "re-create the archive without links.").format(zip=zip_name, name=name)
            )
        if info.flag_bits & 0x1:
            raise NNUsageError(
                _("'{zip}' is password-protected ('{name}'); extract it yourself and load the folder.").format(
                    zip=zip_name, name=name)
            )
        _check_name_lengths(rel, name, zip_name)
        if info.is_dir():
            continue
        if rel in seen:
            raise NNUsageError(
                _("'{zip}' holds the entry '{name}' twice, so nnmagics cannot tell which one to use and "
                  "extracted nothing; re-create the archive without duplicates.").format(zip=zip_name, name=name)
            )
        seen.add(rel)
        total += info.file_size
        packed += info.compress_size
        if total > max_bytes:
            raise NNUsageError(
                _("'{zip}' would expand to more than {size}; "
                  "raise the cap with %config NNMagics.max_zip_bytes = N if you trust this archive.").format(
                    zip=zip_name, size=_human(max_bytes))
            )
        if info.file_size > MAX_RATIO * max(info.compress_size, 1):
            bomb_bytes += info.file_size
        if bomb_bytes > RATIO_MIN_BYTES or (total > RATIO_MIN_BYTES and total > MAX_RATIO * max(packed, 1)):
            raise _bomb(zip_name, total, packed)
        members.append((info, rel))
    return members


def _bomb(zip_name: str, total: int, packed: int) -> NNUsageError:
    return NNUsageError(
        _("'{zip}' looks like a zip bomb (its entries expand {ratio}x their compressed size, "
          "to at least {size}); it was not extracted.").format(
            zip=zip_name, ratio=num(total // max(packed, 1), ","), size=_human(total))
    )


def entry_name(info: zipfile.ZipInfo) -> str:
    """The entry's name, decoding as UTF-8 a name stored without the zip's UTF-8 flag when it is valid UTF-8.

    Zip tools on macOS and Linux often write UTF-8 names without setting the flag; Python
    then decodes them as cp437 (``chat_noir/Ã©tÃ©.jpg``). Real cp437 names rarely form
    valid UTF-8, so they keep their cp437 reading.

    Example::

        >>> entry_name(zipfile.ZipInfo("chats/été.jpg".encode("utf-8").decode("cp437")))
        'chats/été.jpg'
    """
    name = info.filename
    if info.flag_bits & _UTF8_FLAG or name.isascii():
        return name
    try:
        return name.encode("cp437").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return name


def _check_name_lengths(rel: str, name: str, zip_name: str) -> None:
    for part in rel.split("/"):
        size = len(os.fsencode(part))
        if size > NAME_MAX:
            raise NNUsageError(
                _("'{zip}' holds a name too long for the disk ('{name}…', {size} bytes where at most "
                  "{limit} fit); nothing was extracted, re-create the archive with shorter names.").format(
                    zip=zip_name, name=part[:40], size=size, limit=NAME_MAX)
            )


def _safe_relative_name(name: str, zip_name: str) -> str | None:
    """The entry's path relative to the destination, None for skipped entries; raise if unsafe."""
    clean = name.replace("\\", "/")
    if "\x00" in clean:
        raise NNUsageError(_("'{zip}' contains an entry with an invalid name; it was not extracted.").format(
            zip=zip_name))
    if clean.startswith("/") or re.match(r"[A-Za-z]:", clean):
        raise NNUsageError(
            _("'{zip}' contains an absolute path ('{name}'), which is refused for safety; it was not "
              "extracted.").format(zip=zip_name, name=name)
        )
    parts = [p for p in clean.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise _escaping(zip_name, name)
    if not parts or parts[0] == "__MACOSX" or parts[-1].startswith("._") or parts == [MARKER]:
        return None
    return "/".join(parts)


def _escaping(zip_name: str, name: str) -> NNUsageError:
    return NNUsageError(
        _("'{zip}' contains a path escaping the target folder ('{name}'), which is refused for safety; "
          "it was not extracted.").format(zip=zip_name, name=name)
    )


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _extract_members(archive, members, dest: str, cap: int, *, zip_name: str) -> None:
    """Copy each member's bytes, counting them so that a lying header cannot exceed ``cap``."""
    written = 0
    for info, rel in members:
        target = os.path.join(dest, *rel.split("/"))
        # belt and braces: the resolved target must stay inside dest
        if os.path.commonpath([os.path.realpath(target), os.path.realpath(dest)]) != os.path.realpath(dest):
            raise _escaping(zip_name, info.filename)
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with archive.open(info) as src, open(target, "wb") as out:
                while chunk := src.read(_CHUNK):
                    written += len(chunk)
                    if written > cap:
                        raise NNUsageError(
                            _("'{zip}' expands to more than {size} (a zip bomb, or an archive over "
                              "the cap); raise the cap with %config NNMagics.max_zip_bytes = N if you trust "
                              "it.").format(zip=zip_name, size=_human(cap))
                        )
                    out.write(chunk)
        except NNUsageError:
            raise
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            raise NNUsageError(_("'{zip}' holds a file and a folder with the same name "
                                 "('{name}'); re-create the archive.").format(zip=zip_name,
                                                                             name=entry_name(info))) from None
        except OSError as exc:
            if exc.errno is not None:  # disk full, permission…: a real OS problem, not a bad archive
                raise
            raise _damaged(zip_name, info, exc) from None
        except Exception as exc:  # BadZipFile (bad CRC), zlib/lzma/bz2 errors, unsupported method
            raise _damaged(zip_name, info, exc) from None


def _damaged(zip_name: str, info: zipfile.ZipInfo, exc: Exception) -> NNUsageError:
    return NNUsageError(_("'{zip}' is damaged at '{name}' ({reason}); download it again.").format(
        zip=zip_name, name=entry_name(info), reason=exc))


def _open_zip(path: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise NNUsageError(
            _("'{zip}' is not a valid zip archive ({reason}); download it again or check the file.").format(
                zip=os.path.basename(path), reason=exc)
        ) from None


def _has_content(folder: str) -> bool:
    try:
        return bool(os.listdir(folder))
    except NotADirectoryError:
        return True
    except OSError:
        return False


def _swap_into_place(tmp: str, dest: str) -> None:
    """Rename ``tmp`` to ``dest``; an empty folder there is removed first (never one with content)."""
    if os.path.isdir(dest) and not os.path.islink(dest):
        os.rmdir(dest)  # only reached when dest is empty: OSError otherwise, nothing lost
    os.replace(tmp, dest)


def _remove_stale_temps(parent: str, name: str) -> None:
    """Remove temp folders left by interrupted extractions (old enough not to be in progress)."""
    prefix = f".{name}.partial-"
    now = time.time()
    try:
        entries = os.listdir(parent)
    except OSError:
        return
    for entry in entries:
        path = os.path.join(parent, entry)
        if entry.startswith(prefix):
            try:
                if now - os.path.getmtime(path) > _STALE_SECONDS:
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:
                pass


def _human(n: int) -> str:
    """``'1.5 MB'`` in English, ``'1,5 Mo'`` in French."""
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            break
        n /= 1024
    if unit == "bytes":
        return _("{n} bytes").format(n=num(n, ".0f"))
    size = num(n, ".1f")
    return {"KB": _("{size} KB"), "MB": _("{size} MB"), "GB": _("{size} GB")}.get(unit, _("{size} TB")).format(
        size=size)


__all__ = ["extract_zip", "safe_members", "entry_name", "MARKER"]

"""Safe extraction of ``.zip`` archives (cats_and_dogs_filtered.zip and the like).

Every entry is checked before anything is written: no absolute path, no ``..``
component, no symbolic link, no encrypted entry, a cap on the total uncompressed
size and on the compression ratio (zip bombs). The archive is extracted into a
hidden temporary folder beside the destination and renamed into place at the
end, so an interrupted extraction never leaves a half-filled destination. A
marker file remembers which archive (path, size, modification time) filled the
folder, so a second call with the same unchanged archive re-uses it.
"""
from __future__ import annotations

import errno
import json
import os
import re
import shutil
import stat
import time
import uuid
import zipfile

from ..config import settings
from ..errors import NNUsageError

MARKER = ".nnmagics-extracted.json"
# A ratio this high only comes from crafted or degenerate data (real photos compress < 2×,
# text < 20×); small entries are exempt because tiny highly compressible files are harmless.
MAX_RATIO = 200
RATIO_MIN_BYTES = 1 << 20
_STALE_SECONDS = 3600
_CHUNK = 1 << 20


def extract_zip(zip_path: str | os.PathLike, dest_dir: str | os.PathLike, *, max_bytes: int | None = None) -> str:
    """Extract ``zip_path`` safely into the folder ``dest_dir`` and return its path.

    ``dest_dir`` is created by the extraction; if it already holds an extraction of the
    same unchanged archive it is re-used as is, if it holds one of an older version of the
    archive it is replaced, and any other existing folder is left alone (an error says so).
    ``max_bytes`` caps the total uncompressed size (default ``%config NNMagics.max_zip_bytes``).
    ``__MACOSX/`` and ``._*`` entries are skipped.

    Example::

        >>> root = extract_zip("cats_and_dogs_filtered.zip", "data/cats_and_dogs")  # doctest: +SKIP
        >>> sorted(os.listdir(root))                                                # doctest: +SKIP
        ['cats_and_dogs_filtered']
    """
    zip_path = os.path.abspath(os.path.expanduser(os.fspath(zip_path)))
    dest_dir = os.path.abspath(os.path.expanduser(os.fspath(dest_dir)))
    cap = settings().max_zip_bytes if max_bytes is None else int(max_bytes)
    if not os.path.isfile(zip_path):
        raise NNUsageError(f"No such zip file: '{zip_path}'; check the path.")
    stamp = _archive_stamp(zip_path)
    existing = _read_marker(dest_dir)
    if existing == stamp:
        return dest_dir
    if os.path.exists(dest_dir) and existing is None and _has_content(dest_dir):
        raise NNUsageError(
            f"The folder '{dest_dir}' already exists and was not extracted from '{os.path.basename(zip_path)}'; "
            "load that folder directly or choose another folder to extract to."
        )

    parent = os.path.dirname(dest_dir)
    os.makedirs(parent, exist_ok=True)
    _remove_stale_temps(parent, os.path.basename(dest_dir))
    tmp = os.path.join(parent, f".{os.path.basename(dest_dir)}.partial-{uuid.uuid4().hex[:8]}")
    try:
        with _open_zip(zip_path) as archive:
            members = safe_members(archive, cap, zip_name=os.path.basename(zip_path))
            os.makedirs(tmp)
            _extract_members(archive, members, tmp, cap, zip_name=os.path.basename(zip_path))
        with open(os.path.join(tmp, MARKER), "w", encoding="utf-8") as fh:
            json.dump(stamp, fh)
        _swap_into_place(tmp, dest_dir)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise NNUsageError(
                f"Not enough disk space to extract '{os.path.basename(zip_path)}'; free some space or extract elsewhere."
            ) from None
        raise
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    return dest_dir


def safe_members(archive: zipfile.ZipFile, max_bytes: int, *,
                 zip_name: str = "the archive") -> list[tuple[zipfile.ZipInfo, str]]:
    """Check every entry of ``archive``; return ``(info, safe relative path)`` pairs to extract.

    Raises ``NNUsageError`` naming the first unsafe entry. Directory entries, ``__MACOSX/``
    and ``._*`` (macOS resource forks) are left out.
    """
    members = []
    total = 0
    for info in archive.infolist():
        rel = _safe_relative_name(info.filename, zip_name)
        if rel is None:
            continue
        if _is_symlink(info):
            raise NNUsageError(
                f"'{zip_name}' contains a symbolic link ('{info.filename}'), which is refused for safety; "
                "re-create the archive without links."
            )
        if info.flag_bits & 0x1:
            raise NNUsageError(
                f"'{zip_name}' is password-protected ('{info.filename}'); extract it yourself and load the folder."
            )
        if info.is_dir():
            continue
        total += info.file_size
        if total > max_bytes:
            raise NNUsageError(
                f"'{zip_name}' would expand to more than {_human(max_bytes)}; "
                "raise the cap with %config NNMagics.max_zip_bytes = N if you trust this archive."
            )
        if info.file_size > RATIO_MIN_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise NNUsageError(
                f"'{zip_name}' looks like a zip bomb ('{info.filename}' expands "
                f"{info.file_size // max(info.compress_size, 1)}× its size); it was not extracted."
            )
        members.append((info, rel))
    return members


def _safe_relative_name(name: str, zip_name: str) -> str | None:
    """The entry's path relative to the destination, None for skipped entries; raise if unsafe."""
    clean = name.replace("\\", "/")
    if "\x00" in clean:
        raise NNUsageError(f"'{zip_name}' contains an entry with an invalid name; it was not extracted.")
    if clean.startswith("/") or re.match(r"[A-Za-z]:", clean):
        raise NNUsageError(
            f"'{zip_name}' contains an absolute path ('{name}'), which is refused for safety; it was not extracted."
        )
    parts = [p for p in clean.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise _escaping(zip_name, name)
    if not parts or parts[0] == "__MACOSX" or parts[-1].startswith("._"):
        return None
    return "/".join(parts)


def _escaping(zip_name: str, name: str) -> NNUsageError:
    return NNUsageError(
        f"'{zip_name}' contains a path escaping the target folder ('{name}'), which is refused for safety; "
        "it was not extracted."
    )


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _extract_members(archive, members, dest: str, cap: int, *, zip_name: str) -> None:
    """Copy each member's bytes, counting them so a lying header cannot exceed the cap."""
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
                            f"'{zip_name}' expands to more than {_human(cap)}; "
                            "raise the cap with %config NNMagics.max_zip_bytes = N if you trust this archive."
                        )
                    out.write(chunk)
        except NNUsageError:
            raise
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            raise NNUsageError(
                f"'{zip_name}' holds a file and a folder with the same name ('{info.filename}'); re-create the archive."
            ) from None
        except OSError as exc:
            if exc.errno is not None:  # disk full, permission…: a real OS problem, not a bad archive
                raise
            raise _damaged(zip_name, info, exc) from None
        except Exception as exc:  # BadZipFile (bad CRC), zlib/lzma/bz2 errors, unsupported method
            raise _damaged(zip_name, info, exc) from None


def _damaged(zip_name: str, info: zipfile.ZipInfo, exc: Exception) -> NNUsageError:
    return NNUsageError(f"'{zip_name}' is damaged at '{info.filename}' ({exc}); download it again.")


def _open_zip(path: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise NNUsageError(
            f"'{os.path.basename(path)}' is not a valid zip archive ({exc}); download it again or check the file."
        ) from None


def _archive_stamp(path: str) -> dict:
    st = os.stat(path)
    return {"zip": path, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _read_marker(dest: str) -> dict | None:
    try:
        with open(os.path.join(dest, MARKER), encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def _has_content(folder: str) -> bool:
    try:
        return bool(os.listdir(folder))
    except NotADirectoryError:
        return True
    except OSError:
        return False


def _swap_into_place(tmp: str, dest: str) -> None:
    """Rename ``tmp`` to ``dest``; an older extraction (or empty folder) there is moved away first."""
    old = None
    if os.path.lexists(dest):
        old = f"{tmp}.old"
        os.replace(dest, old)
    os.replace(tmp, dest)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


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
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1024 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"  # pragma: no cover


__all__ = ["extract_zip", "safe_members", "MARKER"]

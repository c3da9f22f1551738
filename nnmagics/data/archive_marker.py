"""What an extraction remembers, and how a changed archive updates an earlier extraction.

A marker file (``MARKER``) in the destination records the archive (path, size, modification
time) and a manifest of every file nnmagics wrote (size, modification time). The same unchanged
archive is then re-used as is; a changed one only replaces, adds and removes files nnmagics wrote
and the user did not touch (:func:`update`); files the user added or edited are never deleted,
and one line says what happened. Used by :func:`nnmagics.data.archive.extract_zip`.

Example::

    marker = read_marker("data/pets")          # {'zip': '/…/pets.zip', 'size': …, 'files': {…}} or None
    same_archive(marker, archive_stamp("pets.zip"))
"""
from __future__ import annotations

import filecmp
import json
import os
import stat

from ..errors import NNUsageError
from ..files import atomic_write
from ..i18n import _, ngettext

MARKER = ".nnmagics-extracted.json"


def archive_stamp(path: str) -> dict:
    st = os.stat(path)
    return {"zip": path, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def same_archive(marker: dict, stamp: dict) -> bool:
    return all(marker.get(key) == value for key, value in stamp.items())


def read_marker(dest: str) -> dict | None:
    try:
        with open(os.path.join(dest, MARKER), encoding="utf-8") as fh:
            marker = json.load(fh)
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) else None


def write_marker(dest: str, marker: dict) -> None:
    """Write the marker atomically: a half-written one would make nnmagics forget what it wrote."""
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(marker, fh)

    atomic_write(os.path.join(dest, MARKER), write)


def _file_stamp(path: str) -> list[int] | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns] if stat.S_ISREG(st.st_mode) else None


def manifest_of(folder: str, rels: list[str]) -> dict[str, list[int]]:
    """``relative path -> [size, mtime_ns]`` of the files just written (renames keep both)."""
    found = {}
    for rel in rels:
        stamp = _file_stamp(os.path.join(folder, *rel.split("/")))
        if stamp is not None:
            found[rel] = stamp
    return found


# ----------------------------------------------------------------------------- updating an earlier extraction
def update(tmp: str, dest: str, manifest: dict, marker: dict, stamp: dict, zip_name: str) -> str:
    """Bring ``dest`` (an earlier extraction) to the archive's new content in ``tmp``; return the line to show.

    A file counts as nnmagics' own when the marker lists it with its current size and
    modification time; only those are replaced or removed. Other files (added or edited by
    the user) stay as they are, even where the archive holds a file of the same name.
    """
    known = [marker.get("files") or {}, marker.get("pending") or {}]

    def ours(rel: str) -> bool:
        now = _file_stamp(os.path.join(dest, *rel.split("/")))
        return now is not None and any(now == list(table.get(rel) or ()) for table in known)

    old = set(known[0]) | set(known[1])
    remove = sorted(rel for rel in old - set(manifest) if ours(rel))
    _check_no_conflict(dest, manifest, set(remove), zip_name)
    moves, kept_edited, final = [], [], {}
    for rel in manifest:
        target = os.path.join(dest, *rel.split("/"))
        source = os.path.join(tmp, *rel.split("/"))
        if not os.path.lexists(target):
            moves.append((rel, "added"))
        elif os.path.isfile(target) and filecmp.cmp(source, target, shallow=False):
            final[rel] = _file_stamp(target)  # already the archive's content: nothing to do
        elif ours(rel):
            moves.append((rel, "replaced"))
        else:
            kept_edited.append(rel)
    # the marker lists the new files before they move in: an interrupted update (even twice) still knows them
    owned_now = {rel: _file_stamp(os.path.join(dest, *rel.split("/"))) for rel in old if ours(rel)}
    write_marker(dest, {**{k: marker.get(k) for k in ("zip", "size", "mtime_ns")}, "files": owned_now,
                         "pending": manifest})
    for rel in remove:
        path = os.path.join(dest, *rel.split("/"))
        os.remove(path)
        _prune_empty_dirs(os.path.dirname(path), dest)
    for rel, _how in moves:
        target = os.path.join(dest, *rel.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(os.path.join(tmp, *rel.split("/")), target)
        final[rel] = manifest[rel]
    write_marker(dest, {**stamp, "files": final})
    return _update_line(zip_name, dest, moves, remove, kept_edited, _files_not_in(dest, final))


def _check_no_conflict(dest: str, manifest: dict, removed: set[str], zip_name: str) -> None:
    """Refuse (before changing anything) to put a file where the user keeps a folder, a link or a file in the way."""
    for rel in manifest:
        parts = rel.split("/")
        for depth in range(1, len(parts) + 1):
            sub = "/".join(parts[:depth])
            path = os.path.join(dest, *parts[:depth])
            last = depth == len(parts)
            if os.path.islink(path) or (os.path.isdir(path) if last else
                                        (os.path.lexists(path) and not os.path.isdir(path) and sub not in removed)):
                if os.path.islink(path):
                    sentence = _("'{zip}' changed and now needs '{name}' inside '{folder}', where you keep a link "
                                 "of that name; move it away and run again (nothing was changed).")
                elif os.path.isdir(path):
                    sentence = _("'{zip}' changed and now needs '{name}' inside '{folder}', where you keep a folder "
                                 "of that name; move it away and run again (nothing was changed).")
                else:
                    sentence = _("'{zip}' changed and now needs '{name}' inside '{folder}', where you keep a file "
                                 "of that name; move it away and run again (nothing was changed).")
                raise NNUsageError(sentence.format(zip=zip_name, name=sub, folder=dest))


def _prune_empty_dirs(folder: str, stop: str) -> None:
    """Remove ``folder`` and its parents up to ``stop`` while they are empty (os.rmdir never removes content)."""
    while os.path.abspath(folder) != os.path.abspath(stop):
        try:
            os.rmdir(folder)
        except OSError:
            return
        folder = os.path.dirname(folder)


def _files_not_in(dest: str, final: dict) -> list[str]:
    """The files in ``dest`` that the manifest does not list (the user's), as sorted relative paths."""
    own = []
    for dirpath, _dirs, filenames in os.walk(dest):
        for name in filenames:
            rel = os.path.relpath(os.path.join(dirpath, name), dest).replace(os.sep, "/")
            if rel != MARKER and rel not in final:
                own.append(rel)
    return sorted(own)


def _update_line(zip_name: str, dest: str, moves: list, remove: list, kept_edited: list, own: list) -> str:
    """One line: what changed, and which of the user's files were kept ('' when nothing happened)."""
    replaced = sum(1 for _rel, how in moves if how == "replaced")
    added = sum(1 for _rel, how in moves if how == "added")
    counts = [ngettext("{n} replaced", "{n} replaced", replaced).format(n=replaced) if replaced else "",
              ngettext("{n} added", "{n} added", added).format(n=added) if added else "",
              ngettext("{n} removed", "{n} removed", len(remove)).format(n=len(remove)) if remove else ""]
    changes = ", ".join(c for c in counts if c)
    if not changes and not kept_edited:
        return ""
    kept = ""
    if own:
        more = ", …" if len(own) > 1 else ""
        kept = ngettext("; kept {n} file of yours ('{first}'{more})", "; kept {n} files of yours ('{first}'{more})",
                        len(own)).format(n=len(own), first=own[0], more=more)
        if kept_edited:
            kept += ngettext(", {n} of them instead of the archive's new version",
                             ", {n} of them instead of the archive's new version",
                             len(kept_edited)).format(n=len(kept_edited))
    return _("'{zip}' changed since it was extracted into '{folder}': {changes}{kept}.").format(
        zip=zip_name, folder=dest, changes=changes or _("no file of nnmagics changed"), kept=kept)


__all__ = ["MARKER", "archive_stamp", "same_archive", "read_marker", "write_marker", "manifest_of", "update"]

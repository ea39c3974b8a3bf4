"""Expand the paths given to extract/ingest into files to read, naming every file left out."""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, NamedTuple

from speechledger.read.errors import Limits, display_name, mb
from speechledger.read.files import file_kind

# what a folder walk picks up; a file named on the command line is always tried
SUPPORTED = (".txt", ".text", ".md", ".docx", ".pdf", ".doc", ".wps")


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{display_name(self.path)}: {self.reason}"


class Discovery(NamedTuple):
    files: list[Path]
    skipped: list[Skipped]


def discover(paths: Iterable[str | Path], limits: Limits | None = None,
             suffixes: Iterable[str] = SUPPORTED) -> Discovery:
    """Files to read, in the order given (folders walked recursively, sorted by name).

    Files named directly are kept as given (the reader reports what is wrong with them).
    In folders, hidden entries, Office lock files (~$x.docx), other file types, special
    files (FIFOs, sockets), files over the size cap, links to folders and folders that
    cannot be listed are returned in `skipped`, each with its reason.
    """
    limits = limits or Limits()
    wanted = tuple(s.lower() for s in suffixes)
    files: list[Path] = []
    skipped: list[Skipped] = []
    for p in map(Path, paths):
        try:
            is_dir = stat.S_ISDIR(os.stat(p).st_mode)
        except OSError:
            is_dir = False
        if is_dir:
            _walk(p, wanted, limits, files, skipped)
        else:
            files.append(p)
    return Discovery(files, skipped)


def _walk(folder: Path, wanted, limits: Limits, files: list, skipped: list) -> None:
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as e:
        skipped.append(Skipped(folder, f"folder cannot be read ({e.strerror or e.__class__.__name__}); "
                                       "its files were not read"))
        return
    for e in entries:
        path = Path(e.path)
        if e.name.startswith("."):
            skipped.append(Skipped(path, "hidden " + ("folder" if e.is_dir(follow_symlinks=False) else "file")))
            continue
        try:
            st = os.stat(path)   # follows links: a link to a speech is read
        except OSError as err:
            skipped.append(Skipped(path, f"cannot be read ({err.strerror or err.__class__.__name__})"))
            continue
        if stat.S_ISDIR(st.st_mode):
            if e.is_symlink():
                skipped.append(Skipped(path, "link to a folder, not followed"))
            else:
                _walk(path, wanted, limits, files, skipped)
            continue
        if not stat.S_ISREG(st.st_mode):
            skipped.append(Skipped(path, f"{file_kind(st.st_mode)}, not a regular file"))
        elif e.name.startswith("~$"):
            skipped.append(Skipped(path, "Office lock file"))
        elif path.suffix.lower() not in wanted:
            kind = path.suffix.lower() or "no extension"
            skipped.append(Skipped(path, f"unsupported file type ({kind}); speeches are read from "
                                         + "/".join(wanted)))
        elif st.st_size > limits.max_file:
            skipped.append(Skipped(path, f"too large ({mb(st.st_size)}, limit {mb(limits.max_file)})"))
        else:
            files.append(path)


def iter_files(paths: Iterable[str | Path], suffixes: Iterable[str] = SUPPORTED) -> list[Path]:
    """The files of `discover` alone (kept for callers that do not report skips)."""
    return discover(paths, suffixes=suffixes).files

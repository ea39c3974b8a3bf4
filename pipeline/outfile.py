"""Output files: the format a file name implies, and writes that never leave a half-written file.

`atomic_output` writes into a temporary file in the target's folder and renames it
over the target only on success, so a failed run keeps an existing file intact.
"""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

EXTENSIONS = {".xlsx": "xlsx", ".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl",
              ".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown", ".png": "png",
              ".txt": "table"}


class OutputError(ValueError):
    """An output path or format the user must change (one-line message)."""


def format_for(path: str | None, fmt: str | None, allowed: tuple[str, ...], default: str = "table") -> str:
    """The output format: --format if given, else the one `path`'s extension implies, else `default`.

    A --format that contradicts a known extension (``--format csv -o a.xlsx``) is an error,
    and so is an extension whose format the command cannot write.
    """
    implied = EXTENSIONS.get(Path(path).suffix.lower()) if path else None
    if implied == "table" and fmt:
        implied = None                      # a .txt file takes any text format
    if fmt and implied and fmt != implied:
        raise OutputError(f"--format {fmt} contradicts the output file name {path!r} "
                          f"(which implies {implied}); drop --format or change the extension")
    chosen = fmt or implied or default
    if chosen not in allowed:
        raise OutputError(f"cannot write {chosen} to {path!r}; formats: {', '.join(allowed)}")
    return chosen


def check_output_path(path: str | Path) -> Path:
    """The path if a file can be written there; else OutputError (a folder, a missing folder)."""
    p = Path(path)
    if p.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name for -o")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"{path}: folder {str(parent)!r} does not exist")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"{path}: folder {str(parent)!r} is not writable")
    return p


class AtomicFile:
    """Handle of `atomic_output`: `.file` to write to (None for binary writers, which use `.tmp`),
    `.abandon()` to keep the target untouched."""

    def __init__(self, target: Path, tmp: Path, file) -> None:
        self.target, self.tmp, self.file, self.keep = target, tmp, file, True

    def abandon(self) -> None:
        self.keep = False


@contextmanager
def atomic_output(path: str | Path, text: bool = True, encoding: str = "utf-8",
                  newline: str | None = None) -> Iterator[AtomicFile]:
    """Write `path` all-or-nothing: a temp file next to it, renamed over it on success.

    text=True opens the temp file for writing text (`handle.file`); text=False leaves it
    to the caller (e.g. openpyxl saving to `handle.tmp`). An exception or `abandon()`
    removes the temp file and leaves an existing `path` as it was.
    """
    target = check_output_path(path)
    fd, name = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".",
                                prefix=f".{target.name}.", suffix=".part")
    tmp = Path(name)
    f = os.fdopen(fd, "w", encoding=encoding, newline=newline) if text else None
    if f is None:
        os.close(fd)
    handle = AtomicFile(target, tmp, f)
    try:
        yield handle
        if f is not None:
            f.close()
        if handle.keep:
            if target.exists():
                try:
                    os.chmod(tmp, target.stat().st_mode & 0o7777)
                except OSError:
                    pass
            else:
                os.chmod(tmp, 0o666 & ~_umask())
            os.replace(tmp, target)
    finally:
        if f is not None and not f.closed:
            f.close()
        if tmp.exists():
            tmp.unlink()


def emit(path: str | Path | None, fmt: str, write, stdout=None) -> None:
    """Call `write(file)` on `path` all-or-nothing (CSV: UTF-8 with BOM, newline='') or on stdout."""
    if not path:
        import sys
        write(stdout or sys.stdout)
        return
    with atomic_output(path, encoding="utf-8-sig" if fmt == "csv" else "utf-8",
                       newline="" if fmt == "csv" else None) as h:
        write(h.file)


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m

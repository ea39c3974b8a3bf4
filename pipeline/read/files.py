"""Open only regular files: a FIFO, socket or device named as input must not hang us."""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from speechledger.read.errors import InputError, Limits, mb

_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISDIR, "a directory"))


def file_kind(mode: int) -> str:
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def check_regular(path: Path, limits: Limits) -> os.stat_result:
    """stat() the path (never open it) and refuse anything but a regular file of sane size."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(path, "no such file") from None
    except PermissionError:
        raise InputError(path, "permission denied") from None
    except OSError as e:
        raise InputError(path, f"cannot read ({e.strerror or e})") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(path, "is a directory (give files, or use `ingest` for folders)")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(path, f"is {file_kind(st.st_mode)}, not a regular file; not read")
    if st.st_size > limits.max_file:
        raise InputError(path, f"file is {mb(st.st_size)} (limit {mb(limits.max_file)}); not read "
                               "(raise SPEECHLEDGER_MAX_FILE_MB to read it)")
    return st


def open_regular(path: Path, limits: Limits):
    """An open binary file object for a regular file, checked before and after opening.

    O_NONBLOCK keeps open() from waiting on a FIFO swapped in after the stat() check.
    """
    check_regular(path, limits)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except PermissionError:
        raise InputError(path, "permission denied") from None
    except OSError as e:
        if e.errno == errno.ENOENT:
            raise InputError(path, "no such file") from None
        raise InputError(path, f"cannot read ({e.strerror or e})") from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise InputError(path, f"is {file_kind(st.st_mode)}, not a regular file; not read")
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def read_bytes(path: Path, limits: Limits, cap: int) -> bytes:
    """All bytes of a regular file, refusing more than `cap`."""
    with open_regular(path, limits) as f:
        try:
            data = f.read(cap + 1)
        except OSError as e:
            raise InputError(path, f"cannot read ({e.strerror or e})") from None
    if len(data) > cap:
        raise InputError(path, f"text file larger than {mb(cap)}; not read (raise SPEECHLEDGER_MAX_TEXT_MB to read it)")
    return data

"""The reader's error and the safe display of file names in messages."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def display_name(path: str | os.PathLike | bytes) -> str:
    """A file name safe to print on one terminal line.

    Names that print cleanly (Chinese included) are shown as they are; a name with a
    newline, a terminal escape, a bidi override or undecodable bytes is shown as a
    quoted Python literal ('a\\nb.txt'), so it cannot forge or colour output lines.
    """
    name = os.fsdecode(path) if isinstance(path, bytes) else str(path)
    return name if name.isprintable() else repr(name)


def one_line(text: str) -> str:
    """Messages from libraries may span lines or carry control characters."""
    return " ".join("".join(c if c.isprintable() else " " for c in line).strip()
                    for line in str(text).splitlines()).strip()


class InputError(Exception):
    """A file that cannot be read as a speech; the message names file and reason on one line."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = one_line(reason)
        super().__init__(f"{display_name(path)}: {self.reason}")

    def __reduce__(self):   # crosses process boundaries intact (parallel batch workers)
        return (type(self), (self.path, self.reason))


@dataclass(frozen=True)
class Limits:
    """Caps on what one input file may make us read (hostile or broken files).

    max_text: characters of extracted text (and bytes of a plain-text file);
    max_file: bytes of a file on disk; max_member / max_archive: uncompressed bytes of
    one archive member we read / all members declared in an archive; max_ratio:
    uncompressed/compressed ratio of a member above 1 MiB (zip bombs run at ~1000).
    """
    max_text: int = 64 << 20
    max_file: int = 512 << 20
    max_member: int = 256 << 20
    max_archive: int = 1 << 30
    max_ratio: int = 200
    max_members: int = 10_000
    convert_timeout: float = 120.0

    @classmethod
    def from_env(cls, environ=None) -> "Limits":
        """Defaults, overridden by SPEECHLEDGER_MAX_TEXT_MB / _MAX_FILE_MB / _CONVERT_TIMEOUT."""
        env = os.environ if environ is None else environ
        kw = {}
        for var, key, scale in (("SPEECHLEDGER_MAX_TEXT_MB", "max_text", 1 << 20),
                                ("SPEECHLEDGER_MAX_FILE_MB", "max_file", 1 << 20),
                                ("SPEECHLEDGER_CONVERT_TIMEOUT", "convert_timeout", 1)):
            if env.get(var):
                try:
                    value = float(env[var])
                except ValueError:
                    raise ValueError(f"{var} must be a number, got {env[var]!r}") from None
                if value <= 0:
                    raise ValueError(f"{var} must be positive, got {env[var]!r}")
                kw[key] = value if key == "convert_timeout" else int(value * scale)
        return cls(**kw)


def mb(n: int) -> str:
    return f"{n / (1 << 20):.0f} MB" if n >= 1 << 20 else f"{n} bytes"


def too_long(limits: Limits) -> str:
    return (f"text longer than the {mb(limits.max_text)} limit; not read "
            "(raise SPEECHLEDGER_MAX_TEXT_MB to read it)")

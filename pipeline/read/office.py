"""Legacy .doc / .wps: converted to .docx by LibreOffice when it is installed."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from speechledger.read.errors import InputError, Limits

INSTALL_HINT = "install LibreOffice (Debian/Ubuntu: apt-get install libreoffice-writer-nogui) or save it as .docx"


def find_soffice() -> str | None:
    """SPEECHLEDGER_SOFFICE (a path or command name) if set, else soffice/libreoffice on PATH."""
    override = os.environ.get("SPEECHLEDGER_SOFFICE")
    if override:
        return shutil.which(override)
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert_to_docx(path: Path, limits: Limits) -> Path:
    """Convert a checked regular file into a .docx in a new temporary folder; returns its path.

    The caller removes `result.parent`. The input is copied under a fixed name first, so
    a file name starting with '-' or holding odd characters never reaches the command line.
    """
    soffice = find_soffice()
    kind = path.suffix.lower()
    if not soffice:
        raise InputError(path, f"reading {kind} needs LibreOffice to convert it, and none was found: {INSTALL_HINT}")
    tmp = Path(tempfile.mkdtemp(prefix="speechledger-convert-"))
    try:
        src = tmp / f"input{kind}"
        shutil.copyfile(path, src)
        cmd = [soffice, "--headless", "--norestore", "--nologo", "--nodefault",
               f"-env:UserInstallation={(tmp / 'profile').as_uri()}",
               "--convert-to", "docx", "--outdir", str(tmp / "out"), str(src)]
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        try:
            proc.communicate(timeout=limits.convert_timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            raise InputError(path, f"LibreOffice did not convert {kind} "
                                   f"within {limits.convert_timeout:.0f} s; not read "
                                   "(raise SPEECHLEDGER_CONVERT_TIMEOUT or save it as .docx)") from None
        out = tmp / "out" / "input.docx"
        if not out.is_file():
            raise InputError(path, f"LibreOffice could not convert this {kind} file (damaged, protected, "
                                   "not a word-processor document, or LibreOffice Writer missing: "
                                   "apt-get install libreoffice-writer-nogui)")
        return out
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
    proc.wait()

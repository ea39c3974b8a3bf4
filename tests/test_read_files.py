"""Hostile paths: special files, odd names, size caps, and folders that name what they skip."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from speechledger.read import InputError, Limits, discover, display_name, read_file

SPEECH = "市工信局要加快编制规划，确保7月底前完成。\n"


def _extract(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "speechledger", "extract", "--extractors", "rules",
                           "--format", "jsonl", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
def test_a_fifo_on_the_command_line_is_an_error_not_a_hang(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    good = tmp_path / "good.txt"
    good.write_text(SPEECH, encoding="utf-8")
    r = _extract(fifo, good, timeout=60)      # today: blocks forever in open()
    assert r.returncode == 1
    assert f"speechledger: error: {fifo}: is a FIFO (named pipe), not a regular file; not read" in r.stderr.splitlines()
    assert '"source"' in r.stdout


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_device_is_refused_without_reading(tmp_path):
    with pytest.raises(InputError, match="is a character device, not a regular file"):
        read_file("/dev/zero")


@pytest.mark.parametrize("name", ["a\nspeechledger: error: forged.txt", "b\x1b[2J\x1b[31mred.txt",
                                  "c\u202etxt.exe", "d\r.txt"])
def test_odd_file_names_cannot_forge_output_lines(tmp_path, name):
    f = tmp_path / name
    f.write_bytes(b"")
    shown = display_name(f)
    assert shown.isprintable() and "\x1b" not in shown and shown == repr(str(f))
    r = _extract(f)
    assert r.returncode == 1
    assert r.stderr.splitlines() == [f"speechledger: error: {shown}: file is empty"]


def test_ordinary_chinese_names_are_shown_as_they_are(tmp_path):
    assert display_name(tmp_path / "2024年 工作报告.docx") == str(tmp_path / "2024年 工作报告.docx")


def test_text_cap_names_the_file(tmp_path):
    f = tmp_path / "big.txt"
    f.write_text(SPEECH * 100, encoding="utf-8")
    with pytest.raises(InputError) as e:
        read_file(f, limits=Limits(max_text=1000))
    assert str(e.value).startswith(f"{f}: text file larger than 1000 bytes")
    with pytest.raises(InputError, match="limit 500 bytes"):
        read_file(f, limits=Limits(max_file=500))


def test_limits_come_from_the_environment():
    assert Limits.from_env({"SPEECHLEDGER_MAX_TEXT_MB": "2"}).max_text == 2 << 20
    assert Limits.from_env({}).max_text == 64 << 20
    with pytest.raises(ValueError, match="SPEECHLEDGER_MAX_TEXT_MB"):
        Limits.from_env({"SPEECHLEDGER_MAX_TEXT_MB": "lots"})


def _tree(tmp_path):
    root = tmp_path / "讲话"
    (root / "sub").mkdir(parents=True)
    for name in ("a.txt", "b.pdf", "c.doc", "d.wps", "sub/e.docx", "f.xlsx", "g", ".hidden.txt",
                 "~$lock.docx"):
        (root / name).write_text(SPEECH, encoding="utf-8")
    (root / ".git").mkdir()
    (root / "huge.txt").write_text(SPEECH * 1000, encoding="utf-8")
    os.mkfifo(root / "pipe.txt")
    os.symlink(root / "sub", root / "link")
    return root


def test_folders_list_every_file_skipped_and_why(tmp_path):
    root = _tree(tmp_path)
    single = tmp_path / "named.xyz"
    single.write_text(SPEECH, encoding="utf-8")
    files, skipped = discover([root, single], limits=Limits(max_file=10_000))
    assert files == [root / n for n in ("a.txt", "b.pdf", "c.doc", "d.wps", "sub/e.docx")] + [single]
    reasons = {s.path.name: s.reason for s in skipped}
    assert reasons == {
        ".git": "hidden folder",
        ".hidden.txt": "hidden file",
        "f.xlsx": reasons["f.xlsx"],
        "g": reasons["g"],
        "huge.txt": f"too large ({(root / 'huge.txt').stat().st_size} bytes, limit 10000 bytes)",
        "link": "link to a folder, not followed",
        "pipe.txt": "a FIFO (named pipe), not a regular file",
        "~$lock.docx": "Office lock file",
    }
    assert reasons["f.xlsx"].startswith("unsupported file type (.xlsx)")
    assert reasons["g"].startswith("unsupported file type (no extension)")
    assert str(skipped[0]).startswith(str(root / ".git") + ": ")


def test_an_unreadable_sub_folder_is_reported(tmp_path, monkeypatch):
    root = tmp_path / "in"
    (root / "locked").mkdir(parents=True)
    (root / "locked" / "x.txt").write_text(SPEECH, encoding="utf-8")
    (root / "ok.txt").write_text(SPEECH, encoding="utf-8")
    real = os.scandir

    def scandir(path="."):          # as for a folder without read permission (we may be root)
        if os.fspath(path) == str(root / "locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)
    monkeypatch.setattr(os, "scandir", scandir)
    files, skipped = discover([root])
    assert files == [root / "ok.txt"]
    assert [str(s) for s in skipped] == [
        f"{root / 'locked'}: folder cannot be read (Permission denied); its files were not read"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_an_unreadable_sub_folder_is_reported_for_real(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        files, skipped = discover([tmp_path])
    finally:
        locked.chmod(0o755)
    assert files == [] and "folder cannot be read" in skipped[0].reason


def test_api_keeps_iter_files():
    from speechledger.api import discover as d
    from speechledger.api import iter_files
    from speechledger.reader import InputError as E
    from speechledger.reader import read_file as rf
    assert d is discover and E is InputError and rf is read_file and callable(iter_files)


def test_input_error_survives_pickling_for_worker_processes():
    import pickle
    e = pickle.loads(pickle.dumps(InputError("a\nb.txt", "file is empty")))
    assert isinstance(e, InputError) and e.path == "a\nb.txt" and str(e) == "'a\\nb.txt': file is empty"

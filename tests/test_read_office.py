""".doc/.wps go through LibreOffice when it is installed, else a clear error naming it."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from speechledger.read import InputError, Limits, read_file

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@pytest.mark.parametrize("suffix", [".doc", ".wps"])
def test_without_libreoffice_the_error_names_what_to_install(tmp_path, monkeypatch, suffix):
    monkeypatch.setenv("SPEECHLEDGER_SOFFICE", str(tmp_path / "no-such-soffice"))
    f = tmp_path / f"讲话{suffix}"
    f.write_bytes(OLE + bytes(504))
    with pytest.raises(InputError) as e:
        read_file(f)
    msg = str(e.value)
    assert msg.startswith(f"{f}: reading {suffix} needs LibreOffice") and "apt-get install libreoffice-writer" in msg


def test_a_hanging_converter_is_stopped_by_the_timeout(tmp_path, monkeypatch):
    fake = tmp_path / "soffice"
    fake.write_text("#!/bin/sh\nsleep 30\n")
    fake.chmod(0o755)
    monkeypatch.setenv("SPEECHLEDGER_SOFFICE", str(fake))
    f = tmp_path / "s.doc"
    f.write_bytes(OLE + bytes(504))
    with pytest.raises(InputError, match="did not convert .doc within 1 s"):
        read_file(f, limits=Limits(convert_timeout=1))


def test_a_doc_that_is_not_a_word_file_is_refused_before_converting(tmp_path, monkeypatch):
    monkeypatch.setenv("SPEECHLEDGER_SOFFICE", str(tmp_path / "no-such-soffice"))
    f = tmp_path / "s.doc"
    f.write_text("只是文本", encoding="utf-8")
    with pytest.raises(InputError, match="not a .doc word-processor file"):
        read_file(f)


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")),
                    reason="LibreOffice not installed (.ci/run installs libreoffice-writer-nogui)")
def test_doc_and_wps_are_converted_with_tables_in_order(tmp_path, monkeypatch):
    docx = pytest.importorskip("docx")
    monkeypatch.delenv("SPEECHLEDGER_SOFFICE", raising=False)
    d = docx.Document()
    d.add_paragraph("市工信局要加快编制规划，确保7月底前完成。")
    t = d.add_table(rows=2, cols=2)
    for r, row in enumerate([["牵头单位", "完成时限"], ["市住建局", "2025年11月底前"]]):
        for c, v in enumerate(row):
            t.cell(r, c).text = v
    d.add_paragraph("各县市区要抓好落实。")
    src = tmp_path / "src.docx"
    d.save(src)
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    subprocess.run([soffice, "--headless", f"-env:UserInstallation={(tmp_path / 'p').as_uri()}",
                    "--convert-to", "doc", "--outdir", str(tmp_path), str(src)],
                   check=True, capture_output=True, timeout=180)
    doc = tmp_path / "-讲话.doc"            # a leading '-' must not reach soffice as an option
    os.rename(tmp_path / "src.doc", doc)
    expected = ("市工信局要加快编制规划，确保7月底前完成。\n| 牵头单位 | 完成时限 |\n"
                "| 市住建局 | 2025年11月底前 |\n各县市区要抓好落实。")
    assert read_file(doc) == (expected, "doc")
    wps = tmp_path / "讲话.wps"             # WPS Writer files are Word-format OLE documents
    shutil.copyfile(doc, wps)
    assert read_file(wps) == (expected, "wps")

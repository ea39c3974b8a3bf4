"""Build the PDF fixtures of tests/test_read_pdf.py (our own text, no third-party content).

    python scripts/make_reader_fixtures.py            # needs LibreOffice (soffice) and reportlab

speech.pdf: a text PDF exported by LibreOffice Writer from a .docx built here (Noto CJK
fonts embedded, as Word/WPS exports are): paragraphs, a breakdown table, more paragraphs.
scanned.pdf: one page holding only an image, as a scanner makes it (no text layer).
"""
from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "reader"

PARAS_BEFORE = [
    "在全市工业经济工作会议上的讲话",
    "同志们：",
    "今年全市规模以上工业增加值增长8%以上，市工信局要加快编制产业链发展规划，确保7月底前完成。",
    "重点任务分解如下：",
]
TABLE = [
    ["序号", "任务内容", "牵头单位", "完成时限"],
    ["1", "新建5G基站1200个", "市通信发展办", "2025年11月底前"],
    ["2", "改造老旧小区30个", "市住建局", "2025年11月底前"],
    ["3", "新增城市绿地50公顷", "市园林局", "全年"],
]
PARAS_AFTER = [
    "各县市区要抓好落实，市督查室要加强跟踪督办，每季度通报一次进展。",
    "谢谢大家！",
]


def build_docx(path: Path, repeat: int = 1) -> None:
    import docx
    d = docx.Document()
    for _ in range(repeat):
        for line in PARAS_BEFORE:
            d.add_paragraph(line)
        t = d.add_table(rows=len(TABLE), cols=len(TABLE[0]))
        t.style = "Table Grid"
        for r, row in enumerate(TABLE):
            for c, cell in enumerate(row):
                t.cell(r, c).text = cell
        for line in PARAS_AFTER:
            d.add_paragraph(line)
    for p in d.paragraphs:
        for run in p.runs:
            run.font.name = "Noto Serif CJK SC"
    d.save(path)


def to_pdf(docx_path: Path, outdir: Path) -> Path:
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{profile}",
                        "--convert-to", "pdf", "--outdir", str(outdir), str(docx_path)],
                       check=True, capture_output=True, timeout=180)
    return outdir / (docx_path.stem + ".pdf")


def scanned_pdf(path: Path) -> None:
    import io

    # a tiny grey PNG stands in for the scanned page image
    import struct
    import zlib

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    def png(w, h):
        raw = b"".join(b"\x00" + bytes([200]) * w for _ in range(h))
        def chunk(t, d):
            return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    c = canvas.Canvas(str(path), pagesize=A4)
    c.drawImage(ImageReader(io.BytesIO(png(60, 80))), 50, 100, width=495, height=660)
    c.showPage()
    c.save()


PAGED = [  # (page, lines): a centred title, then a paragraph wrapped at a fixed width
    ["在全市安全生产工作会议上的讲话", "",
     "同志们：", "今年要全面排查整治重大事故隐患和安全风险，市应急局牵头，各县市区政",
     "府负责，确保6月底前完成第一轮排查整治。", "市住建局要加快老旧小区改造和燃气管道更新，年底前完成改造任务的八",
     ],
    ["成，市财政局要做好资金保障和绩效评价，各县市区政府要落实属地责任，",
     "确保按期完成。", "谢谢大家！"],
]


def paged_pdf(path: Path) -> None:
    """Two pages with '- N -' footers, written with reportlab's built-in STSong-Light CID font."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    for n, lines in enumerate(PAGED, 1):
        y = height - 80
        for i, line in enumerate(lines):
            c.setFont("STSong-Light", 14)
            if n == 1 and i == 0:
                c.drawCentredString(width / 2, y, line)
            elif line:
                c.drawString(72, y, line)
            y -= 24
        c.setFont("STSong-Light", 10)
        c.drawCentredString(width / 2, 40, f"- {n} -")
        c.showPage()
    c.save()


def main(argv=None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "speech.docx"
        build_docx(src, repeat=int(args[1]) if len(args) > 1 else 1)
        out = Path(args[0]) if args else OUT
        out.mkdir(parents=True, exist_ok=True)
        pdf = to_pdf(src, out)
        print(pdf)
    if not args:
        scanned_pdf(OUT / "scanned.pdf")
        paged_pdf(OUT / "paged.pdf")
        print(OUT / "scanned.pdf", OUT / "paged.pdf")
    return 0


if __name__ == "__main__":
    sys.exit(main())

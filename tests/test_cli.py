"""The `speechledger` command line: extract output, errors, help, README."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from speechledger.cli import COMMANDS, build_parser, main

ROOT = Path(__file__).resolve().parents[1]


def test_extract_jsonl_follows_the_contract(dev_path, capsys):
    assert main(["extract", str(dev_path), "--format", "jsonl", "--extractors", "rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    text = dev_path.read_text(encoding="utf-8")
    assert len(lines) == 5
    for i, line in enumerate(lines):
        rec = json.loads(line)
        assert {"source", "speech", "title", "date", "tasks"} <= set(rec)
        assert rec["speech"] == i and rec["source"] == str(dev_path)
        for t in rec["tasks"]:
            assert text[t["start"]:t["end"]] == t["text"]
            assert t["modality"] in {"must", "should", "strive"} and isinstance(t["specific"], bool)
            for u in t["units"]:
                assert text[u["start"]:u["end"]] == u["text"] and u["role"] in {"lead", "support"}
            for d in t["deadlines"]:
                assert text[d["start"]:d["end"]] == d["text"]
                assert d["due"] is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", d["due"])
            for g in t["targets"]:
                assert text[g["start"]:g["end"]] == g["text"]
                assert g["comparator"] in {">=", "<=", "~", "="}
                assert (g["value"] is None) == g["placeholder"]


def test_extract_date_option_sets_due_dates(tmp_path, capsys):
    f = tmp_path / "s.txt"
    f.write_text("同志们：\n市工信局要确保7月底前完成规划编制。\n", encoding="utf-8")
    assert main(["extract", str(f), "--format", "jsonl", "--date", "2024-12-05", "--extractors", "rules"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["date"] == "2024-12-05"
    assert rec["tasks"][0]["deadlines"][0]["due"] == "2025-07-31"


def test_bad_file_is_reported_and_the_rest_goes_on(tmp_path, dev_path, capsys):
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    code = main(["extract", str(bad), str(dev_path), "--format", "jsonl", "--extractors", "rules"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "empty.txt" in err and "empty" in err
    assert len(out.splitlines()) == 5


def test_bad_date_is_a_clear_error(dev_path, capsys):
    assert main(["extract", str(dev_path), "--date", "July 4", "--extractors", "rules"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_table_format_is_readable(dev_path, capsys):
    assert main(["extract", str(dev_path), "--extractors", "rules"]) == 0
    out = capsys.readouterr().out
    assert "在全市工业经济运行调度会议上的讲话" in out and "tasks," in out


def test_missing_hanlp_backend_is_a_clear_error(dev_path, capsys):
    try:
        import hanlp  # noqa: F401
        pytest.skip("HanLP is installed here")
    except ImportError:
        pass
    assert main(["extract", str(dev_path), "--tokenizer", "hanlp", "--extractors", "rules"]) == 2
    err = capsys.readouterr().err
    assert "HanLP" in err and "pip install" in err


def test_python_dash_m_runs_the_same_cli(dev_path):
    r = subprocess.run([sys.executable, "-m", "speechledger", "extract", str(dev_path), "--format", "jsonl",
                        "--extractors", "rules"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 5


def test_every_command_has_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    assert set(sub.choices) == set(COMMANDS)
    for name, p in sub.choices.items():
        assert p.description, name


def test_readme_lists_every_command_and_the_two_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in COMMANDS:
        assert f"speechledger {name}" in readme, f"README does not show `speechledger {name}`"
    blocks = re.findall(r"```(?:sh|bash)?\n(.*?)```", readme, re.S)
    setup = [b for b in blocks if "pip install" in b]
    assert len(setup) >= 2
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    test_cmd = next(b.strip() for b in setup if "pytest" in b)
    assert test_cmd.split("&& ", 2)[-1] in ci, "the README's test command must be what .ci/run runs"

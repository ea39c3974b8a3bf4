"""A regular (non-editable) install ships the trained models as package data."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from speechledger.ml import loading

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_carries_the_models_the_referee_and_the_rule_data(tmp_path):
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                        "-w", str(tmp_path), str(ROOT)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    wheel = next(tmp_path.glob("speechledger-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for f in loading.FILES + ("card.json", "MODEL_CARD.md"):
        assert f"speechledger/models/{f}" in names, f
    for f in ("score.py", "segments.py", "__init__.py"):
        assert f"speechledger/referee/{f}" in names, f
    assert any(n.startswith("speechledger/data/") and n.endswith(".yaml") for n in names)
    assert not any(n.endswith((".joblib", ".pkl")) for n in names)
    meta = next(n for n in names if n.endswith("METADATA"))
    requires = [ln for ln in zipfile.ZipFile(wheel).read(meta).decode().splitlines() if ln.startswith("Requires-Dist:")]
    runtime = [ln for ln in requires if "extra ==" not in ln]
    assert not any(lib in ln for ln in runtime for lib in ("scikit-learn", "scipy", "joblib", "sklearn-crfsuite"))
    assert not any("==" in ln for ln in runtime), runtime

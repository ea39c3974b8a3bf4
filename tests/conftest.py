"""Shared fixtures: the bundled corpus and one rules pipeline per test session."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
# Third-party texts are read from the contract's shared/ beside the project, never copied in.
SHARED_CORPUS = Path(os.environ.get("SPEECHLEDGER_SHARED", ROOT.parent / "shared")) / "corpus"


def need_shared(sub: str = "") -> Path:
    """The shared corpus folder SUB; skips without ../shared, fails under CI (CI has it)."""
    path = SHARED_CORPUS / sub
    if not path.exists():
        msg = f"needs the shared corpus at {path} (../shared beside the project)"
        if os.environ.get("CI"):
            pytest.fail(msg + "; CI must provide it")
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


@pytest.fixture(scope="session")
def dev_path() -> Path:
    return CORPUS / "texts" / "speeches2024.txt"


@pytest.fixture(scope="session")
def rules_pipeline():
    from speechledger.api import Pipeline
    return Pipeline(extractors="rules")


@pytest.fixture(scope="session")
def default_pipeline():
    """What `speechledger extract` runs by default: hybrid when the models load, else the rules."""
    from speechledger.api import Pipeline
    from speechledger.ml_default import default_extractors
    return Pipeline(extractors=default_extractors(None))


@pytest.fixture(scope="session")
def shared_train() -> Path:
    return need_shared("train")


@pytest.fixture(scope="session")
def train_dates(shared_train) -> dict:
    return json.loads((shared_train / "dates.json").read_text(encoding="utf-8"))

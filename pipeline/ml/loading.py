"""Load the trained models from a folder: plain arrays, JSON and a crfsuite file.

A model folder holds `card.json` (+ `MODEL_CARD.md`), `tasks_ml.npz/.json`,
`tasks_hybrid.npz/.json` (linear weights and their feature vocabulary),
`units.crfsuite/.json` (the unit CRF in crfsuite's own format, and its lexicon) and
`mentions.npz/.json` (the target and deadline decisions: weights and their feature names).
Loading needs numpy and python-crfsuite only, never unpickles (np.load with
allow_pickle=False) and never downloads. A missing or unreadable folder gives a
warning and `None`, and the pipeline keeps the rule extractors' output; models
trained on other rules than the installed ones load with a warning (retrain).
"""
from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

CARD = "card.json"
FILES = ("tasks_ml.npz", "tasks_ml.json", "tasks_hybrid.npz", "tasks_hybrid.json",
         "units.crfsuite", "units.json", "mentions.npz", "mentions.json")
# recorded in the card (what training used); loading does not depend on these versions
RECORDED_LIBRARIES = ("numpy", "scipy", "scikit-learn", "python-crfsuite")
ENV_VAR = "SPEECHLEDGER_MODELS"


@dataclass
class Models:
    """The trained models of one folder."""

    task_ml: object
    task_hybrid: object
    units: object
    card: dict
    path: str = ""
    params: dict = field(default_factory=dict)   # decision thresholds chosen at training
    mentions: object = None                       # the targets/deadlines model (mentions.py)

    def task_model(self, extractors: str):
        return self.task_hybrid if extractors == "hybrid" else self.task_ml


def default_model_dir() -> str:
    """SPEECHLEDGER_MODELS, else the models shipped as the package's `speechledger.models` data."""
    env = os.environ.get(ENV_VAR)
    if env:
        return env
    from importlib import resources
    return str(resources.files("speechledger.models"))


def library_versions() -> dict[str, str]:
    import platform
    from importlib.metadata import PackageNotFoundError, version
    out = {}
    for lib in RECORDED_LIBRARIES:
        try:
            out[lib] = version(lib)
        except PackageNotFoundError:
            out[lib] = "absent"
    out["python"] = platform.python_version()
    return out


def read_card(model_dir: str) -> dict | None:
    p = Path(model_dir) / CARD
    if not p.is_file():
        return None
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def models_available(model_dir: str | None = None) -> bool:
    """True when the folder holds a complete model set and python-crfsuite is installed."""
    d = model_dir or default_model_dir()
    if read_card(d) is None or not all((Path(d) / f).is_file() for f in FILES):
        return False
    import importlib.util
    return importlib.util.find_spec("pycrfsuite") is not None


def rules_fingerprint() -> str:
    """Hash of the rule extractors' code and data (the hybrid model is trained on their output)."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for p in sorted(list((root / "extract").glob("*.py")) + list((root / "data").glob("*"))
                    + [root / "lexicon.py", root / "speeches.py", root / "segment.py", root / "normalize.py"]):
        if p.is_file():
            h.update(p.name.encode())
            h.update(p.read_bytes().replace(b"\r\n", b"\n"))
    return h.hexdigest()[:16]


def load_models(model_dir: str | None = None, lazy_ml: bool = False) -> Models | None:
    """The models of model_dir (default: bundled models/), or None with a warning when unusable.

    lazy_ml: read the text-only task model's weights only if it predicts (the hybrid uses its featurizer only).
    """
    from speechledger.ml.task_model import TaskModel
    from speechledger.ml.unit_crf import UnitCRF
    d = model_dir or default_model_dir()
    card = read_card(d)
    missing = [f for f in FILES if not (Path(d) / f).is_file()]
    if card is None or missing:
        warnings.warn(f"no trained models in {d} ({CARD if card is None else ', '.join(missing)} missing); "
                      "using the rule extractors only. Run `speechledger train` to build them.",
                      RuntimeWarning, stacklevel=2)
        return None
    try:
        task_ml = TaskModel.load(str(Path(d) / "tasks_ml"), lazy=lazy_ml)
        task_hybrid = TaskModel.load(str(Path(d) / "tasks_hybrid"))
        units = UnitCRF.load(str(Path(d) / "units"))
        from speechledger.ml.mentions import MentionModel
        mentions = MentionModel.load(str(Path(d) / "mentions"))
    except Exception as e:  # a corrupt artifact or a missing python-crfsuite must not crash extraction
        warnings.warn(f"could not load the models in {d} ({e.__class__.__name__}: {e}); "
                      "using the rule extractors only. Retrain with `speechledger train`.",
                      RuntimeWarning, stacklevel=2)
        return None
    models = Models(task_ml=task_ml, task_hybrid=task_hybrid, units=units, card=card, path=str(d),
                    params=dict(card.get("params", {})), mentions=mentions)
    if stale_rules(models):
        warnings.warn(f"the models in {d} were trained on other rules (fingerprint "
                      f"{card.get('rules_fingerprint')}, installed rules {rules_fingerprint()}); "
                      "the hybrid may be off. Retrain with `speechledger train`.", RuntimeWarning, stacklevel=2)
    return models


def stale_rules(models: Models) -> bool:
    """True when the rule extractors changed since these models were trained (retrain to refit the hybrid)."""
    fp = models.card.get("rules_fingerprint")
    return bool(fp) and fp != rules_fingerprint()

"""Load the trained models from a folder, checking the model card first.

A model folder holds `card.json` (+ `MODEL_CARD.md`), `tasks_ml.joblib`,
`tasks_hybrid.joblib`, `units.joblib` and `units.crfsuite`. Loading never downloads;
a missing folder or a card written by other library versions gives a warning and
`None`, and the pipeline then keeps the rule extractors' output.
"""
from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path

CARD = "card.json"
FILES = ("tasks_ml.joblib", "tasks_hybrid.joblib", "units.joblib", "units.crfsuite")
# library -> how much of the version must agree ("exact" or "minor" = major.minor)
CHECKED_LIBRARIES = {"scikit-learn": "exact", "python-crfsuite": "exact", "sklearn-crfsuite": "minor",
                     "numpy": "minor", "scipy": "minor", "joblib": "minor"}
ENV_VAR = "SPEECHLEDGER_MODELS"


class ModelVersionError(RuntimeError):
    """The model card names library versions other than the installed ones."""


@dataclass
class Models:
    """The trained models of one folder, plus per-pipeline caches."""

    task_ml: object
    task_hybrid: object
    units: object
    card: dict
    path: str = ""
    params: dict = field(default_factory=dict)   # decision thresholds chosen at training

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
    from importlib.metadata import PackageNotFoundError, version
    out = {}
    for lib in CHECKED_LIBRARIES:
        try:
            out[lib] = version(lib)
        except PackageNotFoundError:
            out[lib] = "absent"
    import platform
    out["python"] = platform.python_version()
    return out


def _agree(want: str, have: str, how: str) -> bool:
    if how == "exact":
        return want == have
    return want.split(".")[:2] == have.split(".")[:2]


def check_card(card: dict, path: str = "") -> None:
    """Raise ModelVersionError naming every library whose version differs from the card's."""
    have = library_versions()
    want = card.get("libraries", {})
    bad = [f"{lib} {want.get(lib, '?')} (installed: {have.get(lib)})" for lib, how in CHECKED_LIBRARIES.items()
           if not _agree(str(want.get(lib, "?")), have.get(lib, "absent"), how)]
    if bad:
        raise ModelVersionError(
            f"models in {path or '?'} were trained with " + ", ".join(bad) +
            "; refusing to load them. Retrain with `speechledger train --out "
            f"{path or 'models/'}` or install the library versions named in {CARD}.")


def read_card(model_dir: str) -> dict | None:
    p = Path(model_dir) / CARD
    if not p.is_file():
        return None
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def models_available(model_dir: str | None = None) -> bool:
    """True when the folder holds a complete model set whose card matches the installed libraries."""
    d = model_dir or default_model_dir()
    card = read_card(d)
    if card is None or not all((Path(d) / f).is_file() for f in FILES):
        return False
    try:
        check_card(card, d)
    except ModelVersionError:
        return False
    return True


def rules_fingerprint() -> str:
    """Hash of the rule extractors' code and data (the hybrid model is trained on their output)."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for p in sorted(list((root / "extract").glob("*.py")) + list((root / "data").glob("*"))
                    + [root / "lexicon.py", root / "speeches.py", root / "segment.py"]):
        if p.is_file():
            h.update(p.name.encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def load_models(model_dir: str | None = None) -> Models | None:
    """The models of model_dir (default: bundled models/), or None with a warning when unusable."""
    d = model_dir or default_model_dir()
    card = read_card(d)
    missing = [f for f in FILES if not (Path(d) / f).is_file()]
    if card is None or missing:
        warnings.warn(f"no trained models in {d} ({CARD if card is None else ', '.join(missing)} missing); "
                      "using the rule extractors only. Run `speechledger train` to build them.",
                      RuntimeWarning, stacklevel=2)
        return None
    try:
        check_card(card, d)
    except ModelVersionError as e:
        warnings.warn(f"{e} Using the rule extractors only.", RuntimeWarning, stacklevel=2)
        return None
    import joblib
    try:
        task_ml = joblib.load(Path(d) / "tasks_ml.joblib")
        task_hybrid = joblib.load(Path(d) / "tasks_hybrid.joblib")
        units = joblib.load(Path(d) / "units.joblib").open(str(Path(d) / "units.crfsuite"))
    except Exception as e:  # a corrupt artifact must not crash extraction
        warnings.warn(f"could not load the models in {d} ({e.__class__.__name__}: {e}); "
                      "using the rule extractors only. Retrain with `speechledger train`.",
                      RuntimeWarning, stacklevel=2)
        return None
    return Models(task_ml=task_ml, task_hybrid=task_hybrid, units=units, card=card, path=str(d),
                  params=dict(card.get("params", {})))


def stale_rules(models: Models) -> bool:
    """True when the rule extractors changed since these models were trained (retrain to refit the hybrid)."""
    fp = models.card.get("rules_fingerprint")
    return bool(fp) and fp != rules_fingerprint()

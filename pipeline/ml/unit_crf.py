"""Responsible units as BIO labelling over characters (a crfsuite CRF, via python-crfsuite).

The CRF reads only short windows of task segments around cues that a body is
named (局/委/办/部门/各…/牵头…, see features.WINDOW_CUE), with character,
lexicon and suffix features; it proposes spans that the hybrid merges with the
rule units. The model is stored as NAME.crfsuite (crfsuite's own binary format, read
by its C tagger) plus NAME.json (lexicon and settings): nothing is unpickled.
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field

from speechledger.ml.arrays import load_json, save_json
from speechledger.ml.features import CharFeaturizer, candidate_windows

LABELS = ("B", "I", "O")


@dataclass
class UnitCRF:
    c1: float = 0.05
    c2: float = 0.05
    max_iterations: int = 150
    min_confidence: float = 0.5
    featurizer: CharFeaturizer = field(default_factory=CharFeaturizer)
    sizes: dict = field(default_factory=dict)
    model_path: str | None = None
    _tagger: object = field(default=None, repr=False, compare=False)

    # -- training ---------------------------------------------------------------------
    @staticmethod
    def examples(norm: str, start: int, end: int, spans: list[tuple[int, int]]):
        """(window start, window end, BIO labels) for one gold task segment."""
        out = []
        for s, e in candidate_windows(norm, start, end):
            y = ["O"] * (e - s)
            for a, b in spans:
                if a >= s and b <= e:
                    y[a - s] = "B"
                    for k in range(a + 1, b):
                        y[k - s] = "I"
            out.append((s, e, y))
        return out

    def fit(self, samples: list[tuple[str, int, int, list[str]]], lexicon: list[str],
            model_path: str | None = None, sample_lexicons: list[tuple[str, ...]] | None = None) -> "UnitCRF":
        """samples: (norm text, window start, window end, labels); `lexicon` is kept for prediction.

        With `sample_lexicons` (one per sample, shared objects per document), each training
        window is featurised with a lexicon that leaves out its own document's units, so the
        CRF learns how far a lexicon hit from *other* texts can be trusted instead of copying it.
        """
        import pycrfsuite
        self.featurizer = CharFeaturizer(lexicon=sorted(set(lexicon)))
        if sample_lexicons is None:
            X = [self.featurizer.window(norm, s, e) for norm, s, e, _ in samples]
        else:
            by_lex: dict[int, CharFeaturizer] = {}
            X = []
            for (norm, s, e, _), lex in zip(samples, sample_lexicons):
                fz = by_lex.get(id(lex))
                if fz is None:
                    fz = by_lex[id(lex)] = CharFeaturizer(lexicon=sorted(set(lex)))
                X.append(fz.window(norm, s, e))
        y = [lab for *_, lab in samples]
        trainer = pycrfsuite.Trainer(algorithm="lbfgs", verbose=False)
        trainer.set_params({"c1": self.c1, "c2": self.c2, "max_iterations": self.max_iterations,
                            "feature.possible_transitions": True})
        for xseq, yseq in zip(X, y):
            trainer.append(xseq, yseq)
        trainer.train(model_path)
        self.open(model_path)
        self.sizes = {"windows": len(samples), "chars": sum(len(lab) for *_, lab in samples),
                      "units": sum(lab.count("B") for *_, lab in samples), "lexicon": len(self.featurizer.lexicon)}
        return self

    def save(self, stem: str) -> None:
        """STEM.crfsuite (the trained model file) and STEM.json (lexicon and settings)."""
        if self.model_path is None:
            raise RuntimeError("no trained CRF to save")
        path = stem + ".crfsuite"
        if os.path.abspath(self.model_path) != os.path.abspath(path):
            shutil.copyfile(self.model_path, path)
        meta = {"c1": self.c1, "c2": self.c2, "max_iterations": self.max_iterations,
                "min_confidence": self.min_confidence, "sizes": self.sizes, "lexicon": self.featurizer.lexicon}
        save_json(stem + ".json", meta)

    @classmethod
    def load(cls, stem: str) -> "UnitCRF":
        meta = load_json(stem + ".json")
        crf = cls(c1=meta["c1"], c2=meta["c2"], max_iterations=meta["max_iterations"],
                  min_confidence=meta["min_confidence"], sizes=meta.get("sizes", {}),
                  featurizer=CharFeaturizer(lexicon=list(meta["lexicon"])))
        return crf.open(stem + ".crfsuite")

    def open(self, path: str) -> "UnitCRF":
        import pycrfsuite
        tagger = pycrfsuite.Tagger()
        tagger.open(path)
        self._tagger = tagger
        self.model_path = path
        return self

    # -- prediction ---------------------------------------------------------------------
    def spans(self, norm: str, start: int, end: int, known: list[tuple[int, int]] = ()) -> list[tuple[int, int, float]]:
        """Unit spans (start, end, confidence) proposed inside norm[start:end] (cues inside `known` are skipped)."""
        tagger = self._tagger
        if tagger is None:
            raise RuntimeError("UnitCRF has no tagger: call open(path) or fit first")
        out: list[tuple[int, int, float]] = []
        for s, e in candidate_windows(norm, start, end, known):
            feats = self.featurizer.window(norm, s, e)
            labels = tagger.tag(feats)
            i, n = 0, len(labels)
            while i < n:
                if labels[i] == "B" or (labels[i] == "I" and (i == 0 or labels[i - 1] == "O")):
                    j = i + 1
                    while j < n and labels[j] == "I":
                        j += 1
                    conf = min(tagger.marginal(labels[k], k) for k in range(i, j))
                    if conf >= self.min_confidence and j - i >= 2:
                        out.append((s + i, s + j, conf))
                    i = j
                else:
                    i += 1
        return out

"""Segment classifier: is_task, modality and specific, as logistic regressions over segment features.

Two variants are trained from the same data: `use_rules=False` (the "ml" extractor,
text features only) and `use_rules=True` (the "hybrid" extractor, text features plus
the rule extractor's decision and evidence: a stacked model whose probability is
the combined judgment).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from speechledger.ml.arrays import LazyArrays, load_json, save_json, save_npz
from speechledger.ml.features import MODALITIES, N_HASH, SegmentFeaturizer

HEADS = ("task", "modality", "specific")


@dataclass
class TaskPrediction:
    p_task: np.ndarray        # (n,)
    p_modality: np.ndarray    # (n, 3) in MODALITIES order
    p_specific: np.ndarray    # (n,)


@dataclass
class TaskModel:
    use_rules: bool = False
    C: float = 4.0
    seed: int = 13
    threshold: float = 0.5
    featurizer: SegmentFeaturizer = field(default_factory=SegmentFeaturizer)
    heads: dict = field(default_factory=dict)     # head -> (kind, weights, bias, classes, n_classes)
    sizes: dict = field(default_factory=dict)
    context: "ContextModel | None" = None         # text-only model: its P(task) re-read in context

    def fit(self, X, y_task: np.ndarray, y_modality: list[str | None],
            y_specific: np.ndarray) -> "TaskModel":
        """Fit on stacked segment rows; modality/specific only on task rows."""
        from sklearn.linear_model import LogisticRegression
        y_task = np.asarray(y_task, int)
        is_task = LogisticRegression(C=self.C, solver="liblinear", random_state=self.seed,
                                     max_iter=2000).fit(X, y_task)
        rows = np.nonzero(y_task)[0]
        ym = np.array([MODALITIES.index(m) if m in MODALITIES else 2 for m in np.asarray(y_modality, object)[rows]])
        modality = _fit_or_constant(X[rows], ym, self.C, self.seed, n_classes=3)
        specific = _fit_or_constant(X[rows], np.asarray(y_specific, int)[rows], self.C, self.seed, n_classes=2)
        # only the weights are kept: prediction is numpy arithmetic, and they store as plain arrays
        self.heads = {"task": _linear_of(is_task, 2), "modality": _linear_of(modality, 3),
                      "specific": _linear_of(specific, 2)}
        self.__dict__.pop("_stacked", None)
        self.sizes = {"segments": int(X.shape[0]), "tasks": int(len(rows)),
                      "specific": int(np.asarray(y_specific, int)[rows].sum())}
        return self

    # -- storage: weights in NAME.npz, everything else in NAME.json -------------------------
    def save(self, stem: str) -> None:
        arrays, heads = {}, {}
        for h in HEADS:
            lin = self.linear()[h]
            if lin[0] == "const":
                heads[h] = {"kind": "const"}
                arrays[h + ".p"] = np.asarray(lin[1], np.float64)
            else:
                kind, W, b, classes, n_classes = lin
                heads[h] = {"kind": kind, "classes": list(classes), "n_classes": n_classes}
                arrays[h + ".W"] = np.asarray(W, np.float64)
                arrays[h + ".b"] = np.atleast_1d(np.asarray(b, np.float64))
        if self.context is not None:
            arrays["context.W"] = np.asarray(self.context.W, np.float64)
            arrays["context.b"] = np.atleast_1d(np.asarray(self.context.b, np.float64))
        save_npz(stem + ".npz", arrays)
        meta = {"use_rules": self.use_rules, "C": self.C, "seed": self.seed, "threshold": self.threshold,
                "n_hash": N_HASH, "heads": heads, "sizes": self.sizes,
                "featurizer": {"evidence_keys": list(self.featurizer.evidence_keys),
                               "ngram_weight": self.featurizer.ngram_weight}}
        if self.context is not None:
            meta["context"] = {"variant": self.context.variant}
        save_json(stem + ".json", meta)

    @classmethod
    def load(cls, stem: str, lazy: bool = False) -> "TaskModel":
        """The model of NAME.json/NAME.npz; with lazy=True the weights are read on first use (hybrid
        extraction needs only the text-only model's featurizer, not its 1.8 MB of weights)."""
        meta = load_json(stem + ".json")
        if meta.get("n_hash") != N_HASH:
            raise ValueError(f"{stem}.json: hashed for {meta.get('n_hash')} columns, this version uses {N_HASH}")
        if not os.path.isfile(stem + ".npz"):
            raise FileNotFoundError(f"{stem}.npz")
        fz = SegmentFeaturizer(evidence_keys=list(meta["featurizer"]["evidence_keys"]),
                               ngram_weight=float(meta["featurizer"]["ngram_weight"]))
        model = cls(use_rules=meta["use_rules"], C=meta["C"], seed=meta["seed"], threshold=meta["threshold"],
                    featurizer=fz, heads={}, sizes=meta.get("sizes", {}))
        model.__dict__["_pending"] = (stem, meta["heads"], meta.get("context"))
        if not lazy:
            model.linear()
        return model

    def _load_weights(self) -> None:
        stem, meta_heads, ctx = self.__dict__.pop("_pending")
        arrays = LazyArrays(stem + ".npz")
        if ctx is not None:
            self.context = ContextModel(ctx["variant"], np.ascontiguousarray(arrays["context.W"]),
                                        float(arrays["context.b"][0]))
        self.heads = _Heads(arrays, meta_heads)

    def predict(self, X, heads: tuple[str, ...] = ("task", "modality", "specific")) -> TaskPrediction:
        """Probabilities per segment; computed with the models' weights directly (no sklearn call overhead)."""
        n = X.shape[0]
        if n == 0:
            return TaskPrediction(np.zeros(0), np.zeros((0, 3)), np.zeros(0))
        lin = self.linear()
        p_task = _apply(lin["task"], X)[:, 1] if "task" in heads else None
        p_mod = _apply(lin["modality"], X) if "modality" in heads else None
        p_spec = _apply(lin["specific"], X)[:, 1] if "specific" in heads else None
        return TaskPrediction(p_task, p_mod, p_spec)

    def predict_parts(self, parts, rules_dense: np.ndarray | None = None,
                      heads: tuple[str, ...] = ("task", "modality", "specific")) -> TaskPrediction:
        """Like predict(X), from SegmentParts (+ rule columns), with numpy only. Parts of several
        speeches (features.parts_of) give each row the bits it has from its speech's parts alone."""
        if parts.n == 0:
            return TaskPrediction(np.zeros(0), np.zeros((0, 3)), np.zeros(0))
        W, spans = self.stacked(heads)
        z = _ngram_scores(self.ngram_weights(heads), parts)
        nh, nd = N_HASH, parts.dense.shape[1]
        z += _product(parts.dense, W[nh:nh + nd], parts.first_rows)
        if rules_dense is not None and W.shape[0] > nh + nd:
            z += _product(rules_dense, W[nh + nd:], parts.first_rows)
        return self.squash(z, spans, heads)

    def ngram_weights(self, heads: tuple[str, ...]) -> np.ndarray:
        """The n-gram block of the stacked weights (N_HASH x heads' columns), C-contiguous: a hashed
        n-gram's weights for every head lie side by side, in one cache line."""
        cache = self.__dict__.setdefault("_stacked", {})
        key = ("ngram",) + heads
        if key not in cache:
            cache[key] = np.ascontiguousarray(self.stacked(heads)[0][:N_HASH])
        return cache[key]

    def squash(self, z: np.ndarray, spans: dict, heads: tuple[str, ...]) -> TaskPrediction:
        n = z.shape[0]
        lin = self.linear()
        out = {}
        for h in heads:
            a, b = spans[h]
            kind = lin[h][0]
            if kind == "const":
                out[h] = np.tile(lin[h][1], (n, 1))
            elif kind == "sigmoid" and lin[h][3] == [0, 1] and h != "modality":
                out[h] = 1.0 / (1.0 + np.exp(-(z[:, a] + lin[h][2])))     # P(1) only, as _squash computes it
            else:
                out[h] = _squash(lin[h], z[:, a:b] if b - a > 1 else z[:, a])

        def p1(h):
            if h not in out:
                return None
            return out[h] if out[h].ndim == 1 else out[h][:, 1]
        return TaskPrediction(p1("task"), out.get("modality"), p1("specific"))

    def stacked(self, heads: tuple[str, ...]):
        """The weights of the given heads side by side (features x columns), cached per head set."""
        cache = self.__dict__.setdefault("_stacked", {})
        if heads not in cache:
            lin = self.linear()
            cols, spans, k = [], {}, 0
            for h in heads:
                if lin[h][0] == "const":
                    spans[h] = (k, k)
                    continue
                W = lin[h][1]
                W2 = W if W.ndim == 2 else W[:, None]
                cols.append(W2)
                spans[h] = (k, k + W2.shape[1])
                k += W2.shape[1]
            W = np.hstack(cols) if cols else np.zeros((N_HASH, 0))
            cache[heads] = (np.ascontiguousarray(W), spans)
        return cache[heads]

    def linear(self) -> dict:
        """(kind, weights, bias, classes, n_classes) of each head (loaded from NAME.npz on first use)."""
        if "_pending" in self.__dict__:
            self._load_weights()
        return self.heads


class _Heads(dict):
    """head -> (kind, weights, bias, classes, n_classes), each head's arrays decompressed on first use."""

    def __init__(self, arrays: LazyArrays, meta_heads: dict):
        super().__init__()
        self._arrays, self._meta = arrays, meta_heads

    def __missing__(self, h: str):
        d = self._meta[h]           # (KeyError for an unknown head, as a plain dict)
        arrays = self._arrays
        if d["kind"] == "const":
            v = ("const", arrays[h + ".p"], None)
        else:
            b = arrays[h + ".b"]
            v = (d["kind"], np.ascontiguousarray(arrays[h + ".W"]), float(b[0]) if d["kind"] == "sigmoid" else b,
                 [int(c) for c in d["classes"]], int(d["n_classes"]))
        self[h] = v
        return v

    def __contains__(self, h) -> bool:
        return h in self._meta

    def __iter__(self):
        return iter(self._meta)

    def __len__(self) -> int:
        return len(self._meta)

    def keys(self):
        return self._meta.keys()

    def items(self):
        return [(h, self[h]) for h in self._meta]

    def values(self):
        return [self[h] for h in self._meta]

    def __reduce__(self):
        return dict, (dict(self.items()),)      # pickled (a Dask worker's copy) as the plain dict it stands for


def _ngram_scores(W: np.ndarray, parts) -> np.ndarray:
    """Sum of n-gram weights per segment row for each column of W.

    W (N_HASH x columns, C-contiguous): one gather of whole rows reads each n-gram's weights
    for all heads from one cache line (the table is far larger than the cache: prediction
    is bound by these reads); then a bincount per column.
    """
    g = np.take(W, parts.cols, axis=0)
    z = np.empty((parts.n, W.shape[1]))
    for j in range(W.shape[1]):
        z[:, j] = np.bincount(parts.rows, weights=g[:, j] * parts.vals, minlength=parts.n)
    return z


def _product(A: np.ndarray, W: np.ndarray, first_rows: list[int]) -> np.ndarray:
    """A @ W, computed a speech at a time (first_rows: the bounds of the speeches' rows).

    The bits BLAS gives a row depend on the rows multiplied with it (kernel blocking), so each
    speech's rows are multiplied alone, exactly as a prediction over that speech alone does.
    """
    if len(first_rows) <= 2:
        return A @ W
    z = np.empty((A.shape[0], W.shape[1]))
    for r0, r1 in zip(first_rows, first_rows[1:]):
        np.matmul(A[r0:r1], W, out=z[r0:r1])
    return z


def _linear_of(clf, n_classes: int):
    if isinstance(clf, _Constant):
        return ("const", clf.proba, None)
    if isinstance(clf, _OneVsRest):
        return ("ovr", np.ascontiguousarray(clf.coef_.T), clf.intercept_, [int(c) for c in clf.classes_], n_classes)
    classes = [int(c) for c in clf.classes_]
    W = np.asarray(clf.coef_, np.float64)
    b = np.asarray(clf.intercept_, np.float64)
    if W.shape[0] == 1:
        return ("sigmoid", np.ascontiguousarray(W[0]), float(b[0]), classes, n_classes)
    return ("softmax", np.ascontiguousarray(W.T), b, classes, n_classes)


def _apply(lin, X) -> np.ndarray:
    if lin[0] == "const":
        return np.tile(lin[1], (X.shape[0], 1))
    return _squash(lin, X @ lin[1])


def _squash(lin, z) -> np.ndarray:
    """Probabilities from the linear scores z (without bias) of one head."""
    kind, _, b, classes, n_classes = lin
    n = z.shape[0]
    z = z + b
    if kind == "sigmoid":
        p1 = 1.0 / (1.0 + np.exp(-z))
        p = np.column_stack([1 - p1, p1])
    elif kind == "ovr":
        z = 1.0 / (1.0 + np.exp(-z))
        p = z / z.sum(axis=1, keepdims=True)
    else:
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
    if classes == list(range(n_classes)):
        return p
    out = np.zeros((n, n_classes))
    for j, c in enumerate(classes):
        out[:, c] = p[:, j]
    return out


@dataclass
class _Constant:
    """Stand-in classifier when a training fold has a single class."""

    proba: np.ndarray

    def predict_proba(self, X):
        return np.tile(self.proba, (X.shape[0], 1))


@dataclass
class _OneVsRest:
    """Binary liblinear models per class, probabilities normalised (fast on wide sparse input)."""

    classes_: np.ndarray
    coef_: np.ndarray
    intercept_: np.ndarray

    def predict_proba(self, X):
        z = 1.0 / (1.0 + np.exp(-(X @ self.coef_.T + self.intercept_)))
        return z / z.sum(axis=1, keepdims=True)


def _fit_or_constant(X, y, C, seed, n_classes):
    from sklearn.linear_model import LogisticRegression
    classes = np.unique(y)
    if len(classes) < 2:
        p = np.full(n_classes, 1e-3)
        p[int(y[0]) if len(y) else n_classes - 1] = 1.0
        return _Constant(p / p.sum())
    if n_classes == 2:
        return LogisticRegression(C=C, solver="liblinear", random_state=seed, max_iter=2000).fit(X, y)
    coefs, bias = [], []
    for c in classes:
        m = LogisticRegression(C=C, solver="liblinear", random_state=seed, max_iter=2000).fit(X, (y == c).astype(int))
        coefs.append(m.coef_[0])
        bias.append(m.intercept_[0])
    return _OneVsRest(classes, np.array(coefs), np.array(bias))


# --------------------------------------------------------------------------------------
# Second pass: the text model's P(task) read in context
# --------------------------------------------------------------------------------------
# What decides a task is not the sentence alone (ANNOTATION.md §2, §8): the section it stands in
# (a plan or goals list versus a review), and the list it continues. The text model scores each
# segment on its own; this small logistic regression re-reads its logits with those of the
# neighbours, the mean of the segment's block (between two headings / section openings) and of
# the speech, and the list and section-kind columns. Trained on out-of-fold logits (by document),
# so it learns how far the text model is to be trusted, not how well it fits its training set.
CONTEXT_VARIANTS = ("nb", "sec", "full")
_Z_CLIP = 8.0


def context_width(variant: str) -> int:
    from speechledger.doc import SECTION_KINDS
    k = len(SECTION_KINDS) + 1
    return {"nb": 7, "sec": 10, "full": 15 + 2 * k}[variant]


def context_features(z: np.ndarray, dense: np.ndarray, first_rows: list[int], variant: str = "full") -> np.ndarray:
    """The context model's columns per segment row, from the text model's logits z and its dense columns.

    first_rows: the bounds of the speeches' rows (no neighbour, block or mean across two speeches)."""
    from speechledger.ml.features import _DENSE
    if variant not in CONTEXT_VARIANTS:
        raise ValueError(f"unknown context variant {variant!r}")
    n = len(z)
    F = np.zeros((n, context_width(variant)))
    if not n:
        return F
    z = F[:, 0] = np.clip(z, -_Z_CLIP, _Z_CLIP) / 4.0
    p = 1.0 / (1.0 + np.exp(-4.0 * z))
    firsts = np.asarray(first_rows[:-1], np.int64)
    starts = np.zeros(n, bool)              # a speech's first row
    starts[firsts] = True
    # neighbours d rows back (columns 1, 2: value, present) and ahead (3, 4), then two back (5) and ahead (6)
    back1 = ~starts[1:]                      # row i + 1 has row i before it in its speech
    F[1:, 1] = np.where(back1, z[:-1], 0.0)
    F[1:, 2] = back1
    F[:-1, 3] = np.where(back1, z[1:], 0.0)
    F[:-1, 4] = back1
    if n > 2:
        back2 = back1[1:] & back1[:-1]
        F[2:, 5] = np.where(back2, z[:-2], 0.0)
        F[:-2, 6] = np.where(back2, z[2:], 0.0)
    if variant == "nb":
        return F
    # blocks: a heading or a section opening starts one; a speech start too
    sid = np.cumsum(starts) - 1
    block = np.cumsum(starts | (dense[:, _DENSE["is_head"]] > 0) | (dense[:, _DENSE["opens"]] > 0)) - 1
    size = np.bincount(block).astype(np.float64)
    F[:, 7] = (np.bincount(block, weights=p) / size)[block]
    F[:, 8] = np.log1p(size)[block] / 3
    F[:, 9] = (np.bincount(sid, weights=p) / np.bincount(sid))[sid]
    if variant == "sec":
        return F
    ls = dense[:, _DENSE["list_start"]]
    F[:, 10] = ls
    F[1:, 11] = np.where(back1, ls[1:] * ls[:-1], 0.0)          # a list item after a list item
    F[1:, 12] = F[1:, 11] * p[:-1]                                 # ... that the text model took for a task
    F[:, 13] = dense[:, _DENSE["is_head"]]
    F[:, 14] = dense[:, _DENSE["line_start"]]
    kind = dense[:, _DENSE["kind"]]
    k = kind.shape[1]
    F[:, 15:15 + k] = kind
    np.multiply(kind, z[:, None], out=F[:, 15 + k:15 + 2 * k])
    return F


@dataclass
class ContextModel:
    variant: str = "full"
    W: np.ndarray = None
    b: float = 0.0

    def fit(self, F: np.ndarray, y: np.ndarray, C: float = 1.0, seed: int = 13) -> "ContextModel":
        from sklearn.linear_model import LogisticRegression
        clf = LogisticRegression(C=C, solver="liblinear", random_state=seed, max_iter=2000).fit(F, np.asarray(y, int))
        self.W, self.b = np.asarray(clf.coef_[0], np.float64), float(clf.intercept_[0])
        return self

    def predict(self, z: np.ndarray, dense: np.ndarray, first_rows: list[int]) -> np.ndarray:
        """P(task) of each row in context, from the text model's logits z."""
        if len(z) == 0:
            return np.zeros(0)
        F = context_features(z, dense, first_rows, self.variant)
        # a sum per row (not a matrix product): each row's bits whatever the rows around it
        return 1.0 / (1.0 + np.exp(-((F * self.W).sum(axis=1) + self.b)))


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))

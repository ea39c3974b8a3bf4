"""Model weights as plain arrays: a deterministic .npz writer and a loader that never unpickles.

np.savez stamps each member with the current time, so two trainings would differ in
bytes; this writer fixes the timestamps (and the member order) so `speechledger train`
is byte-identical twice. Loading goes through np.load(allow_pickle=False): a model file
can hold numbers only, never code.
"""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np

_EPOCH = (1980, 1, 1, 0, 0, 0)


def save_npz(path: str, arrays: dict[str, np.ndarray]) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            arr = np.asarray(arrays[name])
            if arr.dtype == object:
                raise TypeError(f"{name}: object arrays cannot be stored without pickles")
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, buf.getvalue())


def load_npz(path: str) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


class LazyArrays:
    """The arrays of an .npz, each decompressed when first read: a model whose heads a run does not
    use (the hybrid reads no modality weights) does not pay for them. The file is read at once, so
    no file stays open."""

    def __init__(self, path: str):
        with open(path, "rb") as f:
            self._zip = np.load(io.BytesIO(f.read()), allow_pickle=False)

    def __getitem__(self, name: str) -> np.ndarray:
        return self._zip[name]          # (its reader, TaskModel's heads, keeps what it read)


def save_json(path: str, obj) -> None:
    """A model's settings and vocabularies, in a stable layout (sorted keys) for byte-identical training."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")


def load_json(path: str):
    with open(path, encoding="utf-8") as f:
        return json.load(f)

"""Extraction throughput against plain `jieba.lcut` on the same text, in one run.

    python scripts/bench_extract.py [--min-chars 1000000] [--extractors rules hybrid]
    python scripts/bench_extract.py --sizes 4 8 16     # one input of N MB each: growth must be linear
    python scripts/bench_extract.py --process-only --variant "decision off:target_add=1.01,deadline_add=1.01"

The bundled corpus (corpus/texts and the composed corpus/extra*/texts) is
repeated, file by file, until it holds at least --min-chars characters. Both sides
run on one core after a warm-up; the script prints chars/s for each, their ratio
(extraction ÷ jieba.lcut; ≥ 1.0 means extraction is at least as fast as segmenting
with jieba's Python implementation) and the peak resident memory of the process.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def corpus_docs(min_chars: int) -> list[str]:
    files = sorted((ROOT / "corpus").glob("**/texts/*.txt"))
    base = [f.read_text(encoding="utf-8") for f in files]
    if not base:
        sys.exit("no corpus texts under corpus/*/texts")
    docs, total = [], 0
    while total < min_chars:
        for t in base:
            docs.append(t)
            total += len(t)
    return docs


def timed(fn, docs) -> float:
    t0 = time.perf_counter()
    for d in docs:
        fn(d)
    return time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-chars", type=int, default=1_000_000)
    ap.add_argument("--extractors", nargs="+", default=None,
                    help="extractor sets to time (default: rules, plus hybrid when models are installed)")
    ap.add_argument("--repeat", type=int, default=3, help="timed passes per side (the best is kept)")
    ap.add_argument("--sizes", nargs="+", type=float, default=None, metavar="MB",
                    help="instead: time speech splitting and the whole extraction on ONE input of each "
                         "size (MB of UTF-8), so that any super-linear growth shows")
    ap.add_argument("--process", action="store_true",
                    help="also time whole processes (start-up included): extract vs jieba.lcut on one file")
    ap.add_argument("--stages", action="store_true",
                    help="also print each stage's CPU seconds (best pass) for every extractor set")
    ap.add_argument("--process-only", action="store_true", help="only the whole-process timing (implies --process)")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME:KEY=VALUE,...",
                    help="whole process: also time extract with the installed models' decision params "
                         "overridden (a copy of the model folder), in the same interleaved runs")
    a = ap.parse_args()
    if a.sizes:
        return sizes(a.sizes, (a.extractors or ["rules"])[0])
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})   # one core (inherited by processes)
    if a.process_only:
        whole_process(corpus_docs(a.min_chars), a.repeat, a.variant)
        return 0
    import logging

    import jieba

    from speechledger.api import Pipeline
    from speechledger.ml_default import default_extractors
    logging.getLogger("jieba").setLevel(logging.WARNING)
    jieba.setLogLevel(logging.WARNING)

    docs = corpus_docs(a.min_chars)
    n_chars = sum(map(len, docs))
    n_bytes = sum(len(d.encode("utf-8")) for d in docs)
    sets = a.extractors or (["rules"] + (["hybrid"] if default_extractors() == "hybrid" else []))

    # warm-up: dictionaries, lexicons, models and the POS tagger, over every distinct text once
    distinct = list(dict.fromkeys(docs))
    for d in distinct:
        jieba.lcut(d)
    pipes = {name: Pipeline(extractors=name) for name in sets}
    for p in pipes.values():
        for d in distinct:
            p(d, source="warmup.txt")

    # the sides take turns, and each keeps its best pass, so a busy moment of the
    # machine does not land on one side only
    best = {"jieba": float("inf"), **{name: float("inf") for name in pipes}}
    for _ in range(a.repeat):
        best["jieba"] = min(best["jieba"], timed(jieba.lcut, docs))
        for name, p in pipes.items():
            best[name] = min(best[name], timed(lambda d, p=p: p(d, source="bench.txt"), docs))
    t_jieba = best["jieba"]
    print(f"text: {len(docs)} documents, {n_chars:,} chars ({n_bytes / 2**20:.2f} MiB UTF-8), one core, "
          f"best of {a.repeat} interleaved passes")
    print(f"{'run':<22}{'seconds':>10}{'chars/s':>14}{'ratio vs jieba.lcut':>22}")
    print(f"{'jieba.lcut (baseline)':<22}{t_jieba:>10.2f}{n_chars / t_jieba:>14,.0f}{1.0:>22.2f}")
    for name in pipes:
        t = best[name]
        print(f"{'extract --extractors ' + name:<22}{t:>10.2f}{n_chars / t:>14,.0f}{t_jieba / t:>22.2f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak:.0f} MB")
    if a.stages:
        for name, p in pipes.items():
            stage_times(name, p, docs, a.repeat)
    if a.process:
        whole_process(docs, a.repeat, a.variant)
    return 0


def stage_times(name: str, pipe, docs: list[str], repeat: int) -> None:
    """CPU seconds per stage (thread time, so a busy machine inflates it less), best of repeat passes."""
    from speechledger.doc import SpeechDoc
    best: dict[str, float] = {}
    for _ in range(repeat):
        cur = dict.fromkeys(pipe.names, 0.0)
        for d in docs:
            doc = SpeechDoc(source="bench.txt", text=d, stem="bench")
            for stage in pipe.names:
                t0 = time.thread_time()
                doc = pipe._stages[stage](doc, pipe.config)
                cur[stage] += time.thread_time() - t0
        best = {k: min(v, best.get(k, v)) for k, v in cur.items()}
    total = sum(best.values())
    print(f"stages of extract --extractors {name} (CPU s, best of {repeat}):")
    for stage, t in best.items():
        print(f"  {stage:<12}{t:>8.2f}{100 * t / total:>7.1f}%")


def one_input(mb: float) -> str:
    """The corpus texts joined and repeated into one input of about mb MB (UTF-8)."""
    base = "\n".join(corpus_docs(1))
    per_char = len(base.encode("utf-8")) / len(base)
    n = int(mb * 2**20 / per_char)
    return (base * (n // len(base) + 1))[:n]


def sizes(mbs: list[float], extractors: str) -> int:
    """Seconds for speech splitting and for the whole extraction, one input per size."""
    from speechledger.api import Pipeline
    from speechledger.doc import SpeechDoc
    from speechledger.normalize import normalize
    from speechledger.speeches import split_speeches
    p = Pipeline(extractors=extractors)
    p(one_input(0.05), source="warmup.txt")
    print(f"{'MB':>6}{'chars':>12}{'speeches s':>12}{'extract s':>11}{'s per MB':>10}")
    for mb in mbs:
        text = one_input(mb)
        doc = normalize(SpeechDoc(source="bench.txt", text=text), p.config)
        t0 = time.perf_counter()
        split_speeches(doc, p.config)
        t_split = time.perf_counter() - t0
        t0 = time.perf_counter()
        p(text, source="bench.txt")
        t_all = time.perf_counter() - t0
        print(f"{mb:>6g}{len(text):>12,}{t_split:>12.2f}{t_all:>11.2f}{t_all / mb:>10.2f}", flush=True)
    return 0


def _variant_models(spec: str, tmp: str) -> tuple[str, str]:
    """(name, model folder): a copy of the installed models with the card's params overridden."""
    import json
    import shutil

    from speechledger.ml.loading import CARD, default_model_dir
    name, _, pairs = spec.partition(":")
    if not pairs:
        sys.exit(f"--variant {spec!r}: expected NAME:KEY=VALUE,...")
    folder = Path(tmp) / f"models-{len(os.listdir(tmp))}"
    shutil.copytree(default_model_dir(), folder, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    card = json.loads((folder / CARD).read_text(encoding="utf-8"))
    for pair in pairs.split(","):
        key, _, value = pair.partition("=")
        card.setdefault("params", {})[key.strip()] = json.loads(value)
    (folder / CARD).write_text(json.dumps(card, ensure_ascii=False, indent=1), encoding="utf-8")
    return name, str(folder)


def whole_process(docs: list[str], repeat: int, variants: list[str] = ()) -> None:
    """Whole processes on one core: `speechledger extract FILE` vs a Python that imports jieba and lcuts FILE.

    Both pay their start-up (imports, dictionaries, models), as a user on the command line does
    after the first run: an untimed run of each comes first, so extract reads its compiled rules
    from the cache (speechledger.rxcache) and Python its modules' bytecode, as every run after the
    first does (pip compiles an installed package's modules; an editable install's are compiled on
    first import). PYTHONDONTWRITEBYTECODE is dropped from the commands' environment for that.
    """
    import os
    import subprocess
    import tempfile
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.txt"
        path.write_text("\n".join(docs), encoding="utf-8")
        extract = [sys.executable, "-m", "speechledger", "extract", str(path), "--format", "jsonl"]
        cmds = {"jieba.lcut (process)": ([sys.executable, "-c", "import sys, jieba; jieba.setLogLevel(60); "
                                          "jieba.lcut(open(sys.argv[1], encoding='utf-8').read())", str(path)], env),
                "speechledger extract": (extract, env)}
        for spec in variants:
            name, folder = _variant_models(spec, tmp)
            cmds[f"extract, {name}"] = (extract, {**env, "SPEECHLEDGER_MODELS": folder})
        for cmd, e in cmds.values():
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=e)
        best = {k: float("inf") for k in cmds}
        for _ in range(repeat):
            for k, (cmd, e) in cmds.items():
                t0 = time.perf_counter()
                subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=e)
                best[k] = min(best[k], time.perf_counter() - t0)
    base = best["jieba.lcut (process)"]
    print(f"whole process, one {sum(map(len, docs)):,}-char file, best of {repeat}:")
    for k, t in best.items():
        print(f"  {k:<30}{t:>8.2f} s   ratio vs jieba.lcut {base / t:.2f}")


if __name__ == "__main__":
    raise SystemExit(main())

"""speechledger extract: commitments of files and folders, as a table, §6 JSONL or a Parquet dataset."""
from __future__ import annotations

import sys

HELP = "extract commitments from speech files (table, JSONL or Parquet)"
DESCRIPTION = """Extract tasks, responsible units, deadlines and targets from speech files and folders.

  speechledger extract speeches.txt                     # readable table
  speechledger extract a.txt b.docx --format jsonl      # one JSON object per speech (ANNOTATION.md §6)
  speechledger extract a.txt --date 2024-07-04          # reference date for relative deadlines
  speechledger extract corpus/ --format parquet -o out/corpus.parquet --jobs 2
  speechledger extract corpus/ --format parquet -o out/corpus.parquet --scheduler tcp://HOST:8786

Output to -o is written under a temporary name and renamed when done; when every
file fails, an existing output is left as it was. Exit status: 0, 1 when some file
failed, 2 for bad options, 130 when interrupted.
"""


def add_arguments(p) -> None:
    from speechledger.commands._batchargs import add_engine_arguments
    p.add_argument("files", nargs="+", help="speech files (.txt in UTF-8/GB18030/UTF-16, or .docx) and folders")
    p.add_argument("--format", choices=("table", "jsonl", "parquet"), default="table",
                   help="table (readable), jsonl (§6 records) or parquet (a dataset folder, needs -o)")
    p.add_argument("--date", help="speech date YYYY-MM-DD (overrides the date read from headings)")
    p.add_argument("--extractors", choices=("rules", "ml", "hybrid"), default=None,
                   help="which extractors to use (default: hybrid when models are installed, else rules)")
    p.add_argument("--tokenizer", default="jieba", choices=("jieba", "jieba-py", "hanlp"),
                   help="tokeniser backend for the token layer: jieba (rjieba, default), jieba-py, or hanlp "
                        "(needs the [hanlp] extra and a local model)")
    p.add_argument("--models", default=None, help="model folder (default: the bundled models/)")
    p.add_argument("-o", "--output", help="write to this file (a folder for parquet) instead of standard output")
    add_engine_arguments(p)


def default_extractors(model_dir: str | None = None) -> str:
    from speechledger.ml_default import default_extractors as d
    return d(model_dir)


def run(args) -> int:
    from speechledger.batch import PipelineSpec, check_date, extract
    from speechledger.commands._ledgerargs import fail

    if args.jobs < 1:
        return fail("--jobs must be at least 1")
    spec = PipelineSpec(args.extractors or default_extractors(args.models), args.tokenizer, args.models,
                        tokenize=args.tokenizer != "jieba")
    try:
        check_date(args.date)
        from speechledger.api import gc_paused
        with gc_paused():     # start-up (imports, models) makes no garbage worth a collection
            spec.build()      # a bad backend or model choice fails here, once, not per file
        stats = extract(args.files, fmt=args.format, output=args.output, date=args.date, jobs=args.jobs,
                        engine=args.engine, scheduler=args.scheduler, spec=spec, progress=args.progress)
    except (ValueError, RuntimeError, OSError) as e:
        return fail(str(e))
    if stats.interrupted:
        print("speechledger: interrupted; no output written", file=sys.stderr)
        return 130
    if stats.errors and stats.files > 1:
        print(f"speechledger: {len(stats.errors)} of {stats.files} files failed", file=sys.stderr)
    return 1 if stats.errors else 0

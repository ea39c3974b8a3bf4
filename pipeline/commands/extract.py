"""speechledger extract: commitments of one or more files, as a table or §6 JSONL."""
from __future__ import annotations

import json
import sys

HELP = "extract commitments from speech files (table or JSONL)"
DESCRIPTION = """Extract tasks, responsible units, deadlines and targets from speech files.

  speechledger extract speeches.txt                     # readable table
  speechledger extract a.txt b.docx --format jsonl      # one JSON object per speech (ANNOTATION.md §6)
  speechledger extract a.txt --date 2024-07-04          # reference date for relative deadlines
"""


def add_arguments(p) -> None:
    p.add_argument("files", nargs="+", help="speech files (.txt in UTF-8/GB18030/UTF-16, or .docx)")
    p.add_argument("--format", choices=("table", "jsonl"), default="table")
    p.add_argument("--date", help="speech date YYYY-MM-DD (overrides the date read from headings)")
    p.add_argument("--extractors", choices=("rules", "ml", "hybrid"), default=None,
                   help="which extractors to use (default: hybrid when models are installed, else rules)")
    p.add_argument("--tokenizer", default="jieba", choices=("jieba", "jieba-py", "hanlp"),
                   help="tokeniser backend for the token layer: jieba (rjieba, default), jieba-py, or hanlp "
                        "(needs the [hanlp] extra and a local model)")
    p.add_argument("--models", default=None, help="model folder (default: the bundled models/)")
    p.add_argument("-o", "--output", help="write to this file instead of standard output")


def default_extractors(model_dir: str | None = None) -> str:
    from speechledger.ml_default import default_extractors as d
    return d(model_dir)


def run(args) -> int:
    from speechledger.api import Pipeline
    from speechledger.output import print_table
    from speechledger.reader import InputError

    extractors = args.extractors or default_extractors(args.models)
    try:
        pipe = Pipeline(extractors=extractors, tokenizer=args.tokenizer, model_dir=args.models,
                        tokenize=args.tokenizer != "jieba")
    except (ValueError, RuntimeError) as e:  # a bad backend/model choice is a user error
        print(f"speechledger: {e}", file=sys.stderr)
        return 2
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    failed = 0
    progress = _progress(len(args.files))
    try:
        for path in args.files:
            if progress:
                progress.advance(progress.task_ids[0])
            try:
                doc = pipe.run_file(path, date=args.date)
            except InputError as e:
                print(f"speechledger: error: {e}", file=sys.stderr)
                failed += 1
                continue
            except ValueError as e:
                print(f"speechledger: error: {path}: {e}", file=sys.stderr)
                failed += 1
                continue
            if args.format == "jsonl":
                for sp in doc.speeches:
                    out.write(json.dumps(sp.to_json(path), ensure_ascii=False) + "\n")
                out.flush()
            else:
                print_table(doc, out)
    finally:
        if progress:
            progress.stop()
        if args.output:
            out.close()
    if failed and len(args.files) > 1:
        print(f"speechledger: {failed} of {len(args.files)} files failed", file=sys.stderr)
    return 1 if failed else 0


def _progress(n_files: int):
    """A progress bar on the terminal for batches (not when output is piped or redirected)."""
    if n_files < 5 or not sys.stderr.isatty():
        return None
    from rich.progress import Progress
    from rich.console import Console
    p = Progress(console=Console(file=sys.stderr), transient=True)
    p.add_task("extracting", total=n_files)
    p.start()
    return p

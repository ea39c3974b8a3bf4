"""Compatibility module: the reader lives in speechledger.read."""
# flake8: noqa
from speechledger.read import (SUPPORTED, InputError, Limits, decode_bytes, discover,  # noqa: F401
                               display_name, iter_files, read_file)
from speechledger.read.docx import read_docx  # noqa: F401

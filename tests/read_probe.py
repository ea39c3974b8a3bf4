"""Read one file in a fresh Python process; report the outcome, the time and the peak memory."""
from __future__ import annotations

import subprocess
import sys

# VmHWM is the probe's own peak RSS (it starts afresh at exec); ru_maxrss on Linux keeps
# the high-water mark of the forked pytest process, 500 MB in a full run.
_PROBE = """
import sys, time
from speechledger.read import InputError, read_file
t = time.perf_counter()
try:
    read_file(sys.argv[1]); outcome = "read"
except InputError as e:
    outcome = str(e)
secs = time.perf_counter() - t
try:
    with open("/proc/self/status") as f:
        peak_kb = int(next(ln.split()[1] for ln in f if ln.startswith("VmHWM:")))
except (OSError, StopIteration):
    import resource
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(outcome); print(secs); print(peak_kb)
"""


def probe(path) -> tuple[str, float, float]:
    """(error message or 'read', seconds in read_file, peak RSS in MB)."""
    r = subprocess.run([sys.executable, "-c", _PROBE, str(path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    outcome, secs, peak_kb = r.stdout.splitlines()
    return outcome, float(secs), int(peak_kb) / 1024

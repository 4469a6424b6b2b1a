"""`make bench`: every benchmark, one after the other, each printing its measurements and ratios.

Timing never runs inside the test suite. Each benchmark is a standalone script in this folder;
this runner calls them in order and stops on the first that fails to run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = [
    ["bench_scoring.py"],
    ["bench_rescore.py"],
    ["bench_users.py"],
    ["bench_autosave.py"],
    # 50 people without think time, a minute without faults, then a minute with them
    ["load.py", "--seconds", "60"],
    ["load.py", "--seconds", "60", "--faults"],
    ["bench_reports.py"],
    # a tenth of the scale (it prints the scale); the full run: bench_stats.py alone
    ["bench_stats.py", "--firms", "10000", "--assessments", "30000"],
    ["bench_desk.py"],
]


def main() -> int:
    for name, *args in BENCHES:
        path = HERE / name
        print(f"== {' '.join([name, *args])}", flush=True)
        rc = subprocess.call([sys.executable, str(path), *args], cwd=HERE.parent)
        if rc != 0:
            print(f"!! {name} failed (exit {rc})", flush=True)
            return rc
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The long multi-tab chaos run (issue 6): the e2e chaos test with many more rounds.

    .venv/bin/python bench/chaos_tabs.py [--rounds 20] [--seed 7]

Runs ``tests/e2e/test_tabs.py -k chaos`` (writer tabs closed or crashed at random moments
while every tab edits, new tabs opened; at the end every change any tab reported saved is
in every tab and after a full reload, and ``PRAGMA integrity_check`` is ok) with
``YLOFT_CHAOS_ROUNDS``/``YLOFT_CHAOS_SEED`` raised, and writes the outcome to
``bench/results/chaos_tabs.json``. ``python3 build.py test`` runs the same test with a
fixed seed and 3 rounds. This is a soak run, not a benchmark: it reports pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    env = {**os.environ, "YLOFT_CHAOS_ROUNDS": str(args.rounds), "YLOFT_CHAOS_SEED": str(args.seed)}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
           "tests/e2e/test_tabs.py", "-k", "chaos", "-o", "timeout=3000"]  # fmt: skip
    start = time.monotonic()
    code = subprocess.call(cmd, cwd=ROOT, env=env)
    result = {
        "rounds": args.rounds,
        "seed": args.seed,
        "passed": code == 0,
        "seconds": round(time.monotonic() - start, 1),
    }
    out = ROOT / "bench" / "results" / "chaos_tabs.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(json.dumps(result))
    return code


if __name__ == "__main__":
    raise SystemExit(main())

"""The long API fuzzing run: portal/tests/test_api_fuzz.py with many more examples, then its figures.

    .venv/bin/python bench/fuzz_api.py                 # 500 random examples per operation and caller
    FUZZ_EXAMPLES=2000 .venv/bin/python bench/fuzz_api.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_fuzz .venv/bin/python bench/fuzz_api.py

It runs the same test as CI (pytest, so on the test database pytest-django creates, never the
developer's own) with FUZZ_EXAMPLES random examples (default 500) and schemathesis's coverage
phase (its deterministic boundary cases), and prints, per caller, the requests sent and the status
codes answered, the failed checks by kind, and the failing operations. Exits with pytest's status.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
TEST = "portal/tests/test_api_fuzz.py"


def main():
    examples = os.environ.get("FUZZ_EXAMPLES", "500")
    with tempfile.TemporaryDirectory(prefix="fuzz-") as temp_dir:
        stats_file = os.path.join(temp_dir, "stats.json")
        env = {**os.environ, "FUZZ_EXAMPLES": examples, "FUZZ_COVERAGE": os.environ.get("FUZZ_COVERAGE", "1"),
               "FUZZ_STATS": stats_file}
        started = time.monotonic()
        command = [sys.executable, "-m", "pytest", TEST, "-q", "-p", "no:logging", "-p", "no:cacheprovider"]
        run = subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True)  # noqa: S603  (our own command)
        elapsed = time.monotonic() - started
        with open(stats_file) as stats:
            stats = json.load(stats)
    report(stats, run, elapsed)
    return run.returncode


def report(stats, run, elapsed):
    by_caller, failures = {}, Counter()
    operations = set()
    for key, codes in stats["answers"].items():
        operation, caller = key.split("|")
        operations.add(operation)
        by_caller.setdefault(caller, Counter()).update(codes)
    for kinds in stats["failures"].values():
        failures.update(kinds)
    print(f"{len(operations)} operations, {stats['examples']} random examples each per caller, "
          f"coverage phase {'on' if stats['coverage'] else 'off'}; {elapsed:.0f} s")
    for caller, codes in sorted(by_caller.items()):
        statuses = ", ".join(f"{code}: {count}" for code, count in sorted(codes.items()))
        print(f"  {caller:<12} {sum(codes.values()):>6} requests  ({statuses})")
    total = sum(sum(codes.values()) for codes in by_caller.values())
    server_errors = sum(count for codes in by_caller.values() for code, count in codes.items() if code >= "500")
    print(f"  {'all':<12} {total:>6} requests, {server_errors} answered 5xx")
    print("failed checks (counting hypothesis's replays while it shrinks a failure):",
          ", ".join(f"{kind}: {count}" for kind, count in sorted(failures.items())) or "none")
    failed = [line for line in run.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    print("\n".join(failed) if failed else "no failing operation")
    print(run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr[-2000:])


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Runs the same fixtures many times and fails on any verdict or output that differs.

A CI gate is only as good as its worst flake, and flakes hide in timing: a child running
ahead of its worker, a pipe read a moment too early. This script checks the hostile, the
sandbox and the format fixtures again and again with `--jobs 1`, `2` and `4`, both isolation
modes, with the machine idle and with every core busy, each run with no result cache, and
compares each snippet's category, error type, notes (present or not), stdout and stderr with
the first run of that fixture. Bounded by a time budget; prints how many runs it made and
every difference, and exits 1 when there is one.

Standard library only:

    python3 tests/stress/stress.py                       # target/debug/snipcheck, 240 s budget
    python3 tests/stress/stress.py --budget 60 --binary target/release/snipcheck --only formats
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# (name, config): the configs name their documents.
FIXTURES = [
    ("formats", "fixtures/formats/snipcheck.yaml"),
    ("check", "fixtures/check/snipcheck.yaml"),
    ("worker", "fixtures/sandbox/worker.yaml"),
    ("hostile", "fixtures/hostile/snipcheck.yaml"),
]
JOBS = [1, 2, 4]
ISOLATION = ["document", "snippet", "library"]
LOADS = ["idle", "loaded"]


def burn(stop_at):
    """Keeps one core busy until `stop_at` (a load for the runs beside it)."""
    while time.time() < stop_at:
        pass


def verdicts(record):
    """What must be the same in every run: per snippet, its verdict and captured output.
    Durations, process counts in notes and the number of dropped bytes of a flood depend
    on timing and are left out; whether there is a note is kept."""
    table = {}
    for snippet in record["snippets"]:
        error = snippet.get("error") or {}
        table[snippet["id"]] = {
            "category": snippet["category"],
            "error": error.get("type"),
            "noted": bool(snippet.get("notes")),
            "stdout": (snippet.get("stdout") or {}).get("text", ""),
            "stderr": (snippet.get("stderr") or {}).get("text", ""),
        }
    return table


def run(binary, config, jobs, isolate, cache):
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [
            str(binary), "check", "--config", config, "--jobs", str(jobs), "--isolate", isolate,
            "--format", "json", "-o", out.name,
        ]
        env = dict(os.environ, SNIPCHECK_CACHE_DIR=str(cache), SNIPCHECK_NO_CACHE="1")
        started = time.monotonic()
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
        elapsed = time.monotonic() - started
        if done.returncode not in (0, 1):
            return None, elapsed, "exit {}: {}".format(done.returncode, done.stderr.strip()[-2000:])
        return json.loads(Path(out.name).read_text()), elapsed, None


def differences(first, this):
    found = []
    for snippet_id in sorted(set(first) | set(this)):
        a, b = first.get(snippet_id), this.get(snippet_id)
        if a is None or b is None:
            found.append("{}: {} in one run only".format(snippet_id, "present" if b else "missing"))
            continue
        for key in a:
            if a[key] != b[key]:
                found.append("{} {}: {!r} then {!r}".format(snippet_id, key, a[key][:200] if isinstance(a[key], str) else a[key], b[key][:200] if isinstance(b[key], str) else b[key]))
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", default=str(ROOT / "target/debug/snipcheck"))
    parser.add_argument("--budget", type=float, default=240.0, help="seconds to keep running (default 240)")
    parser.add_argument("--cache-dir", default=str(ROOT / "target/stress-cache"),
                        help="where the environment is built once (results are never cached)")
    parser.add_argument("--only", action="append", choices=[name for name, _ in FIXTURES],
                        help="run only this fixture (repeatable)")
    arguments = parser.parse_args()
    binary = Path(arguments.binary)
    if not binary.exists():
        sys.exit("no binary at {} (build it with `cargo build`)".format(binary))
    cache = Path(arguments.cache_dir)
    deadline = time.monotonic() + arguments.budget

    first = {}
    runs = 0
    failures = []
    # Every combination once, then again, until the budget is spent.
    fixtures = [f for f in FIXTURES if not arguments.only or f[0] in arguments.only]
    combinations = list(itertools.product(LOADS, fixtures, JOBS, ISOLATION))
    for round_number in itertools.count(1):
        for load, (name, config), jobs, isolate in combinations:
            if time.monotonic() >= deadline:
                break
            burners = []
            if load == "loaded":
                stop_at = time.time() + 120
                burners = [multiprocessing.Process(target=burn, args=(stop_at,)) for _ in range(os.cpu_count() or 2)]
                for burner in burners:
                    burner.start()
            try:
                record, elapsed, error = run(binary, config, jobs, isolate, cache)
            finally:
                for burner in burners:
                    burner.terminate()
                    burner.join()
            runs += 1
            label = "{} --jobs {} --isolate {} ({})".format(name, jobs, isolate, load)
            if error is not None:
                failures.append("{}: {}".format(label, error))
                print("FAIL {}: {}".format(label, error), flush=True)
                continue
            table = verdicts(record)
            if name not in first:
                first[name] = (label, table)
                print("base {} in {:.1f} s: {} snippets".format(label, elapsed, len(table)), flush=True)
                continue
            found = differences(first[name][1], table)
            status = "DIFF" if found else "same"
            print("{} {} in {:.1f} s".format(status, label, elapsed), flush=True)
            for line in found:
                failures.append("{} vs {}: {}".format(label, first[name][0], line))
                print("     {}".format(line), flush=True)
        else:
            continue
        break
    print("\n{} runs in {} rounds, {} differences".format(runs, round_number, len(failures)))
    if runs < len(combinations):
        print("the budget ended before every combination ran once ({} of {})".format(runs, len(combinations)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

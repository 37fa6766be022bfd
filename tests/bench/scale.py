#!/usr/bin/env python3.11
"""How snipcheck scales on one machine: large corpora, the import floor, the guide cold.

Measures, in one run, the targets of issue 5:

- 10 000 and 100 000 trivial snippets (200 and 2 000 Markdown documents of 50): the cost per
  extra snippet (the slope between the two sizes) and the peak memory of the largest process
  (the main process, each worker, each forked child: VmHWM from /proc);
- the benchmark corpus of peers.py (1 000 snippets in 20 documents, 80% trivial, 15% numpy,
  5% scikit-learn) as a ratio of its import floor (a fresh `python -c "import numpy,
  sklearn.linear_model"` in the same venv);
- the guide (snippets/) cold, in its full environment (`--guide-env`, a venv with tensorflow),
  as a ratio of its slowest single import (`python -c "import tensorflow"` in that venv).

Every snipcheck run is `check --no-cache` with an empty `--cache-dir` of its own, so no run is
answered, or slowed, by an earlier one. Standard library only:

    python3.11 tests/bench/scale.py                          # build, venv, everything but the guide
    python3.11 tests/bench/scale.py --guide-env /path/venv   # also the guide, in that venv
    python3.11 tests/bench/scale.py --no-build --repeat 3 --only large
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import peers  # noqa: E402  (the corpus generator, the venv, the build)

ROOT = peers.ROOT
LARGE = [(10_000, 200), (100_000, 2_000)]
BENCH_CORPUS = 1_000
FLOOR_IMPORTS = "numpy, sklearn.linear_model"
GUIDE_SLOWEST_IMPORT = "tensorflow"
TARGETS = {
    "slope_ms": 0.05,
    "largest_process_mib": 256,
    "bench_vs_floor": 1.05,
    "guide_vs_slowest_import": 1.10,
}
SECTIONS = ["large", "floor", "guide"]


def log(message: str) -> None:
    print(f"[scale] {message}", file=sys.stderr, flush=True)


class PeakSampler(threading.Thread):
    """The peak resident set of every process in a tree, by role: the root (snipcheck's main
    process), its children (workers) and everything below them (forked children).

    Reads VmHWM, the kernel's own high-water mark of each process's RSS, every `interval`
    seconds, so a process's peak is caught even when it lived between two samples' worth of
    growth; a process that starts and ends between two samples is missed (forked children
    live for a whole document, far longer than 20 ms)."""

    def __init__(self, root: int, interval: float = 0.02):
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.peaks: dict[int, int] = {}
        self.names: dict[int, str] = {}
        self.depth: dict[int, int] = {root: 0}
        self.largest: dict[str, str] = {}
        self._strangers: set[int] = set()
        self._done = threading.Event()

    def stop(self) -> None:
        self._done.set()
        self.join()

    @staticmethod
    def _status(pid: int) -> tuple[int | None, int, str]:
        try:
            text = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return None, 0, ""
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        hwm = int(fields.get("VmHWM", "0 kB").split()[0]) * 1024
        return int(fields["PPid"]), hwm, fields.get("Name", "").strip()

    def sample(self) -> None:
        alive = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        for pid in alive:
            if pid < self.root or pid in self._strangers:
                continue
            ppid, hwm, name = self._status(pid)
            if ppid is None:
                continue
            if pid not in self.depth:
                if ppid not in self.depth:
                    self._strangers.add(pid)
                    continue
                self.depth[pid] = self.depth[ppid] + 1
            if self.depth[pid] == 1 and name == self.names.get(self.root):
                # Spawned by the main process and not yet exec'd: it still shares the main
                # process's memory (vfork), whose peak it would report as its own.
                continue
            self.peaks[pid] = max(self.peaks.get(pid, 0), hwm)
            self.names[pid] = name

    def run(self) -> None:
        while not self._done.is_set():
            self.sample()
            self._done.wait(self.interval)

    def by_role(self) -> dict[str, int]:
        """The largest peak among the main process, the workers, and their children."""
        roles = {"main": 0, "worker": 0, "child": 0}
        for pid, peak in self.peaks.items():
            role = ["main", "worker", "child"][min(self.depth[pid], 2)]
            if peak > roles[role]:
                roles[role] = peak
                self.largest[role] = f"{self.names.get(pid, '?')} (pid {pid})"
        return roles


@dataclass
class Run:
    wall_s: float
    cpu_s: float
    peaks: dict[str, int]
    largest: dict[str, str]
    returncode: int
    stdout: str
    stderr: str


def measure(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    wall, sampler, returncode, stdout, stderr, cpu = peers.timed(argv, cwd, env, PeakSampler)
    peaks = sampler.by_role()
    return Run(wall, cpu, peaks, sampler.largest, returncode, stdout, stderr)


def best_import(python: Path, modules: str, repeat: int, env: dict[str, str],
                side_by_side: int = 1) -> float:
    """Best wall time of fresh interpreters importing `modules`, one BLAS thread (as
    snipcheck's workers have): `side_by_side` of them at once, as that many workers do."""
    env = dict(env, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        imports = [subprocess.Popen([str(python), "-c", f"import {modules}"], env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                   for _ in range(side_by_side)]
        if any(p.wait() != 0 for p in imports):
            raise SystemExit(f"import {modules} failed in {python}")
        best = min(best, time.perf_counter() - start)
    return best


# The runner's own Python, loaded under the names the worker gives it, running snippets one
# after the other in one process: no fork, no pipe, no record. What is left is CPython
# compiling and executing each snippet, the floor under snipcheck's cost per snippet.
IN_PROCESS_RUNNER = """
import json, re, sys, time
sys.path.insert(0, sys.argv[1])
import _snipcheck_snippet as snippet
from pathlib import Path
codes = []
for page in sorted(Path(sys.argv[3]).glob("*.md")):
    codes += re.findall(r"```python\\n(.*?)```", page.read_text(), re.S)
codes = codes[:int(sys.argv[2])]
jobs = [json.dumps({"id": f"example-{i}", "path": "/corpus/page.md", "line": 10 + 4 * i,
                    "end_line": 12 + 4 * i, "code": code, "kind": "python"})
        for i, code in enumerate(codes)]
start = time.process_time()
for job in jobs:
    assert json.loads(snippet.run_snippet(job))["category"] == "passed"
print(len(jobs), (time.process_time() - start) / len(jobs) * 1000)
"""


def in_process_ms(python: Path, corpus: Path, snippets: int) -> float:
    """CPU milliseconds per snippet of the runner's Python run in process (see above) on
    the first `snippets` snippets of `corpus`."""
    runner = ROOT / "crates" / "python" / "src"
    with tempfile.TemporaryDirectory() as modules:
        for name in ("classify", "runner", "snippet"):
            shutil.copy(runner / f"{name}.py", Path(modules) / f"_snipcheck_{name}.py")
        run = subprocess.run([str(python), "-c", IN_PROCESS_RUNNER, modules, str(snippets),
                              str(corpus)], capture_output=True, text=True)
        if run.returncode != 0:
            raise SystemExit(f"the runner's Python failed in process:\n{run.stderr[-2000:]}")
        out = run.stdout
    ran, per_snippet = out.split()
    if int(ran) < snippets:
        raise SystemExit(f"only {ran} snippets found in {corpus}")
    return float(per_snippet)


def snipcheck(binary: Path, venv: Path, work: Path, *rest: str) -> list[str]:
    """`snipcheck check --no-cache` with an empty cache folder of its own."""
    cache = work / "cache"
    if cache.exists():
        shutil.rmtree(cache)
    return [str(binary), "check", "--python-env", str(venv), "--no-cache",
            "--cache-dir", str(cache), "--format", "json", "-o", str(work / "record.json"),
            "-q", *rest]


def checked(run: Run, work: Path, snippets: int | None, what: str) -> dict:
    """The run's record (removed from `work`), after making sure it ran every snippet (and, for the generated
    corpora, that every one passed): a fast run that checked nothing proves nothing."""
    record_path = work / "record.json"
    if not record_path.exists():
        tail = "\n".join((run.stdout + run.stderr).strip().splitlines()[-15:])
        raise SystemExit(f"{what}: no record (exit code {run.returncode})\n{tail}")
    record = json.loads(record_path.read_text())
    record_path.unlink()
    summary = record["summary"]
    if snippets is not None and (summary["snippets"] != snippets or summary["passed"] != snippets):
        raise SystemExit(f"{what}: expected {snippets} passed snippets, the record says {summary}")
    return record


def run_large(ctx: dict, repeat: int) -> dict:
    """Wall time and peak memory per role on the large corpora, best of `repeat` rounds
    (interleaved, so a change in load is spread over both sizes)."""
    work = ctx["work"] / "large"
    corpora = {}
    for snippets, documents in LARGE:
        folder = ctx["cache"] / f"corpus-trivial-{snippets}"
        peers.generate_corpus(folder, snippets, ctx["seed"], per_file=snippets // documents,
                              kinds={"trivial": 100})
        corpora[snippets] = folder
    runs: dict[int, list[Run]] = {n: [] for n in corpora}
    work.mkdir(parents=True, exist_ok=True)
    for i in range(repeat):
        for n, folder in corpora.items():
            run = measure(snipcheck(ctx["binary"], ctx["venv"], work, str(folder)), work)
            checked(run, work, n, f"{n} snippets")
            runs[n].append(run)
            peaks = ", ".join(f"{k} {v / 2**20:.0f} ({run.largest.get(k, '-')})"
                              for k, v in run.peaks.items())
            log(f"round {i + 1}/{repeat}  {n:6} snippets  {run.wall_s:7.2f} s  "
                f"(CPU {run.cpu_s:.2f} s)  "
                f"peak RSS (MiB): {peaks}")
    sizes = {}
    for n, rs in runs.items():
        sizes[str(n)] = {
            "documents": dict(LARGE)[n],
            "wall_s": [round(r.wall_s, 3) for r in rs],
            "best_s": round(min(r.wall_s for r in rs), 3),
            "cpu_s": [round(r.cpu_s, 3) for r in rs],
            "best_cpu_s": round(min(r.cpu_s for r in rs), 3),
            "peak_mib": {role: round(max(r.peaks[role] for r in rs) / 2**20, 1)
                         for role in ("main", "worker", "child")},
        }
    (small, _), (large, _) = LARGE
    def slope(key: str) -> float:
        return (sizes[str(large)][key] - sizes[str(small)][key]) / (large - small) * 1000

    largest = max(max(s["peak_mib"].values()) for s in sizes.values())
    # The bound: every core running snippets in process with nothing else to do.
    python_ms = min(in_process_ms(ctx["venv"] / "bin" / "python", corpora[small], 5_000)
                    for _ in range(repeat))
    # The CPU slope has no target: it says what the wall slope would be on an idle machine
    # of as many cores (divide by them), when the load makes the wall times say little.
    return {"sizes": sizes, "slope_ms": round(slope("best_s"), 4),
            "cpu_slope_ms": round(slope("best_cpu_s"), 4), "largest_process_mib": largest,
            "in_process_cpu_ms": round(python_ms, 4),
            "slope_bound_ms": round(python_ms / (os.cpu_count() or 1), 4)}


def run_floor(ctx: dict, repeat: int) -> dict:
    """The benchmark corpus against the import floor of its imports, each measured `repeat`
    times in alternation, best of each."""
    work = ctx["work"] / "floor"
    work.mkdir(parents=True, exist_ok=True)
    folder = ctx["cache"] / f"corpus-{BENCH_CORPUS}"
    peers.generate_corpus(folder, BENCH_CORPUS, ctx["seed"])
    python = ctx["venv"] / "bin" / "python"
    cores = os.cpu_count() or 1
    floors, side_by_side, walls, snippet_times = [], [], [], []
    for i in range(repeat):
        floors.append(best_import(python, FLOOR_IMPORTS, 1, ctx["env"]))
        # As many workers as cores each import them: what sharing the machine costs them.
        side_by_side.append(best_import(python, FLOOR_IMPORTS, 1, ctx["env"], cores))
        run = measure(snipcheck(ctx["binary"], ctx["venv"], work, str(folder)), work)
        record = checked(run, work, BENCH_CORPUS, f"{BENCH_CORPUS} snippets")
        snippet_times.append(sum(s["duration_ms"] for s in record["snippets"]) / 1000)
        walls.append(run.wall_s)
        log(f"round {i + 1}/{repeat}  import floor {floors[-1]:.2f} s  "
            f"{cores} side by side {side_by_side[-1]:.2f} s  "
            f"{BENCH_CORPUS} snippets {run.wall_s:.2f} s")
    snippets_s = min(snippet_times)
    return {"import_floor_s": [round(f, 3) for f in floors],
            "side_by_side_s": [round(f, 3) for f in side_by_side],
            "wall_s": [round(w, 3) for w in walls],
            "snippets_s": round(snippets_s, 3),
            "bench_vs_floor": round(min(walls) / min(floors), 3),
            # Two bounds under the ratio: the imports of a worker per core, and one import
            # followed by the snippets' own time spread over the cores (no fork, no exit).
            "side_by_side_vs_floor": round(min(side_by_side) / min(floors), 3),
            "no_overhead_vs_floor": round((min(floors) + snippets_s / cores) / min(floors), 3)}


def run_guide(ctx: dict, repeat: int, venv: Path, isolate: str | None) -> dict:
    """The guide cold in its full environment against its slowest single import."""
    work = ctx["work"] / "guide"
    work.mkdir(parents=True, exist_ok=True)
    python = venv / "bin" / "python"
    config = ROOT / "snippets" / "snipcheck.yaml"
    imports, walls, summary = [], [], {}
    for i in range(repeat):
        imports.append(best_import(python, GUIDE_SLOWEST_IMPORT, 1, ctx["env"]))
        chosen = ["--isolate", isolate] if isolate else []
        argv = snipcheck(ctx["binary"], venv, work, "--config", str(config), *chosen)
        run = measure(argv, work)
        summary = checked(run, work, None, "the guide")["summary"]
        walls.append(run.wall_s)
        log(f"round {i + 1}/{repeat}  import {GUIDE_SLOWEST_IMPORT} {imports[-1]:.2f} s  "
            f"the guide {run.wall_s:.2f} s")
    return {"env": str(venv), "isolate": isolate or "as configured",
            "slowest_import_s": [round(t, 3) for t in imports],
            "wall_s": [round(w, 3) for w in walls], "summary": summary,
            "guide_vs_slowest_import": round(min(walls) / min(imports), 3)}


def verdict(value: float | None, limit: float) -> str:
    return "SKIP" if value is None else ("PASS" if value <= limit else "FAIL")


def report(doc: dict) -> str:
    lines = [f"Measured {doc['measured_at']} on {doc['machine']['cores']} cores, load average "
             f"{doc['machine']['loadavg_before']} before and {doc['machine']['loadavg_after']} "
             f"after; snipcheck {doc['snipcheck']}; best of {doc['repeat']}."]
    large, floor, guide = doc.get("large"), doc.get("floor"), doc.get("guide")
    if large:
        lines += ["", "| snippets | documents | wall (s) | CPU (s) | peak RSS main (MiB) | "
                  "largest worker (MiB) | largest child (MiB) |",
                  "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for n, s in large["sizes"].items():
            p = s["peak_mib"]
            lines.append(f"| {n} | {s['documents']} | {s['best_s']:.2f} | {s['best_cpu_s']:.2f} | "
                         f"{p['main']:.0f} | {p['worker']:.0f} | {p['child']:.0f} |")
        lines.append(f"\nCPU (user + system of the whole process tree) per extra snippet: "
                     f"{large['cpu_slope_ms']:.3f} ms. The runner's own Python in one process "
                     f"(no fork, pipe or record): {large['in_process_cpu_ms']:.3f} ms of CPU "
                     f"per snippet, so no slope below {large['slope_bound_ms']:.3f} ms on "
                     f"{doc['machine']['cores']} cores.")
    if floor:
        lines.append(f"\nBenchmark corpus: {min(floor['wall_s']):.2f} s; import floor "
                     f"(`import {FLOOR_IMPORTS}`): {min(floor['import_floor_s']):.2f} s; as "
                     f"many imports as cores side by side: {min(floor['side_by_side_s']):.2f} s "
                     f"({floor['side_by_side_vs_floor']:.3f} x); one import then the snippets' "
                     f"own {floor['snippets_s']:.2f} s over the cores: "
                     f"{floor['no_overhead_vs_floor']:.3f} x.")
    if guide:
        lines.append(f"The guide cold (isolation {guide['isolate']}, {guide['env']}): "
                     f"{min(guide['wall_s']):.2f} s; `import "
                     f"{GUIDE_SLOWEST_IMPORT}`: {min(guide['slowest_import_s']):.2f} s "
                     f"({guide['summary']['snippets']} snippets, {guide['summary']['passed']} "
                     "passed).")
    lines.append("")
    figures = [
        ("per extra snippet, 10 000 -> 100 000 trivial snippets", "slope_ms", large, "ms"),
        ("peak RSS of the largest process, either size", "largest_process_mib", large, "MiB"),
        (f"{BENCH_CORPUS} snippets / import floor", "bench_vs_floor", floor, "x"),
        (f"the guide cold / import {GUIDE_SLOWEST_IMPORT}", "guide_vs_slowest_import", guide,
         "x"),
    ]
    for name, key, section, unit in figures:
        value = section.get(key) if section else None
        shown = "not measured" if value is None else f"{value:.3f} {unit}"
        lines.append(f"{verdict(value, TARGETS[key])}  {name}: {shown} "
                     f"(target <= {TARGETS[key]} {unit})")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=1, help="rounds; the best counts (default 1)")
    p.add_argument("--only", action="append", choices=SECTIONS,
                   help="run only this part (repeatable)")
    p.add_argument("--guide-env", type=Path, metavar="VENV",
                   help="a venv with the guide's requirements (tensorflow...): measures the guide")
    p.add_argument("--guide-isolate", choices=["document", "library"],
                   help="the guide's isolation (default: its config's)")
    p.add_argument("--seed", type=int, default=4)
    p.add_argument("--cache", type=Path, default=ROOT / "target" / "bench",
                   help="venv, corpora and results (default target/bench)")
    p.add_argument("--python", default="python3.11", help="the Python the venv is made from")
    p.add_argument("--no-build", action="store_true", help="use target/release/snipcheck as it is")
    p.add_argument("--snipcheck", type=Path, metavar="BINARY", help="measure this binary instead")
    args = p.parse_args(argv)
    sections = args.only or SECTIONS
    cache = args.cache.resolve()
    cache.mkdir(parents=True, exist_ok=True)
    ctx = {"cache": cache, "venv": cache / "venv", "seed": args.seed,
           "work": cache / "scale-runs"}
    peers.ensure_venv(ctx["venv"], args.python, upgrade=False)
    ctx["env"] = peers.tool_env(ctx)
    ctx["binary"] = args.snipcheck.resolve() if args.snipcheck else peers.build_snipcheck(
        args.no_build)
    info = peers.snipcheck_info(ctx["binary"])
    doc: dict = {
        "measured_at": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(),
                    "loadavg_before": " ".join(f"{x:.2f}" for x in os.getloadavg())},
        "snipcheck": f"{info['version']} ({info['commit']})",
        "repeat": args.repeat,
        "targets": TARGETS,
    }
    if "large" in sections:
        doc["large"] = run_large(ctx, args.repeat)
    if "floor" in sections:
        doc["floor"] = run_floor(ctx, args.repeat)
    if "guide" in sections:
        if args.guide_env:
            doc["guide"] = run_guide(ctx, args.repeat, args.guide_env.resolve(),
                                     args.guide_isolate)
        else:
            log("the guide: skipped (no --guide-env)")
    doc["machine"]["loadavg_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    text = report(doc)
    doc["report"] = text
    out = cache / "scale.json"
    out.write_text(json.dumps(doc, indent=2) + "\n")
    print(text)
    print(f"\nresults: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Edit-to-diagnostics time of `snipcheck lsp` on the guide, as an editor sees it.

Copies the guide (snippets/ by default) to a temporary folder, points its config at an
existing virtualenv (`--python-env`, for example one with numpy and scikit-learn), starts
`snipcheck lsp` over stdio with an empty cache folder, opens the guide (the cold open) and
then edits one scikit-learn example again and again, each time timing from the
`didChange` sent to the `publishDiagnostics` of that version. The figure includes the
server's debounce. Prints one line per step and a summary; `--json` writes the figures.

    python3 tests/bench/lsp_edit.py --python-env /tmp/sklearn-venv
    python3 tests/bench/lsp_edit.py --python-env VENV --edits 20 --snipcheck target/release/snipcheck
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

# (name, a line of a scikit-learn example; the edit appends a comment to it, so the
# example's code changes and the result cache cannot answer it)
EXAMPLES = [
    ("Q7 mean_squared_error", "mse = mean_squared_error(y_true, y_pred)"),
    ("Q9 RandomForestClassifier", "rf = RandomForestClassifier(n_estimators=100)"),
]


# What the questions dropped by --sklearn-only name.
HEAVY = re.compile(r"torch|tensorflow|keras|imgaug|cv2|opencv", re.IGNORECASE)


def without_heavy_questions(guide):
    """The guide's introduction and the questions (`Q12. ...` to the next) HEAVY misses."""
    parts = re.split(r"(?m)^(?=Q\d+\. )", guide)
    return parts[0] + "".join(part for part in parts[1:] if not HEAVY.search(part))


class Server:
    def __init__(self, program, root, cache):
        env = dict(os.environ, SNIPCHECK_CACHE_DIR=cache)
        self.process = subprocess.Popen(
            [program, "lsp"], cwd=root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )

    def send(self, message):
        body = json.dumps(message).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def read(self):
        length = 0
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise SystemExit("the server closed its output")
            if line.startswith(b"Content-Length:"):
                length = int(line.split(b":")[1])
            elif line == b"\r\n":
                break
        return json.loads(self.process.stdout.read(length))

    def diagnostics(self, version):
        while True:
            message = self.read()
            params = message.get("params") or {}
            if message.get("method") == "textDocument/publishDiagnostics" and params.get("version") == version:
                return params["diagnostics"]

    def request(self, id, method, params=None):
        self.send({"jsonrpc": "2.0", "id": id, "method": method, "params": params or {}})
        while True:
            message = self.read()
            if message.get("id") == id:
                return message.get("result")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python-env", required=True, help="virtualenv the guide's examples run in")
    parser.add_argument("--guide", default="snippets", help="folder with the guide and its config")
    parser.add_argument("--snipcheck", default="target/debug/snipcheck")
    parser.add_argument("--edits", type=int, default=10, help="edits per example")
    parser.add_argument("--sklearn-only", action="store_true",
                        help="keep only the questions that need no deep-learning or imaging library "
                             "(for an environment with numpy and scikit-learn alone)")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="snipcheck-lsp-bench-")
    root = os.path.join(work, "guide")
    shutil.copytree(args.guide, root, ignore=shutil.ignore_patterns(".snipcheck"))
    config = os.path.join(root, "snipcheck.yaml")
    with open(config) as f:
        text = f.read()
    with open(config, "w") as f:
        f.write(text.replace("requirements: requirements.txt", "env: " + os.path.abspath(args.python_env)))
    doc = os.path.join(root, "ml-engineer-interview-guide.txt")
    with open(doc) as f:
        guide = f.read()
    if args.sklearn_only:
        guide = without_heavy_questions(guide)
        with open(doc, "w") as f:
            f.write(guide)
    uri = "file://" + doc

    server = Server(os.path.abspath(args.snipcheck), root, os.path.join(work, "cache"))
    server.request(1, "initialize", {"rootUri": "file://" + root, "capabilities": {}})
    started = time.monotonic()
    server.send({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
        "textDocument": {"uri": uri, "languageId": "plaintext", "version": 1, "text": guide}}})
    opened = server.diagnostics(1)
    cold = time.monotonic() - started
    print(f"cold open: {cold:.2f} s, {len(opened)} diagnostics")

    figures = {"cold_open_s": cold, "edits": {}}
    version = 1
    for name, line in EXAMPLES:
        if line not in guide:
            raise SystemExit(f"the guide has no line {line!r}")
        times = []
        for n in range(args.edits):
            version += 1
            edited = guide.replace(line, f"{line}  # edit {version}", 1)
            started = time.monotonic()
            server.send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": edited}]}})
            found = server.diagnostics(version)
            times.append(time.monotonic() - started)
            print(f"{name} edit {n + 1}: {times[-1] * 1000:.0f} ms, {len(found)} diagnostics")
        # The first edit may still start the example's worker; the rest are warm.
        warm = times[1:] or times
        figures["edits"][name] = {"first_ms": times[0] * 1000, "warm_ms": [t * 1000 for t in warm]}
        print(f"{name}: first {times[0] * 1000:.0f} ms; warm median {statistics.median(warm) * 1000:.0f} ms, "
              f"min {min(warm) * 1000:.0f}, max {max(warm) * 1000:.0f}")
    figures["session"] = server.request(2, "snipcheck/session")
    print("session:", figures["session"])
    server.request(3, "shutdown")
    server.send({"jsonrpc": "2.0", "method": "exit"})
    server.process.wait(timeout=30)
    shutil.rmtree(work, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())

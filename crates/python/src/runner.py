"""Runs one snippet and classifies how it ended.

Loaded into the embedded interpreter by snipcheck's worker and called in a forked child, where
the exception object is still alive: that is the only place its type, its frames and the
module it was raised on can be read reliably. `run_snippet` returns a JSON string the Rust
side parses.

A snippet runs in a fresh namespace, unless it names a session: snippets of one session
share one namespace, kept for the life of the child (which runs one document, in order).
"""

import builtins
import difflib
import importlib
import importlib.util
import io
import json
import linecache
import os
import re
import sys
import threading
import traceback
import types

_CANNOT_IMPORT = re.compile(r"cannot import name '([^']+)' from '([^']+)'")

# The folder snipcheck was started in: the child works in a folder of its own, and the
# documents' paths are relative to this one.
_START_DIR = os.getcwd()

# Session name -> its namespace.
_sessions = {}
# id(namespace) -> (namespace, its event loop), made when a snippet first awaits at the top:
# one loop per session, as in the asyncio REPL and in notebooks.
_event_loops = {}

# compile() flag (ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, Python 3.8+): `await`, `async for` and
# `async with` at the top of a snippet, as the asyncio REPL, IPython and notebooks run them.
TOP_LEVEL_AWAIT = 0x2000
# Code flag (inspect.CO_COROUTINE): code compiled with that flag that did await; running it
# makes a coroutine.
_CO_COROUTINE = 0x0080
# Module source path -> the imported module, or the exception its import raised.
_modules = {}
# Fixture name -> {"name", "path", "code"}, as the job gives them.
_fixtures = {}
# Fixture name -> its compiled code, or the SyntaxError compiling it raised.
_compiled_fixtures = {}


def define_fixtures(fixtures_json):
    """Makes the job's setup fixtures known to this child (compiled when first used)."""
    _fixtures.clear()
    _compiled_fixtures.clear()
    for fixture in json.loads(fixtures_json):
        _fixtures[fixture["name"]] = fixture


def run_snippet(snippet_json):
    """Runs one snippet of the record (its JSON) and returns the verdict as JSON."""
    snippet = json.loads(snippet_json)
    threads_before = threading.active_count()
    result = _run_snippet(snippet)
    # Threads the snippet started and left running (counted, not named: cheap on the
    # common path where there are none).
    leftover = max(0, threading.active_count() - threads_before)
    if result is _PASSED_VERDICT and not leftover:
        return _PASSED
    result = dict(result, leftover_threads=leftover)
    return json.dumps(result)


def _run_snippet(snippet):
    import _snipcheck_doctest as doctests

    filename, code, first_line = snippet["path"], snippet["code"], snippet["line"]
    if "skip" in snippet:
        return verdict("skipped")
    namespace, failed = _namespace(snippet)
    if failed is not None:
        return failed  # the verdict on a module or a fixture that fails
    try:
        flags = doctests.option_flags(snippet.get("options", []))
    except ValueError as error:
        return verdict("exception", error, first_line)
    condition = snippet.get("skip_if")
    if condition:
        try:
            skip = eval(condition, namespace)  # noqa: S307 - the document's own condition
        except BaseException as error:  # noqa: B036 - a broken condition is a verdict
            return verdict(
                "exception", error, first_line,
                message="the skip condition {!r} raised {}: {}".format(condition, type(error).__name__, _safe_str(error)),
            )
        if skip:
            return verdict("skipped")
    try:
        if snippet.get("kind") == "doctest":
            return doctests.run_session(code, filename, first_line, snippet["id"], namespace, flags)
        return run(code, filename, first_line, namespace, snippet.get("expected_output"), flags)
    finally:
        if not snippet.get("session"):
            _close_event_loop(namespace)


def exec_awaiting(code, namespace):
    """`exec`, except that code which awaits at the top runs to its end in the event loop
    of `namespace`."""
    if not code.co_flags & _CO_COROUTINE:
        exec(code, namespace)
        return
    coroutine = eval(code, namespace)  # noqa: S307 - the snippet's own code
    _event_loop(namespace).run_until_complete(coroutine)


def _event_loop(namespace):
    entry = _event_loops.get(id(namespace))
    if entry is None:
        import asyncio

        loop = asyncio.new_event_loop()
        # Later snippets of the session find it with `asyncio.get_event_loop()`.
        asyncio.set_event_loop(loop)
        # The namespace is kept with it, so that its id is not reused while the loop lives.
        entry = _event_loops[id(namespace)] = (namespace, loop)
    return entry[1]


def _close_event_loop(namespace):
    entry = _event_loops.pop(id(namespace), None)
    if entry is None:
        return
    loop = entry[1]
    try:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
    except BaseException:  # noqa: B036 - the snippet's verdict is already made
        pass


def _namespace(snippet):
    """`(namespace, None)`: the namespace the snippet runs in: its session's, a copy of its
    module's globals (as doctest gives a docstring), or a fresh one, after its fixtures.
    `(None, verdict)` when the module or a fixture fails (a verdict is a dict too)."""
    session = snippet.get("session")
    if session in _sessions:
        return _sessions[session], None
    module_path = snippet.get("module")
    if module_path:
        module = _import_module(module_path)
        if isinstance(module, BaseException):
            return None, _classify(module, module.snipcheck_path)
        namespace = module.__dict__.copy()
    else:
        namespace = {"__name__": "__main__", "__builtins__": builtins, "__file__": snippet["path"]}
    # Fixtures run once per namespace: a session's later snippets keep what they changed.
    for name in snippet.get("fixtures", ()):
        failed = _apply_fixture(name, namespace)
        if failed is not None:
            return None, failed
    if session:
        _sessions[session] = namespace
    return namespace, None


def _apply_fixture(name, namespace):
    """Runs a setup fixture in `namespace`; the verdict when it fails, which names the
    fixture's file and line rather than blaming the snippet."""
    fixture = _fixtures.get(name)
    if fixture is None:
        return verdict("exception", LookupError(name), message="the fixture `{}` is not defined".format(name))
    path = fixture["path"]
    compiled = _compiled_fixtures.get(name)
    if compiled is None:
        try:
            compiled = compile(fixture["code"], path, "exec", dont_inherit=True)
        except SyntaxError as error:
            compiled = error
        _compiled_fixtures[name] = compiled
    if isinstance(compiled, SyntaxError):
        return verdict(
            "exception",
            compiled,
            message="the fixture `{}` does not parse: {}:{}: {}".format(name, path, compiled.lineno, compiled.msg),
            traceback_text="".join(traceback.format_exception_only(compiled)),
        )
    try:
        exec(compiled, namespace)
    except BaseException as error:  # noqa: B036 - a broken fixture is a verdict
        prime_linecache(path, fixture["code"])
        result = _classify(error, path)
        line = result["error"]["line"]
        where = "{}:{}".format(path, line) if line else path
        result["category"] = "exception"
        result["error"]["message"] = "the fixture `{}` failed at {}: {}".format(name, where, _safe_str(error))
        # Not a line of the snippet's document.
        result["error"]["line"] = None
        result["suggestions"] = []
        return result
    return None


def _import_module(path):
    """Imports the module whose source is `path`, under its dotted name (found by walking up
    the packages that hold it), as `python -m doctest` and pytest do."""
    path = os.path.abspath(os.path.join(_START_DIR, path))
    if path in _modules:
        return _modules[path]
    folder, name = os.path.split(path)
    parts = [os.path.splitext(name)[0]]
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        folder, package = os.path.split(folder)
        parts.insert(0, package)
    dotted = ".".join(parts)
    try:
        if not _same_file(_find_spec(dotted), path):
            # Not importable under its name from here: make its root folder importable.
            sys.path.insert(0, folder)
            importlib.invalidate_caches()
        if _same_file(_find_spec(dotted), path):
            module = importlib.import_module(dotted)
        else:
            # Its name is taken by another module (a `json.py` of one's own): load the file
            # itself, without replacing the other module for everyone.
            spec = importlib.util.spec_from_file_location(dotted, path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
    except BaseException as error:  # noqa: B036 - the verdict of every docstring
        error.snipcheck_path = path
        module = error
    _modules[path] = module
    return module


def _same_file(spec, path):
    origin = getattr(spec, "origin", None)
    try:
        return bool(origin) and os.path.samefile(origin, path)
    except OSError:
        return False


def prime_linecache(filename, source):
    """Lets tracebacks show the document's lines for code compiled under `filename`."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


class _Tee(io.TextIOBase):
    """Standard output that also keeps what is written, for comparison."""

    def __init__(self, stream):
        self._stream = stream
        self.kept = io.StringIO()

    def write(self, text):
        self.kept.write(text)
        return self._stream.write(text)

    def flush(self):
        self._stream.flush()

    def __getattr__(self, name):
        return getattr(self._stream, name)


def run(code, filename, first_line, namespace=None, expected=None, flags=0):
    """Compiles `code` as lines `first_line..` of `filename`, executes it in `namespace` (a
    fresh one by default) and compares what it prints with `expected` when given."""
    offset = first_line - 1
    try:
        compiled = _shift_lines(
            compile(code, filename, "exec", flags=TOP_LEVEL_AWAIT, dont_inherit=True), offset
        )
    except SyntaxError as error:  # also IndentationError and TabError
        if error.lineno is not None:
            error.lineno += offset
        if getattr(error, "end_lineno", None) is not None:
            error.end_lineno += offset
        return verdict(
            "syntax-error",
            error,
            error.lineno,
            message=error.msg,
            traceback_text="".join(traceback.format_exception_only(error)),
        )
    if namespace is None:
        namespace = {"__name__": "__main__", "__builtins__": builtins, "__file__": filename}
    tee = _Tee(sys.stdout) if expected is not None else None
    if tee is not None:
        sys.stdout = tee
    try:
        exec_awaiting(compiled, namespace)
    except SystemExit as error:
        _remember_source(filename, code, first_line)
        frames = traceback.extract_tb(error.__traceback__)
        return verdict(
            "exited",
            error,
            _last_line_in(frames, filename),
            message="the snippet called sys.exit({!r})".format(error.code),
        )
    except BaseException as error:  # noqa: B036 - every ending is a verdict
        _remember_source(filename, code, first_line)
        return _classify(error, filename)
    finally:
        restore_stdio()
    if tee is not None:
        import _snipcheck_doctest as doctests

        mismatch = doctests.compare_output(expected["text"], tee.kept.getvalue(), flags, expected["line"])
        if mismatch is not None:
            return mismatch
    return _PASSED_VERDICT


def _shift_lines(code, offset):
    """Moves a code object (and the functions inside it) down by `offset` lines, so that
    errors name document lines. Cheaper than padding the source with blank lines, which
    costs a parse of every line above the snippet."""
    if not offset:
        return code
    consts = tuple(
        _shift_lines(c, offset) if isinstance(c, types.CodeType) else c for c in code.co_consts
    )
    return code.replace(co_firstlineno=code.co_firstlineno + offset, co_consts=consts)


def _remember_source(filename, code, first_line):
    """Lets tracebacks show the snippet's lines; done only when one is about to be shown."""
    prime_linecache(filename, "\n" * (first_line - 1) + code)


def classify(error, filename, frames=None):
    """The verdict on an exception raised by code compiled under `filename`; `frames`
    replaces the traceback's own (doctest examples run under other file names)."""
    return _classify(error, filename, frames)


def _classify(error, filename, frames=None):
    if frames is None:
        frames = traceback.extract_tb(error.__traceback__)
    snippet_indexes = [i for i, f in enumerate(frames) if f.filename == filename]
    line = frames[snippet_indexes[-1]].lineno if snippet_indexes else None
    below_snippet = frames[snippet_indexes[-1] + 1 :] if snippet_indexes else frames
    raised_in_snippet = not below_snippet
    # A module-level frame of another file below the snippet means a module was being
    # imported when it failed: the package is installed but broken (or misses a dependency).
    while_importing = any(f.name == "<module>" for f in below_snippet)
    suggestions = []
    # What was missing, as the exception names it: the Rust side makes its suggestions
    # from these fields and never reads the message.
    missing = None

    if while_importing and not raised_in_snippet:
        category = "dependency-error"
    elif isinstance(error, ModuleNotFoundError):
        top = (error.name or "").split(".")[0]
        if top and _find_spec(top) is None:
            category = "missing-module"
        else:
            category = "missing-name"
            suggestions = _similar_submodules(error.name or "")
            parent, _, leaf = (error.name or "").rpartition(".")
            if parent:
                missing = {"kind": "name", "module": parent, "name": leaf, "submodule": True}
    elif isinstance(error, ImportError) and raised_in_snippet:
        category = "missing-name"
        match = _CANNOT_IMPORT.search(str(error))
        if match:
            name, module_name = match.group(1), match.group(2)
            suggestions = _similar_names(module_name, name)
            missing = {"kind": "name", "module": module_name, "name": name}
            # `os.path` is `posixpath` underneath: suggestions are written the way the
            # snippet wrote the module (on the Rust side, for this runner's and the index's).
            written = _module_written_at(_source_of(filename), line, name)
            if written and written != module_name:
                missing["written"] = written
    elif (
        isinstance(error, AttributeError)
        and raised_in_snippet
        and isinstance(getattr(error, "obj", None), types.ModuleType)
    ):
        category = "missing-name"
        suggestions = _similar_names(error.obj.__name__, error.name or "")
        if error.name:
            missing = {"kind": "name", "module": error.obj.__name__, "name": error.name}
    elif isinstance(error, NameError) and not isinstance(error, UnboundLocalError):
        category = "undefined-name" if raised_in_snippet else "exception"
        if raised_in_snippet and getattr(error, "name", None):
            missing = {"kind": "undefined", "name": error.name}
    else:
        category = "exception"

    shown = frames[snippet_indexes[0] :] if snippet_indexes else frames
    traceback_text = "Traceback (most recent call last):\n" + "".join(
        traceback.format_list(shown)
    ) + "".join(traceback.format_exception_only(type(error), error))
    return verdict(
        category, error, line, traceback_text=traceback_text, suggestions=suggestions, missing=missing
    )


def _source_of(filename):
    return "".join(linecache.cache.get(filename, (0, None, [], filename))[2])


def _module_written_at(source, line, name):
    """The module of the `from X import name` statement at `line`, as the snippet wrote it."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.lineno <= (line or 0) <= (node.end_lineno or node.lineno)
            and node.level == 0
            and any(alias.name == name for alias in node.names)
        ):
            return node.module
    return None


def verdict(
    category, error=None, line=None, message=None, traceback_text=None, suggestions=(), missing=None
):
    """A verdict as the Rust side reads it; without `error` a clean one. `missing` names
    what a `missing-name` or `undefined-name` failure lacked (see `Missing` in Rust)."""
    if error is None:
        return {"category": category, "error": None, "suggestions": []}
    kind = type(error)
    name = kind.__qualname__ if kind.__module__ == "builtins" else kind.__module__ + "." + kind.__qualname__
    return {
        "category": category,
        "error": {
            "type": name,
            "message": message if message is not None else _safe_str(error),
            "line": line,
            "traceback": traceback_text,
        },
        "suggestions": list(suggestions),
        "missing": missing,
    }


# The verdict of every snippet that ran to the end: shared, and encoded once.
_PASSED_VERDICT = verdict("passed")
_PASSED = json.dumps(_PASSED_VERDICT)


def _safe_str(error):
    try:
        return str(error)
    except BaseException:  # noqa: B036 - a broken __str__ must not lose the verdict
        return "<the exception could not be turned into text>"


def _last_line_in(frames, filename):
    lines = [f.lineno for f in frames if f.filename == filename]
    return lines[-1] if lines else None


def _find_spec(name):
    try:
        return importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None


def _similar_names(module_name, name):
    """Public names of an already imported module that look like `name`."""
    module = sys.modules.get(module_name)
    if module is None or not name:
        return []
    public = [n for n in dir(module) if not n.startswith("_")]
    return [module_name + "." + n for n in difflib.get_close_matches(name, public, n=3, cutoff=0.6)]


def _similar_submodules(dotted):
    parent, _, leaf = dotted.rpartition(".")
    if not parent:
        return []
    try:
        import pkgutil

        package = sys.modules.get(parent) or importlib.import_module(parent)
        names = [m.name for m in pkgutil.iter_modules(getattr(package, "__path__", []))]
    except Exception:  # noqa: BLE001 - suggestions are best effort
        return []
    return [parent + "." + n for n in difflib.get_close_matches(leaf, names, n=3, cutoff=0.6)]


def _flush(stream):
    try:
        stream.flush()
    except BaseException:  # noqa: B036 - a snippet may have closed or broken it
        pass


def restore_stdio():
    """Flushes the standard streams and puts back any a snippet replaced or closed."""
    if sys.stdout is not sys.__stdout__:
        _flush(sys.stdout)
    if sys.stderr is not sys.__stderr__:
        _flush(sys.stderr)
    for fd, name in ((1, "__stdout__"), (2, "__stderr__")):
        stream = getattr(sys, name)
        if stream is None or stream.closed:
            # Line-buffered text over the descriptor the supervisor captures.
            setattr(sys, name, open(fd, "w", buffering=1, closefd=False))
        else:
            _flush(stream)
    sys.stdout, sys.stderr = sys.__stdout__, sys.__stderr__


def enter_folders(temp):
    """Points `tempfile` and child processes at the snippet's own temporary folder (the
    one Landlock leaves writable): `TMPDIR` and the module's cached choice both."""
    import tempfile

    os.environ["TMPDIR"] = str(temp)
    tempfile.tempdir = None


def python_info():
    return json.dumps({"version": sys.version.split()[0], "prefix": sys.prefix})


def warm_up(module_name):
    """Imports a module before children fork; its noise on stdout and stderr is dropped."""
    import contextlib
    import io
    import os

    saved = [os.dup(1), os.dup(2)]
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            importlib.import_module(module_name)
    except BaseException:  # noqa: B036 - a broken package is reported by its snippets
        pass
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved + [devnull]:
            os.close(fd)


def freeze_heap():
    """Moves everything allocated so far out of the collector's sight: forked children then
    share those pages instead of copying them when a collection touches their headers."""
    import gc

    gc.collect()
    gc.freeze()


_NETWORK_OFF = "network access is off in snipcheck (allow it with `network: true` in snipcheck.yaml)"


def refuse_network():
    """Fallback where no network namespace can be made: refuse connections that leave the
    machine at the socket level. Loopback and Unix sockets stay usable."""
    import socket

    local_hosts = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "", None}

    def is_local(address):
        if isinstance(address, (str, bytes)):  # AF_UNIX path
            return True
        host = address[0] if isinstance(address, tuple) and address else None
        return host in local_hosts or (isinstance(host, str) and host.startswith("127."))

    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex
    original_getaddrinfo = socket.getaddrinfo

    def connect(self, address):
        if not is_local(address):
            raise OSError(_NETWORK_OFF)
        return original_connect(self, address)

    def connect_ex(self, address):
        if not is_local(address):
            raise OSError(_NETWORK_OFF)
        return original_connect_ex(self, address)

    def getaddrinfo(host, *args, **kwargs):
        if host not in local_hosts and not (isinstance(host, str) and host.startswith("127.")):
            raise socket.gaierror(_NETWORK_OFF)
        return original_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex
    socket.getaddrinfo = getaddrinfo

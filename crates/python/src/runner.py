"""Runs one snippet in a fresh namespace and classifies how it ended.

Loaded into the embedded interpreter by snipcheck's worker and called in a forked child, where
the exception object is still alive: that is the only place its type, its frames and the
module it was raised on can be read reliably. Returns a JSON string the Rust side parses.
"""

import builtins
import difflib
import importlib.util
import json
import linecache
import re
import sys
import threading
import traceback
import types

_CANNOT_IMPORT = re.compile(r"cannot import name '([^']+)' from '([^']+)'")


def run(code, filename, first_line):
    """Compiles `code` as lines `first_line..` of `filename` and executes it."""
    offset = first_line - 1
    try:
        compiled = _shift_lines(compile(code, filename, "exec", dont_inherit=True), offset)
    except SyntaxError as error:  # also IndentationError and TabError
        if error.lineno is not None:
            error.lineno += offset
        if getattr(error, "end_lineno", None) is not None:
            error.end_lineno += offset
        return json.dumps(
            _verdict(
                "syntax-error",
                error,
                error.lineno,
                message=error.msg,
                traceback_text="".join(traceback.format_exception_only(error)),
            )
        )
    namespace = {"__name__": "__main__", "__builtins__": builtins, "__file__": filename}
    threads_before = threading.active_count()
    try:
        exec(compiled, namespace)
        verdict = None
    except SystemExit as error:
        _remember_source(filename, code, first_line)
        frames = traceback.extract_tb(error.__traceback__)
        verdict = _verdict(
            "exited",
            error,
            _last_line_in(frames, filename),
            message="the snippet called sys.exit({!r})".format(error.code),
        )
    except BaseException as error:  # noqa: B036 - every ending is a verdict
        _remember_source(filename, code, first_line)
        verdict = _classify(error, filename)
    finally:
        restore_stdio()
    # Threads the snippet started and left running (counted, not named: cheap on the
    # common path where there are none).
    leftover = max(0, threading.active_count() - threads_before)
    if verdict is None and not leftover:
        return _PASSED
    verdict = verdict or {"category": "passed", "error": None, "suggestions": []}
    verdict["leftover_threads"] = leftover
    return json.dumps(verdict)


_PASSED = json.dumps({"category": "passed", "error": None, "suggestions": []})


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
    lines = ["\n"] * (first_line - 1) + code.splitlines(True)
    linecache.cache[filename] = (sum(map(len, lines)), None, lines, filename)


def _classify(error, filename):
    frames = traceback.extract_tb(error.__traceback__)
    snippet_indexes = [i for i, f in enumerate(frames) if f.filename == filename]
    line = frames[snippet_indexes[-1]].lineno if snippet_indexes else None
    below_snippet = frames[snippet_indexes[-1] + 1 :] if snippet_indexes else frames
    raised_in_snippet = not below_snippet
    # A module-level frame of another file below the snippet means a module was being
    # imported when it failed: the package is installed but broken (or misses a dependency).
    while_importing = any(f.name == "<module>" for f in below_snippet)
    suggestions = []

    if while_importing and not raised_in_snippet:
        category = "dependency-error"
    elif isinstance(error, ModuleNotFoundError):
        top = (error.name or "").split(".")[0]
        if top and _find_spec(top) is None:
            category = "missing-module"
        else:
            category = "missing-name"
            suggestions = _similar_submodules(error.name or "")
    elif isinstance(error, ImportError) and raised_in_snippet:
        category = "missing-name"
        match = _CANNOT_IMPORT.search(str(error))
        if match:
            missing, module_name = match.group(1), match.group(2)
            suggestions = _similar_names(module_name, missing)
            # `os.path` is `posixpath` underneath: suggest in the words the snippet used.
            written = _module_written_at(_source_of(filename), line, missing)
            if written and written != module_name:
                suggestions = [written + s[len(module_name) :] for s in suggestions]
    elif (
        isinstance(error, AttributeError)
        and raised_in_snippet
        and isinstance(getattr(error, "obj", None), types.ModuleType)
    ):
        category = "missing-name"
        suggestions = _similar_names(error.obj.__name__, error.name or "")
    elif isinstance(error, NameError) and not isinstance(error, UnboundLocalError):
        category = "undefined-name" if raised_in_snippet else "exception"
    else:
        category = "exception"

    shown = frames[snippet_indexes[0] :] if snippet_indexes else frames
    traceback_text = "Traceback (most recent call last):\n" + "".join(
        traceback.format_list(shown)
    ) + "".join(traceback.format_exception_only(type(error), error))
    return _verdict(category, error, line, traceback_text=traceback_text, suggestions=suggestions)


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


def _verdict(category, error, line, message=None, traceback_text=None, suggestions=()):
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
    }


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

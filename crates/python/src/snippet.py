"""Runs one snippet of a document (its namespace, fixtures, skip condition and expected
output); `_snipcheck_classify` says how it ended.

Loaded into the embedded interpreter by snipcheck's worker as `_snipcheck_snippet` and called
in a forked child, where the exception object is still alive: that is the only place its type,
its frames and the module it was raised on can be read reliably. `run_snippet` returns a JSON
string the Rust side parses.

A snippet runs in a fresh namespace, unless it names a session: snippets of one session
share one namespace, kept for the life of the child (which runs one document, in order).
"""

import builtins
import importlib.util
import io
import json
import os
import sys
# Imported here, in the worker, rather than by each child as it enters its folders: with
# shutil, random and the compression modules it pulls in, it took most of a child's start.
import tempfile
import threading
import traceback
import types

from _snipcheck_classify import (
    _PASSED,
    _PASSED_VERDICT,
    _classify,
    _find_spec,
    _last_line_in,
    _safe_str,
    verdict,
)

from _snipcheck_runner import TOP_LEVEL_AWAIT, _close_event_loop, exec_awaiting, prime_linecache


# The folder snipcheck was started in: the child works in a folder of its own, and the
# documents' paths are relative to this one.
_START_DIR = os.getcwd()


# Session name -> its namespace.
_sessions = {}


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


# The doctest runner's source, set by the worker, which loads it only for the jobs that need
# it (see `doctest_runner`).
DOCTEST_SOURCE = None


def doctest_runner():
    """The doctest runner, loaded on first use: importing `doctest` brings `pdb` and
    `unittest` (71 modules, 5 MB), half of a bare worker's heap, which every fork of the
    worker copies the page tables of and every child tears down."""
    module = sys.modules.get("_snipcheck_doctest")
    if module is None:
        module = types.ModuleType("_snipcheck_doctest")
        sys.modules[module.__name__] = module
        try:
            exec(compile(DOCTEST_SOURCE, "<snipcheck doctest>", "exec"), module.__dict__)  # noqa: S102
        except BaseException:
            del sys.modules[module.__name__]
            raise
    return module


def needs_doctest(snippet):
    """Whether running `snippet` takes doctest: a `>>>` session, output to compare, option
    directives, or examples of a module's docstrings (whose finder is doctest's)."""
    return bool(
        snippet.get("kind") == "doctest" or snippet.get("expected_output") or snippet.get("options")
        or snippet.get("object") is not None
    )


def _run_snippet(snippet):
    filename, code, first_line = snippet["path"], snippet["code"], snippet["line"]
    if "skip" in snippet:
        return verdict("skipped")
    namespace, failed = _namespace(snippet)
    if failed is not None:
        return failed  # the verdict on a module or a fixture that fails
    doctests = doctest_runner() if needs_doctest(snippet) else None
    try:
        flags = doctests.option_flags(snippet.get("options", [])) if doctests else 0
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
        if isinstance(module, ModuleNameTaken):
            return None, verdict("skipped", module)
        if isinstance(module, BaseException):
            return None, _classify(module, module.snipcheck_path)
        not_run = _not_run_by_doctest(module, snippet)
        if not_run is not None:
            return None, verdict("skipped", not_run)
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
            traceback_text="".join(traceback.format_exception_only(type(compiled), compiled)),
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


class ModuleNameTaken(ImportError):
    """The checked file's module name already means another file here: importing it a second
    time beside that one would make two of every class it defines, so it is not checked."""

    __module__ = "snipcheck"


class NotRunByDoctest(Exception):
    """doctest would not run these examples as the file shows them (the object is not the
    module's own once it is imported, or has another docstring): the snippet is skipped."""

    __module__ = "snipcheck"


def _import_module(path):
    """Imports the module whose source is `path` once, under its dotted name (found by walking
    up the packages that hold it), as `python -m doctest` and pytest do; a `ModuleNameTaken`
    (returned, like any exception the import raised) when that name is another file's."""
    shown = path
    path = os.path.abspath(os.path.join(_START_DIR, path))
    if path in _modules:
        return _modules[path]
    folder, name = os.path.split(path)
    parts = [os.path.splitext(name)[0]]
    while os.path.isfile(os.path.join(folder, "__init__.py")):
        folder, package = os.path.split(folder)
        parts.insert(0, package)
    dotted = ".".join(parts)
    # Checking a module leaves its folder as it was: no `__pycache__` in the user's tree.
    sys.dont_write_bytecode = True
    try:
        if not _same_file(_find_spec(dotted), path):
            # Not importable under its name from here: make its root folder importable.
            sys.path.insert(0, folder)
            importlib.invalidate_caches()
        spec = _find_spec(dotted)
        if _same_file(spec, path):
            module = importlib.import_module(dotted)
        elif spec is None:
            # No module can have this name (`my.module.py`): load the file itself, registered
            # under the name so that it is still one module.
            spec = importlib.util.spec_from_file_location(dotted, path)
            module = importlib.util.module_from_spec(spec)
            sys.modules[dotted] = module
            spec.loader.exec_module(module)
        else:
            raise ModuleNameTaken(_name_taken(shown, dotted, spec))
    except BaseException as error:  # noqa: B036 - the verdict of every docstring
        error.snipcheck_path = path
        module = error
    _modules[path] = module
    return module


def _name_taken(shown, dotted, spec):
    other = spec.origin if spec.origin and spec.has_location else "the built-in module"
    if dotted in sys.modules:
        where = "is already imported from {}".format(other)
    else:
        where = "resolves to {} first".format(other)
    return (
        "cannot check {} in place: its module name `{}` {}, and importing it again beside that "
        "one would make two of everything it defines; check that file itself, or give this "
        "one a name of its own".format(shown, dotted, where)
    )


# Module name -> {doctest's name of each docstring: its DocTest}, as doctest's own finder
# sees the imported module; None when the finder fails on it.
_doctests = {}


def _not_run_by_doctest(module, snippet):
    """None when `doctest` runs the snippet's examples as the file shows them (or cannot tell:
    its finder fails); else a `NotRunByDoctest` saying why it would not."""
    import doctest

    owner = snippet.get("object")
    tests = _doctests_of(module) if owner is not None else None
    if tests is None:
        return None
    try:
        ours = _example_texts(doctest.DocTestParser().get_examples(snippet["code"]))
    except ValueError:
        return None  # a malformed session: running it reports where
    name = module.__name__ + "." + owner if owner else module.__name__
    test = tests.get(name)
    if test is not None and _example_texts(test.examples) == ours:
        return None
    return NotRunByDoctest(_why_doctest_does_not_run(module, owner, name, test))


def _doctests_of(module):
    if module.__name__ not in _doctests:
        import doctest

        try:
            found = {test.name: test for test in doctest.DocTestFinder().find(module)}
        except Exception:  # noqa: BLE001 - doctest cannot search it; the source decides
            found = None
        _doctests[module.__name__] = found
    return _doctests[module.__name__]


def _example_texts(examples):
    return [(e.source, e.want, e.exc_msg, sorted(e.options.items())) for e in examples]


def _why_doctest_does_not_run(module, owner, name, test):
    value = _attribute_path(module, owner)
    if value is _MISSING:
        return "`{}` does not exist once `{}` is imported (it is deleted or renamed)".format(name, module.__name__)
    what = _describe(value)
    if test is not None and not test.examples:
        return (
            "once `{}` is imported, `{}` is {}, whose docstring has no examples; doctest runs "
            "that docstring, not the one in this file".format(module.__name__, name, what)
        )
    if test is not None:
        return (
            "once `{}` is imported, the docstring of `{}` has other examples than this file "
            "shows; doctest runs those".format(module.__name__, name)
        )
    import doctest

    if not doctest.DocTestFinder()._from_module(module, value):
        return (
            "once `{}` is imported, `{}` is {}, which belongs to another module, and doctest "
            "searches only the module's own objects".format(module.__name__, name, what)
        )
    return "doctest does not search `{}`, which is {}".format(name, what)


_MISSING = object()


def _attribute_path(module, owner):
    """The object doctest reaches as `owner` from the module, walking `__dict__`s (and the
    `__test__` mapping, whose keys may hold dots) as its finder does."""
    if owner.startswith(_TEST_PREFIX):
        entries = module.__dict__.get("__test__")
        try:
            return entries.get(owner[len(_TEST_PREFIX) :], _MISSING)
        except Exception:  # noqa: BLE001 - not a mapping: nothing doctest could run
            return _MISSING
    value = module
    for part in owner.split(".") if owner else ():
        value = getattr(value, "__dict__", {}).get(part, _MISSING)
        if value is _MISSING:
            break
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
    return value


_TEST_PREFIX = "__test__."


def _describe(value):
    import inspect

    name = "{}.{}".format(getattr(value, "__module__", "?"), getattr(value, "__qualname__", "?"))
    if inspect.isclass(value):
        return "the class `{}`".format(name)
    if inspect.isfunction(value):
        return "the function `{}`".format(name)
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken repr still leaves the type
        text = "a {}".format(type(value).__name__)
    return text if len(text) <= 80 else text[:77] + "..."


def _same_file(spec, path):
    origin = getattr(spec, "origin", None)
    try:
        return bool(origin) and os.path.samefile(origin, path)
    except OSError:
        return False


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
            traceback_text="".join(traceback.format_exception_only(type(error), error)),
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
        mismatch = doctest_runner().compare_output(expected["text"], tee.kept.getvalue(), flags, expected["line"])
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
    os.environ["TMPDIR"] = str(temp)
    tempfile.tempdir = None

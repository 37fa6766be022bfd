"""How a snippet ended, as a verdict: the category of the exception, where in the document it
happened, close names for a missing one, and what was missing (as fields, so the Rust side never
reads a message).

Loaded by the worker as `_snipcheck_classify`; it imports nothing of snipcheck's.
"""

import difflib
import importlib.util
import json
import linecache
import re
import sys
import traceback
import types


_CANNOT_IMPORT = re.compile(r"cannot import name '([^']+)' from '([^']+)'")


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
        and isinstance(_missing_attribute(error)[0], types.ModuleType)
    ):
        category = "missing-name"
        module, name = _missing_attribute(error)
        suggestions = _similar_names(module.__name__, name or "")
        if name:
            missing = {"kind": "name", "module": module.__name__, "name": name}
    elif isinstance(error, NameError) and not isinstance(error, UnboundLocalError):
        category = "undefined-name" if raised_in_snippet else "exception"
        name = _undefined_name(error)
        if raised_in_snippet and name:
            missing = {"kind": "undefined", "name": name}
    else:
        category = "exception"

    shown = frames[snippet_indexes[0] :] if snippet_indexes else frames
    traceback_text = "Traceback (most recent call last):\n" + "".join(
        traceback.format_list(shown)
    ) + "".join(traceback.format_exception_only(type(error), error))
    return verdict(
        category, error, line, traceback_text=traceback_text, suggestions=suggestions, missing=missing
    )


# Python 3.9's AttributeError and NameError carry no `obj`/`name`: there, CPython's own
# messages are all there is to read.
_NO_ATTRIBUTE = re.compile(r"^module '([\w.]+)' has no attribute '(\w+)'$")
_NOT_DEFINED = re.compile(r"^name '(\w+)' is not defined$")


def _missing_attribute(error):
    """The object an AttributeError was raised on (when known) and the missing name."""
    if hasattr(error, "obj"):
        return error.obj, error.name
    found = _NO_ATTRIBUTE.match(str(error))
    if found is None:
        return None, None
    return sys.modules.get(found.group(1)), found.group(2)


def _undefined_name(error):
    name = getattr(error, "name", None)
    if name is None and sys.version_info < (3, 10):
        found = _NOT_DEFINED.match(str(error))
        name = found.group(1) if found else None
    return name


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

"""Finds where names live in an installed library, and which real names a wrong one means.

Loaded into the embedded interpreter by snipcheck's worker and called in a forked child per
library, so a library that hangs or crashes while importing costs only its own answers. The
child writes one JSON answer per line to a pipe as soon as each is known.

The symbol index (name -> public homes) of a library is built by walking its public modules
(private `_x` and test modules skipped, import errors tolerated, time-bounded) and cached as
JSON, keyed by the environment and the library's version, so later runs skip the walk.
"""

import builtins
import collections
import difflib
import importlib
import importlib.util
import inspect
import json
import os
import pkgutil
import re
import signal
import sys
import tempfile
import time
import warnings

# Submodule names that are never part of a documented API.
# Vendored copies of other projects are not the library's API either.
_SKIPPED = {"tests", "test", "testing", "conftest", "setup", "benchmarks", "examples", "externals", "vendor", "vendored"}
# Public-looking packages some libraries keep their internals in.
_INTERNAL = {"tensorflow": {"python", "compiler", "core", "include", "tsl", "tools", "security"}}
# A single module import longer than this is abandoned (Python-level hangs only).
_MODULE_IMPORT_S = 10
_MAX_DEPTH = 6
# Words that say "the plain one": `SimpleImputer` is what `Imputer` became.
_GENERIC = {"simple", "default", "basic", "standard", "generic", "plain", "common"}
# Tokens people write for the same thing: `r_squared` is `r2`, JSON `parse` is `load`.
_SYNONYMS = {
    "squared": "2",
    "sq": "2",
    "parse": "load",
    "decode": "load",
    "read": "load",
    "stringify": "dump",
    "serialize": "dump",
    "encode": "dump",
}
# Bumped whenever what an index holds or how its homes are ordered changes.
_INDEX_FORMAT = 1


def resolve_library(request_json, fd):
    """Answers every query of one library; `fd` is the pipe to write answers to."""
    request = json.loads(request_json)
    library = request["library"]
    index = _Index(library, request.get("cache_dir"), float(request.get("index_budget_s", 60)))

    def emit(query, status, resolved=None, suggestions=(), reason=None, module_found=True, score=0.0):
        answer = {
            "score": score,
            "id": query["id"],
            "status": status,
            "resolved": resolved,
            "suggestions": list(suggestions),
            "reason": reason,
            "module_found": module_found,
        }
        os.write(fd, (json.dumps(answer) + "\n").encode())

    queries = request["queries"]
    problem = _import_problem(library)
    if problem is not None:
        found, reason = problem
        for query in queries:
            emit(query, "unchecked", reason=reason, module_found=found)
        return
    for query in queries:
        try:
            _answer(query, library, index, emit)
        except BaseException as error:  # noqa: B036 - one bad name must not lose the others
            emit(query, "unchecked", reason="resolving failed: " + _describe(error))


def _answer(query, library, index, emit):
    path = query.get("path")
    name = query["name"]
    if not query.get("suggest_only"):
        if path:
            if _lookup(path) is not None:
                return emit(query, "resolved", resolved=path)
        else:
            home = index.home(name)
            if home is not None:
                return emit(query, "resolved", resolved=home)
    leaf = (path or name).rsplit(".", 1)[-1]
    parent = path.rsplit(".", 1)[0] if path and "." in path else None
    hints = list(query.get("modules") or []) + ([parent] if parent else [])
    suggestions, score = index.suggest(leaf, query.get("kind", "unknown"), hints, exclude=path)
    reason = None if index.complete else "the index of {} is partial: {}".format(library, index.note)
    emit(query, "unresolved", suggestions=suggestions, reason=reason, score=score)


def _import_problem(library):
    """(module_found, reason) when the library cannot be used, else None."""
    if library == "builtins":
        return None
    try:
        spec = importlib.util.find_spec(library)
    except BaseException as error:  # noqa: B036
        return False, "cannot look up {}: {}".format(library, _describe(error))
    if spec is None:
        return False, "{} is not installed in this environment".format(library)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            importlib.import_module(library)
    except BaseException as error:  # noqa: B036 - broken packages raise anything
        return True, "importing {} failed: {}".format(library, _describe(error))
    return None


def _describe(error):
    try:
        text = str(error).strip().splitlines()
    except BaseException:  # noqa: B036
        text = []
    return type(error).__name__ + (": " + text[0] if text else "")


def _lookup(path):
    """The object at a dotted path, importing modules along it; None when it does not exist."""
    parts = path.split(".")
    for split in range(len(parts), 0, -1):
        module_name = ".".join(parts[:split])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                obj = importlib.import_module(module_name)
        except ImportError:
            continue
        except BaseException:  # noqa: B036 - a broken submodule: the name is not usable
            return None
        for attribute in parts[split:]:
            try:
                obj = getattr(obj, attribute)
            except BaseException:  # noqa: B036 - lazy attributes may raise anything
                return None
        return obj
    return None


class _Timeout(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Timeout()


class _Index:
    """name -> [[home, kind, agreement], ...], best home first; built or loaded on first use."""

    def __init__(self, library, cache_dir, budget_s):
        self.library = library
        self.cache_dir = cache_dir
        self.budget_s = budget_s
        self._names = None
        self.complete = True
        self.note = ""
        self._tokens = {}

    @property
    def names(self):
        if self._names is None:
            self._load_or_build()
        return self._names

    def home(self, name):
        if self.library == "builtins":
            return "builtins." + name if hasattr(builtins, name) else None
        homes = self.names.get(name)
        return homes[0][0] if homes else None

    def _cache_path(self):
        if not self.cache_dir:
            return None
        module = sys.modules.get(self.library)
        version = str(getattr(module, "__version__", "unknown"))
        safe = re.sub(r"[^A-Za-z0-9_.+-]", "_", "{}-{}-i{}".format(self.library, version, _INDEX_FORMAT))
        return os.path.join(self.cache_dir, safe + ".json")

    def _load_or_build(self):
        path = self._cache_path()
        if path:
            try:
                with open(path, encoding="utf-8") as file:
                    cached = json.load(file)
                self._names = cached["names"]
                self.complete = cached.get("complete", True)
                self.note = cached.get("note", "")
                return
            except (OSError, ValueError, KeyError, TypeError):
                pass
        self._names = self._build()
        if path:
            _write_atomically(
                path,
                {"library": self.library, "complete": self.complete, "note": self.note, "names": self._names},
            )

    def _build(self):
        names = collections.defaultdict(list)
        if self.library == "builtins":
            for name in dir(builtins):
                if not name.startswith("_"):
                    names[name].append(["builtins." + name, _kind(getattr(builtins, name)), 2])
            return dict(names)
        deadline = time.monotonic() + self.budget_s
        internal = _INTERNAL.get(self.library, set())
        top = sys.modules[self.library]
        queue = collections.deque([(self.library, top)])
        seen = set()
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                while queue:
                    if time.monotonic() > deadline:
                        self.complete = False
                        self.note = "walking stopped after {:.0f} s".format(self.budget_s)
                        break
                    path, module = queue.popleft()
                    real = getattr(module, "__name__", path)
                    if real in seen:
                        continue
                    seen.add(real)
                    depth = path.count(".")
                    names[path.rsplit(".", 1)[-1]].append([path, "module", 2])
                    self._members(path, module, names, queue, depth)
                    if depth < _MAX_DEPTH:
                        self._submodules(path, module, queue, internal if depth == 0 else set())
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        for homes in names.values():
            _order_homes(homes)
        return dict(names)

    def _members(self, path, module, names, queue, depth):
        exported = getattr(module, "__all__", None)
        try:
            members = list(exported) if isinstance(exported, (list, tuple)) else dir(module)
        except BaseException:  # noqa: B036
            return
        for name in members:
            if not isinstance(name, str) or name.startswith("_"):
                continue
            try:
                obj = getattr(module, name)
            except BaseException:  # noqa: B036 - lazy attributes may raise anything
                continue
            home = path + "." + name
            if inspect.ismodule(obj):
                # Follow submodules of this library, and modules it exports on purpose
                # (`os.path` is `posixpath`), not `np` imported inside sklearn.
                own = obj.__name__.split(".")[0] == self.library
                wanted = name not in _SKIPPED and not (depth == 0 and name in _INTERNAL.get(self.library, ()))
                if (own or exported is not None) and wanted and depth < _MAX_DEPTH:
                    queue.append((home, obj))
                continue
            defined = inspect.isclass(obj) or inspect.isroutine(obj)
            origin = getattr(obj, "__module__", None) if defined else None
            # Where a constant's type comes from tells whether it belongs here (a logger
            # object does not; a `Box` style constant of the library's own type does).
            source = origin if defined else getattr(type(obj), "__module__", None)
            if isinstance(source, str) and source.split(".")[0] not in (self.library, "builtins"):
                if exported is None:
                    continue  # imported from another library for internal use
            agreement = 2 if origin == path else 1 if isinstance(origin, str) and origin.startswith(path + ".") else 0
            names[name].append([home, _kind(obj), agreement])

    def _submodules(self, path, module, queue, internal):
        search = getattr(module, "__path__", None)
        if search is None:
            return
        try:
            found = sorted(info.name for info in pkgutil.iter_modules(search))
        except BaseException:  # noqa: B036
            return
        for name in found:
            if name.startswith("_") or name in _SKIPPED or name in internal:
                continue
            real = module.__name__ + "." + name
            signal.setitimer(signal.ITIMER_REAL, _MODULE_IMPORT_S)
            try:
                submodule = importlib.import_module(real)
            except BaseException:  # noqa: B036 - optional dependencies, broken modules
                continue
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            queue.append((path + "." + name, submodule))

    def suggest(self, name, kind, hints, exclude=None, limit=3):
        """Real names like `name`, best first (shared words, then kind, then fewer extra
        words), and how good the first is, to compare libraries: 0 (nothing) to 2 (same name)."""
        query = self._tokens_of(name)
        compact = "".join(query)
        ranked = []
        for candidate, homes in self.names.items():
            tokens = self._tokens_of(candidate)
            matched = sum(1 for q in query if any(_same(q, t) for t in tokens))
            joined = "".join(tokens)
            # Containment both ways (`imputer` in `simpleimputer`, `classweight` in
            # `computeclassweight`), but a short name inside a long one proves nothing.
            contains = bool(compact) and (
                compact in joined or (joined in compact and len(joined) >= max(4, len(compact) // 2))
            )
            ratio = difflib.SequenceMatcher(None, name.lower(), candidate.lower()).ratio()
            if not matched and not contains and ratio < 0.8:
                continue
            home, home_kind, agreement = homes[0]
            if home == exclude:
                if len(homes) < 2:
                    continue
                home, home_kind, agreement = homes[1]
            extras = [t for t in tokens if not any(_same(t, q) for q in query) and t not in _GENERIC]
            hinted = any(home.startswith(h + ".") for h in hints)
            ranked.append(
                (
                    matched / max(len(query), 1),
                    candidate == name,
                    contains,
                    _kind_rank(kind, home_kind),
                    -len(extras),
                    hinted,
                    agreement,
                    ratio,
                    -len(home),
                    home,
                )
            )
        ranked.sort(reverse=True)
        best = ranked[0] if ranked else None
        score = best[0] + 0.5 * best[1] + 0.25 * best[2] if best else 0.0
        return [entry[-1] for entry in ranked[:limit]], score

    def _tokens_of(self, name):
        tokens = self._tokens.get(name)
        if tokens is None:
            parts = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+", name)
            tokens = [_SYNONYMS.get(p.lower(), p.lower()) for p in parts]
            self._tokens[name] = tokens
        return tokens


def _order_homes(homes):
    """Best home first: the public module that defines it (`sklearn.utils.class_weight`),
    unless the library exports it from two or more levels higher (`torch.nn.Linear`, defined
    in `torch.nn.modules.linear`): such an entry point is the documented one."""
    homes.sort(key=lambda h: (-h[2], h[0].count("."), len(h[0])))
    first = homes[0]
    higher = [h for h in homes if h[2] >= 1 and h[0].count(".") <= first[0].count(".") - 2]
    if first[2] == 2 and higher:
        homes.remove(higher[0])
        homes.insert(0, higher[0])


def _same(a, b):
    """Two words that are the same word: equal up to a plural, or one a long prefix of the other."""
    if a == b or a.rstrip("s") == b.rstrip("s"):
        return True
    return min(len(a), len(b)) >= 5 and (a.startswith(b) or b.startswith(a))


def _kind_rank(wanted, actual):
    if wanted in ("unknown", None):
        # A name used in code is more often a class or function than a module.
        return 1 if actual == "module" else 2
    if wanted == actual:
        return 2
    callables = ("class", "function")
    return 1 if wanted in callables and actual in callables else 0


def _kind(obj):
    if inspect.ismodule(obj):
        return "module"
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "attribute"


def _write_atomically(path, data):
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            json.dump(data, file)
        os.replace(temporary, path)
    except OSError:
        pass  # a cache that cannot be written only costs time

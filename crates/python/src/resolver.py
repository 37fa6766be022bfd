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
_INDEX_FORMAT = 2


def resolve_library(request_json, fd):
    """Answers every query of one library; `fd` is the pipe to write answers to."""
    request = json.loads(request_json)
    library = request["library"]
    index = _Index(library, request.get("cache_dir"), float(request.get("index_budget_s", 60)))

    def emit(query, status, resolved=None, suggestions=(), reason=None, module_found=True, score=0.0, near=False,
             not_installed=False):
        answer = {
            "not_installed": not_installed,
            "score": score,
            "near": near,
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
        found, reason, not_installed = problem
        if found and library != "builtins":
            # Installed but broken: its names can still be read from its source files.
            index = _SourceIndex(library, request.get("cache_dir"), float(request.get("index_budget_s", 60)))
            index.how = "{}; its names were read from its source".format(reason)
        else:
            for query in queries:
                emit(query, "unchecked", reason=reason, module_found=found, not_installed=not_installed)
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
            # A library read from source is not imported again for each name.
            if index.has(path) or (index.how is None and _lookup(path) is not None):
                return emit(query, "resolved", resolved=path, reason=index.how)
        else:
            home = index.home(name)
            if home is not None:
                return emit(query, "resolved", resolved=home, reason=index.how)
    leaf = (path or name).rsplit(".", 1)[-1]
    parent = path.rsplit(".", 1)[0] if path and "." in path else None
    hints = list(query.get("modules") or []) + ([parent] if parent else [])
    kind = query.get("kind", "unknown")
    if parent and index.how is None:
        # The writer named the module: a typo of one of its own attributes is answered
        # from them, before (and without) walking the whole library, which a lazy or huge
        # one (`tf.kreas`) may not allow in time; they also count where the index files
        # them elsewhere (`attrs.converters.pipe` is defined in `attr`, another package).
        local = _members_of(parent)
        if local:
            found, score, near = index.suggest(leaf, kind, hints, exclude=path, names=local)
            if near:
                return emit(query, "unresolved", suggestions=found, score=score, near=near)
    suggestions, score, near = index.suggest(leaf, kind, hints, exclude=path)
    reason = index.how if index.complete else "the index of {} is partial: {}".format(library, index.note)
    emit(query, "unresolved", suggestions=suggestions, reason=reason, score=score, near=near)


def _import_problem(library):
    """(module_found, reason, not_installed) when the library cannot be used, else None."""
    if library == "builtins":
        return None
    try:
        spec = importlib.util.find_spec(library)
    except BaseException as error:  # noqa: B036
        return False, "cannot look up {}: {}".format(library, _describe(error)), False
    if spec is None:
        return False, "{} is not installed in this environment".format(library), True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            importlib.import_module(library)
    except BaseException as error:  # noqa: B036 - broken packages raise anything
        return True, "importing {} failed: {}".format(library, _describe(error)), False
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


def _members_of(path):
    """name -> [[home, kind, 2]] for the public attributes of the object at `path`, as an
    index of its own; empty when it does not exist."""
    obj = _lookup(path)
    if obj is None:
        return {}
    out = {}
    try:
        # `__all__` too: a module `__getattr__` (lazy loading) may hide names from `dir`.
        listed = getattr(obj, "__all__", None) if inspect.ismodule(obj) else None
        extra = [n for n in listed if isinstance(n, str)] if isinstance(listed, (list, tuple)) else []
        names = sorted({n for n in list(dir(obj)) + extra if not n.startswith("_")})
    except BaseException:  # noqa: B036
        return {}
    for name in names:
        try:
            kind = _kind(getattr(obj, name))
        except BaseException:  # noqa: B036 - lazy attributes may raise anything
            continue
        out[name] = [[path + "." + name, kind, 2]]
    return out


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

    # How the index was made, when the record should say so (read from source).
    how = None

    @property
    def names(self):
        if self._names is None:
            self._load_or_build()
        return self._names

    def has(self, path):
        """Whether the index knows `path`; only an index read from source answers this
        without importing (an imported library is asked directly)."""
        return False

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
            # A lone name in the prose may be a module (`json`): its typos should find it.
            for name in _top_level_modules():
                names[name].append([name, "module", 2])
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
            if not defined and isinstance(source, str) and source.split(".")[0] == self.library:
                _object_members(home, obj, names)

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

    def suggest(self, name, kind, hints, exclude=None, limit=3, names=None):
        """Real names like `name`, best first, how good the first is (0, nothing, to 2, the
        same name) to compare libraries, and whether it is a near miss (a typo of `name`).

        A near miss leads (fewest edits first): a misspelt name means the name it spells.
        Then shared words, kind, fewer extra words."""
        query = self._tokens_of(name)
        compact = "".join(query)
        wanted = _implied_kind(name, kind)
        limit_edits = _typo_budget(name)
        # Where the writer looked: the module part of the path written.
        parent = exclude.rsplit(".", 1)[0] if exclude and "." in exclude else None
        ranked = []
        for candidate, homes in (self.names if names is None else names).items():
            tokens = self._tokens_of(candidate)
            matched = sum(1 for q in query if any(_same(q, t) for t in tokens))
            joined = "".join(tokens)
            # Containment both ways (`imputer` in `simpleimputer`, `classweight` in
            # `computeclassweight`), but a short name inside a long one proves nothing.
            contains = bool(compact) and (
                compact in joined or (joined in compact and len(joined) >= max(4, len(compact) // 2))
            )
            edits = _edits(name, candidate, limit_edits) if _may_be_typo(name, candidate) else limit_edits + 1
            near = edits <= limit_edits
            ratio = difflib.SequenceMatcher(None, name.lower(), candidate.lower()).ratio() if not near else 1.0
            if not near and not matched and not contains and ratio < 0.8:
                continue
            choice = _choose_home(homes, wanted, hints, candidate, exclude, parent)
            if choice is None:
                continue
            home, home_kind, agreement = choice
            extras = [t for t in tokens if not any(_same(t, q) for q in query) and t not in _GENERIC]
            hinted = any(home.startswith(h + ".") for h in hints)
            ranked.append(
                (
                    near,
                    -edits if near else 0,
                    matched / max(len(query), 1),
                    candidate == name,
                    contains,
                    _kind_rank(wanted, home_kind),
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
        score = best[2] + 0.5 * best[3] + 0.25 * best[4] if best else 0.0
        return [entry[-1] for entry in ranked[:limit]], score, bool(best and best[0])

    def _tokens_of(self, name):
        tokens = self._tokens.get(name)
        if tokens is None:
            parts = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+", name)
            tokens = [_SYNONYMS.get(p.lower(), p.lower()) for p in parts]
            self._tokens[name] = tokens
        return tokens


class _SourceIndex(_Index):
    """The index of a library that cannot be imported, read from its files with `ast`:
    classes, functions and constants each module defines, what it re-exports (`from .x
    import y`, `from .x import *`, honouring `__all__`), and its submodules."""

    def has(self, path):
        leaf = path.rsplit(".", 1)[-1]
        return any(home[0] == path for home in self.names.get(leaf, ()))

    def _cache_path(self):
        if not self.cache_dir:
            return None
        try:
            import importlib.metadata

            version = importlib.metadata.version(self.library)
        except BaseException:  # noqa: B036
            version = "unknown"
        safe = re.sub(r"[^A-Za-z0-9_.+-]", "_", "{}-{}-source-i{}".format(self.library, version, _INDEX_FORMAT))
        return os.path.join(self.cache_dir, safe + ".json")

    def _build(self):
        import ast

        spec = importlib.util.find_spec(self.library)
        files = {}
        roots = list(spec.submodule_search_locations or []) if spec else []
        if spec and not roots and spec.origin and spec.origin.endswith(".py"):
            files[self.library] = spec.origin
        for root in roots:
            for folder, dirs, names in os.walk(root):
                relative = os.path.relpath(folder, root)
                parts = [] if relative == "." else relative.split(os.sep)
                dirs[:] = [d for d in dirs if not d.startswith(("_", ".")) and d not in _SKIPPED]
                if len(parts) >= _MAX_DEPTH:
                    dirs[:] = []
                for name in names:
                    stem, ext = os.path.splitext(name)
                    if ext != ".py" or (stem.startswith("_") and stem != "__init__") or stem in _SKIPPED:
                        continue
                    module = ".".join([self.library] + parts + ([] if stem == "__init__" else [stem]))
                    files[module] = os.path.join(folder, name)
        deadline = time.monotonic() + self.budget_s
        trees = {}
        for module, file in sorted(files.items()):
            if time.monotonic() > deadline:
                self.complete = False
                self.note = "reading its source stopped after {:.0f} s".format(self.budget_s)
                break
            try:
                with open(file, "rb") as handle:
                    trees[module] = ast.parse(handle.read(), filename=file)
            except (OSError, SyntaxError, ValueError):
                continue
        exports = {}

        def exported(module, busy=()):
            """name -> (kind, defining module) of what `module` makes public."""
            if module in exports:
                return exports[module]
            tree = trees.get(module)
            if tree is None or module in busy:
                return {}
            package = module if files.get(module, "").endswith("__init__.py") else module.rsplit(".", 1)[0]
            out, listed = {}, None
            for node in tree.body:
                if isinstance(node, ast.ClassDef):
                    out[node.name] = ("class", module)
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    out[node.name] = ("function", module)
                elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for target in targets:
                        if isinstance(target, ast.Name):
                            if target.id == "__all__" and isinstance(node.value, (ast.List, ast.Tuple)):
                                listed = [e.value for e in node.value.elts if isinstance(e, ast.Constant)]
                            out[target.id] = ("attribute", module)
                elif isinstance(node, ast.ImportFrom):
                    base = node.module or ""
                    if node.level:
                        up = package.split(".")[: len(package.split(".")) - node.level + 1]
                        base = ".".join(up + ([base] if base else []))
                    if base.split(".")[0] != self.library:
                        continue
                    for alias in node.names:
                        if alias.name == "*":
                            for name, entry in exported(base, busy + (module,)).items():
                                out.setdefault(name, entry)
                        else:
                            entry = exported(base, busy + (module,)).get(alias.name)
                            if entry is None and base + "." + alias.name in trees:
                                entry = ("module", base + "." + alias.name)
                            out[alias.asname or alias.name] = entry or ("attribute", base)
            if listed is not None:
                out = {n: e for n, e in out.items() if n in listed}
            out = {n: e for n, e in out.items() if not n.startswith("_")}
            exports[module] = out
            return out

        names = collections.defaultdict(list)
        for module in trees:
            names[module.rsplit(".", 1)[-1]].append([module, "module", 2])
            for name, (kind, origin) in exported(module).items():
                if kind == "module":
                    continue
                agreement = 2 if origin == module else 1 if origin.startswith(module + ".") else 0
                names[name].append([module + "." + name, kind, agreement])
        for homes in names.values():
            _order_homes(homes)
        return dict(names)


def _object_members(home, obj, names):
    """The public methods and attributes of an object a module exports as part of its API
    (`loguru.logger.remove`): an instance of the library's own class."""
    if inspect.isclass(obj) or inspect.isroutine(obj) or isinstance(obj, (int, float, str, bytes, tuple)):
        return
    try:
        members = [n for n in dir(type(obj)) if not n.startswith("_")][:300]
    except BaseException:  # noqa: B036
        return
    for name in members:
        try:
            member = getattr(obj, name)
        except BaseException:  # noqa: B036 - properties may raise anything
            continue
        names[name].append([home + "." + name, _kind(member), 1])


def _top_level_modules():
    """Public top-level modules: the standard library's and the installed ones."""
    found = set(getattr(sys, "stdlib_module_names", ()))
    try:
        found.update(info.name for info in pkgutil.iter_modules())
    except BaseException:  # noqa: B036 - a broken path entry only hides its modules
        pass
    return sorted(n for n in found if not n.startswith("_") and n.isidentifier() and n not in _SKIPPED)


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


def _choose_home(homes, wanted, hints, candidate, exclude, parent):
    """The home to suggest for a name: where the writer looked, when it is there
    (`json.JSONDecodeError`, not `json.decoder.JSONDecodeError`, for `json.JSONDeocdeError`),
    or a module the nearby example imports from that exports it; else the best home of the
    kind the prose implies (a class, never a module, for `Transformer`), else the best home;
    never `exclude`, the path known to be wrong."""
    usable = [h for h in homes if h[0] != exclude]
    if not usable:
        return None
    for home in usable:
        if parent and home[0] == parent + "." + candidate:
            return home
    if parent:
        # Else the shortest public home under the module the writer named: `imgaug.Augmenter`
        # means `imgaug.augmenters.Augmenter`, not `imgaug.augmenters.meta.Augmenter`.
        inside = [
            h for h in usable if h[0].startswith(parent + ".") and h[2] > 0 and _kind_rank(wanted, h[1]) == 2
        ]
        if inside:
            return min(inside, key=lambda h: (h[0].count("."), len(h[0])))
    for hint in hints:
        for home in usable:
            # A name a module imports for its own use (agreement 0) is not its API.
            if home[0] == hint + "." + candidate and home[2] > 0:
                return home
    if wanted not in ("unknown", None):
        for home in usable:
            if _kind_rank(wanted, home[1]) == 2:
                return home
    return usable[0]


def _implied_kind(name, kind):
    """The kind the prose says, else the one the spelling implies: `Table` is a class."""
    if kind not in ("unknown", None):
        return kind
    if re.fullmatch(r"[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)*", name) and not name.isupper():
        return "class"
    return kind


def _may_be_typo(name, candidate):
    """Whether `name` can be a misspelling of `candidate`: not the same word in another case
    (`false` in prose is JSON's, not Python's `False`) or number (`errors`, `dataclass`)."""
    a, b = name.lower(), candidate.lower()
    if a == b:
        return name not in (candidate.lower(), candidate.upper(), candidate.capitalize())
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return not (longer in (shorter + "s", shorter + "es"))


def _typo_budget(name):
    """Edits a typo of `name` may have: none for short names (`PUT` is not `put`'s typo),
    one up to eight letters, two beyond."""
    length = len(name)
    return 0 if length < 4 else 1 if length <= 8 else 2


def _edits(a, b, bound):
    """Damerau-Levenshtein distance (optimal string alignment: swapping two adjacent letters
    is one edit) between `a` and `b`, or `bound + 1` once it is known to exceed `bound`."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    previous_row = None
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        before, previous_row = previous_row, row
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(previous_row[j] + 1, row[j - 1] + 1, previous_row[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], before[j - 2] + 1)
        if min(row) > bound:
            return bound + 1
    return row[-1]


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

"""Executing compiled code: top-level `await` on a per-namespace event loop, and the document's
lines for tracebacks. Shared by the snippet runner and the doctest runner.

Loaded by the worker as `_snipcheck_runner`. It re-exports `verdict` and `classify` for the
doctest runner, which reads them here.
"""

import linecache

from _snipcheck_classify import classify, verdict  # noqa: F401 - re-exported for the doctest runner


# id(namespace) -> (namespace, its event loop), made when a snippet first awaits at the top:
# one loop per session, as in the asyncio REPL and in notebooks.
_event_loops = {}


# compile() flag (ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, Python 3.8+): `await`, `async for` and
# `async with` at the top of a snippet, as the asyncio REPL, IPython and notebooks run them.
TOP_LEVEL_AWAIT = 0x2000


# Code flag (inspect.CO_COROUTINE): code compiled with that flag that did await; running it
# makes a coroutine.
_CO_COROUTINE = 0x0080


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


def prime_linecache(filename, source):
    """Lets tracebacks show the document's lines for code compiled under `filename`."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)

"""The worker's preparations before it forks: the interpreter's identity, the warm-up imports,
and a frozen heap the children share.

Loaded by the worker as `_snipcheck_warmup`; it imports nothing of snipcheck's.
"""

import importlib
import json
import sys


def forget_variables(names):
    """Removes the variables set only for the interpreter's start-up (os.environ and the C
    environment alike), so snippets and their subprocesses see the environment they were given."""
    import os

    for name in names:
        os.environ.pop(name, None)


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

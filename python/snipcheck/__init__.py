"""snipcheck verifies the Python examples in documentation.

The tool is the ``snipcheck`` binary installed beside this package; this package only lets
``python -m snipcheck`` run it.
"""

import os
import sysconfig

__all__ = ["find_snipcheck_bin"]


def find_snipcheck_bin() -> str:
    """The path of the installed ``snipcheck`` binary.

    pip puts it in the scripts folder of the scheme it installed into: the environment's
    (a venv, the system), the user's (``pip install --user``), or ``bin/`` beside the package
    folder (``pip install --target``). snipcheck runs on Linux only, hence the POSIX schemes.
    """
    candidates = [
        sysconfig.get_path("scripts"),
        sysconfig.get_path("scripts", "posix_user"),
        os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bin"),
    ]
    for folder in candidates:
        path = os.path.join(folder, "snipcheck")
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    raise FileNotFoundError(
        "the snipcheck binary is not installed beside this package; looked in: "
        + ", ".join(candidates)
    )

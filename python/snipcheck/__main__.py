"""``python -m snipcheck ARGS``: the installed binary with the same arguments and exit code."""

import os
import sys

from snipcheck import find_snipcheck_bin


def main() -> None:
    try:
        snipcheck = find_snipcheck_bin()
    except FileNotFoundError as err:
        print(f"snipcheck: {err}", file=sys.stderr)
        sys.exit(2)
    # Replacing this process passes arguments, standard streams, signals (Ctrl-C) and the
    # exit code through unchanged.
    os.execv(snipcheck, [snipcheck, *sys.argv[1:]])


if __name__ == "__main__":
    main()

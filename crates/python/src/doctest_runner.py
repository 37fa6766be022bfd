"""Checks what examples print, with CPython's own doctest rules.

`run_session` runs a `>>>` session through `doctest.DocTestRunner`, so prompts, option
directives (`# doctest: +ELLIPSIS`, `+SKIP`...), expected tracebacks and the comparison
itself are exactly doctest's; only the reporting is snipcheck's: frames and lines are
mapped back to the document, failures become verdicts. `compare_output` applies the same
comparison to what a plain snippet printed.

Loaded by the worker as `_snipcheck_doctest` beside the snippet runner.
"""

import doctest
import re
import sys
import traceback

import _snipcheck_runner as runner

# doctest runs each example with `exec(compile(...), globs)`; this module-level name comes
# before the builtin, so an example that awaits at the top runs in its session's event loop.
doctest.exec = runner.exec_awaiting

# `<doctest NAME[N]>` -> (document path, document line of the example's first line,
# source lines): kept for the child's life, because a function defined by one example can
# raise while another one (even of a later snippet of the session) runs.
_EXAMPLES = {}

_PARSE_ERROR_LINE = re.compile(r"^line (\d+) of the docstring")

# How many failures the report of one snippet spells out.
_MAX_REPORTED = 5

# How much of what an example printed a mismatch keeps (the record's `got`).
_MAX_GOT = 64 * 1024


def option_flags(options):
    """Doctest flags from directives such as `+ELLIPSIS` or `-NORMALIZE_WHITESPACE`."""
    flags = 0
    for option in options:
        name = option.lstrip("+-").strip()
        if name not in doctest.OPTIONFLAGS_BY_NAME:
            raise ValueError("unknown doctest option {!r}".format(option))
        if option.startswith("-"):
            flags &= ~doctest.OPTIONFLAGS_BY_NAME[name]
        else:
            flags |= doctest.OPTIONFLAGS_BY_NAME[name]
    return flags


def compare_output(want, got, flags, line):
    """`None` when `got` is what `want` describes, else an output-mismatch verdict."""
    checker = doctest.OutputChecker()
    if checker.check_output(want, got, flags):
        return None
    diff = checker.output_difference(doctest.Example("", want), got, flags)
    verdict = _mismatch(want, got, diff, line, diff)
    verdict["mismatches"] = [_difference(line, want, got, flags, exception=False)]
    return verdict


def _difference(line, want, got, flags, exception):
    """An `OutputMismatch` as the Rust side reads it: where the expected output is, what it
    says and what was printed, with the comparison directives that loosened the match."""
    loose = [
        name
        for name, flag in sorted(doctest.OPTIONFLAGS_BY_NAME.items())
        if flag & doctest.COMPARISON_FLAGS and flags & flag
    ]
    return {
        "line": line,
        "want": want,
        "got": got[:_MAX_GOT],
        "options": loose,
        "exception": exception,
        "truncated": len(got) > _MAX_GOT,
    }


class _Runner(doctest.DocTestRunner):
    """Records failures instead of printing them, and echoes what examples print to the
    real standard output so the record's captured output shows it."""

    def __init__(self, flags):
        super().__init__(checker=doctest.OutputChecker(), verbose=False, optionflags=flags)
        self.failed = []

    def report_start(self, out, test, example):
        pass

    def report_success(self, out, test, example, got):
        if example.exc_msg is not None:
            # An expected exception: show it as written, not doctest's own frames.
            got = "Traceback (most recent call last):\n  ...\n" + got.splitlines(True)[-1]
        _echo(got)

    def report_failure(self, out, test, example, got):
        _echo(got)
        # `self.optionflags` holds the example's own directives while it runs.
        self.failed.append((example, got, None, self.optionflags))

    def report_unexpected_exception(self, out, test, example, exc_info):
        self.failed.append((example, None, exc_info, self.optionflags))


def _echo(text):
    try:
        sys.__stdout__.write(text)
    except BaseException:  # noqa: B036 - echoing is best effort
        pass


def run_session(code, filename, first_line, name, globs, flags):
    """Runs the examples of `code` (lines `first_line..` of `filename`) in `globs`."""
    try:
        test = doctest.DocTestParser().get_doctest(code, globs, name, filename, first_line - 1)
    except ValueError as error:
        # A malformed session (a prompt without its blank, inconsistent indentation).
        match = _PARSE_ERROR_LINE.match(str(error))
        line = first_line + int(match.group(1)) - 1 if match else first_line
        return runner.verdict("syntax-error", error, line, message=str(error))
    # A DocTest runs in a copy of the globals it is given: a session needs the very dict.
    test.globs = globs
    source = [""] * (first_line - 1) + [""] * code.count("\n")
    for number, example in enumerate(test.examples):
        start = first_line + example.lineno
        lines = example.source.splitlines()
        _EXAMPLES["<doctest {}[{}]>".format(name, number)] = (filename, start, lines)
        for offset, text in enumerate(lines):
            if start - 1 + offset < len(source):
                source[start - 1 + offset] = text
    runner.prime_linecache(filename, "\n".join(source) + "\n")

    doctest_runner = _Runner(flags)
    compile_flags = doctest._extract_future_flags(globs) | runner.TOP_LEVEL_AWAIT
    doctest_runner.run(test, compileflags=compile_flags, out=lambda text: None, clear_globs=False)
    skipped = sum(1 for example in test.examples if _flags_for(example, flags) & doctest.SKIP)
    counts = {
        "tried": doctest_runner.tries,
        "failed": doctest_runner.failures,
        "skipped": skipped,
    }
    if not doctest_runner.failed:
        verdict = runner.verdict("passed")
    else:
        verdict = _failure_verdict(doctest_runner.failed[0], filename, first_line, name)
        # Every failure, each with its traceback or diff, the way doctest lists them.
        verdict["error"]["traceback"] = _report(doctest_runner.failed, filename, first_line, name)
        # Where each expected output that differs lies, for `fix --update-output`.
        verdict["mismatches"] = [
            _difference(
                first_line + example.lineno + len(example.source.splitlines()),
                example.want,
                got,
                example_flags,
                exception=example.exc_msg is not None,
            )
            for example, got, exc_info, example_flags in doctest_runner.failed
            if exc_info is None
        ]
    verdict["examples"] = counts
    return verdict


def _flags_for(example, flags):
    for flag, on in example.options.items():
        flags = flags | flag if on else flags & ~flag
    return flags


def _failure_verdict(failure, filename, first_line, name):
    example, got, exc_info, flags = failure
    line = first_line + example.lineno
    if exc_info is None:
        diff = doctest.OutputChecker().output_difference(example, got, flags)
        return _mismatch(example.want, got, diff, line, None)
    error = exc_info[1]
    if isinstance(error, SyntaxError):
        return runner.verdict(
            "syntax-error",
            error,
            line + (error.lineno or 1) - 1,
            message=error.msg,
            traceback_text="".join(traceback.format_exception_only(type(error), error)),
        )
    return runner.classify(error, filename, _document_frames(exc_info[2]))


def _document_frames(tb):
    """The traceback's frames, with example frames moved to their document lines."""
    frames = []
    for frame in traceback.extract_tb(tb):
        known = _EXAMPLES.get(frame.filename)
        if known is None:
            frames.append(frame)
            continue
        path, start, lines = known
        offset = (frame.lineno or 1) - 1
        text = lines[offset] if 0 <= offset < len(lines) else None
        frames.append(
            traceback.FrameSummary(path, start + offset, frame.name, lookup_line=False, line=text)
        )
    return frames


def _mismatch(want, got, diff, line, traceback_text):
    if "\n" not in want.rstrip("\n") and "\n" not in got.rstrip("\n"):
        summary = "expected {!r}, got {!r}".format(want.rstrip("\n"), got.rstrip("\n"))
    else:
        summary = "the output differs from the expected output"
    return {
        "category": "output-mismatch",
        "error": {
            "type": "OutputMismatch",
            "message": summary + "\n" + diff,
            "line": line,
            "traceback": traceback_text,
        },
        "suggestions": [],
    }


def _report(failed, filename, first_line, name):
    """Every failure, the way doctest reports them, with document lines."""
    parts = []
    checker = doctest.OutputChecker()
    for example, got, exc_info, flags in failed[:_MAX_REPORTED]:
        text = "{}, line {}, in {}\nFailed example:\n{}".format(
            filename, first_line + example.lineno, name, _indent(example.source)
        )
        if exc_info is None:
            text += checker.output_difference(example, got, flags)
        else:
            frames = _document_frames(exc_info[2])
            ours = [i for i, frame in enumerate(frames) if frame.filename == filename]
            shown = traceback.format_list(frames[ours[0] :] if ours else frames)
            shown += traceback.format_exception_only(exc_info[0], exc_info[1])
            text += "Exception raised:\n" + _indent("Traceback (most recent call last):\n" + "".join(shown))
        parts.append(text)
    if len(failed) > _MAX_REPORTED:
        parts.append("... and {} more failures".format(len(failed) - _MAX_REPORTED))
    return "\n".join(parts)


def _indent(text):
    return "".join("    " + line for line in text.splitlines(True))

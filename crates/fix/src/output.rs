//! Rewriting expected output from what the examples printed (`fix --update-output`).
//!
//! The run says where each expected output that differs lies and what was printed instead
//! ([`OutputMismatch`]); the snippet says how a plain example's output is written
//! ([`ExpectedOutput`]). An update replaces whole lines of the document, and only after
//! checking that those lines still read as the expected output the run compared, with one
//! indentation: anything else (the document edited meanwhile, markup or escapes inside the
//! output) is refused with the reason, never guessed.
//!
//! Some mismatches are never rewritten: an expected traceback, an output compared with
//! `ELLIPSIS` or `NORMALIZE_WHITESPACE` (the writer made it loose on purpose: writing what
//! one run printed would drop the `...` that hides an address or a timing), output that
//! was cut short, and output the document's format cannot hold as it was printed.

use snipcheck_extract::Format;
use snipcheck_record::{
    Category, ExpectedOutput, OutputForm, OutputMismatch, SnippetKind, SnippetRecord,
};

use crate::edit::LineEdit;

/// Doctest's marker for a blank line of expected output.
const BLANKLINE: &str = "<BLANKLINE>";

/// Comparison directives that keep the expected output strict: they never excuse an
/// update.
const STRICT_OPTIONS: [&str; 2] = ["DONT_ACCEPT_BLANKLINE", "DONT_ACCEPT_TRUE_FOR_1"];

/// One expected output to rewrite, or why it is not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputUpdate {
    /// The snippet whose output it is.
    pub snippet: String,
    /// The expected output's first document line.
    pub line: u32,
    /// `Ok`: the lines to write; `Err`: why nothing is written.
    pub change: Result<LineEdit, String>,
}

/// The updates the mismatching snippets of one document call for, in document order.
pub fn updates_for(document: &str, format: Format, records: &[SnippetRecord]) -> Vec<OutputUpdate> {
    let lines: Vec<&str> = document.split_inclusive('\n').collect();
    let mut updates = Vec::new();
    for record in records {
        if record.outcome.category != Category::OutputMismatch {
            continue;
        }
        for mismatch in &record.outcome.mismatches {
            let change = if format == Format::Notebook {
                Err(
                    "notebook cells are JSON strings: their expected output is not rewritten"
                        .into(),
                )
            } else {
                let target = Target {
                    lines: &lines,
                    format,
                    mismatch,
                };
                match (&record.snippet.kind, &record.snippet.expected_output) {
                    (SnippetKind::Doctest, _) => target.doctest(),
                    (SnippetKind::Python, Some(expected)) => target.plain(expected),
                    (SnippetKind::Python, None) => Err("the snippet has no expected output".into()),
                }
            };
            updates.push(OutputUpdate {
                snippet: record.snippet.id.clone(),
                line: mismatch.line,
                change,
            });
        }
    }
    updates.sort_by_key(|u| u.line);
    updates
}

/// One mismatch, with the document it is rewritten in.
struct Target<'a> {
    /// The document's lines, each with its line break.
    lines: &'a [&'a str],
    format: Format,
    mismatch: &'a OutputMismatch,
}

impl Target<'_> {
    /// A `>>>` example's expected output: the lines after its source, at its prompt's
    /// indentation, blank lines as `<BLANKLINE>`, as doctest reads them.
    fn doctest(&self) -> Result<LineEdit, String> {
        let m = self.mismatch;
        self.rewritable()?;
        let source = self.line(m.line.saturating_sub(1))?;
        let indent = prompt_indent(source, &self.encode(">>>")).ok_or_else(|| {
            format!(
                "line {} is not the example's source; check again",
                m.line.saturating_sub(1)
            )
        })?;
        let want: Vec<String> = m.want.lines().map(|l| self.encode(l)).collect();
        if want.is_empty() && self.format == Format::Html && source.contains("</pre") {
            return Err("the example's `<pre>` closes on its source line".into());
        }
        let kept = self.verify(m.line, &want, &indent)?;
        let blank_allowed = !m.options.iter().any(|o| o == "DONT_ACCEPT_BLANKLINE");
        let mut written = Vec::new();
        for (n, line) in m.got.lines().enumerate() {
            if line.trim_start().starts_with(">>>") {
                return Err(format!(
                    "printed line {} would read as a `>>>` prompt",
                    n + 1
                ));
            }
            if n == 0 && line.trim_start().starts_with("...") {
                return Err(
                    "the printed output starts with `...`, which doctest would read as source"
                        .into(),
                );
            }
            let text = if line.trim().is_empty() {
                if !blank_allowed {
                    return Err(
                        "the output has a blank line and DONT_ACCEPT_BLANKLINE is set".into(),
                    );
                }
                BLANKLINE
            } else {
                line
            };
            written.push(format!("{indent}{}", self.encode(text)));
        }
        if written.is_empty() && !(kept.before.is_empty() && kept.after.is_empty()) {
            return Err(
                "the example printed nothing, and its output shares a line with markup".into(),
            );
        }
        Ok(edit(m.line, want.len(), written, kept))
    }

    /// A plain snippet's expected output: an output block's lines, or `#>` comments.
    fn plain(&self, expected: &ExpectedOutput) -> Result<LineEdit, String> {
        self.rewritable()?;
        if expected.end_line < expected.line {
            return Err(
                "the record does not say where the expected output ends; check again".into(),
            );
        }
        let got: Vec<&str> = self.mismatch.got.lines().collect();
        if got.is_empty() {
            return Err("the example printed nothing: remove its expected output by hand".into());
        }
        let indent = leading_space(self.line(expected.line)?, self.format);
        let (want, written): (Vec<String>, Vec<String>) = match expected.form {
            OutputForm::Block => {
                let want = expected.text.lines().map(|l| self.encode(l)).collect();
                let first_text = got.iter().position(|l| !l.trim().is_empty());
                let last_text = got.iter().rposition(|l| !l.trim().is_empty());
                let written = got
                    .iter()
                    .enumerate()
                    .map(|(n, line)| {
                        let inside =
                            first_text.is_some_and(|f| n > f) && last_text.is_some_and(|l| n < l);
                        match (line.trim().is_empty(), inside) {
                            (false, _) => format!("{indent}{}", self.encode(line)),
                            (true, true) => String::new(),
                            // The formats drop a block's leading and trailing blank
                            // lines: doctest's marker keeps them.
                            (true, false) => format!("{indent}{}", self.encode(BLANKLINE)),
                        }
                    })
                    .collect();
                (want, written)
            }
            OutputForm::Comments => {
                let span = (expected.end_line - expected.line + 1) as usize;
                if expected.text.lines().count() != span {
                    return Err(format!(
                        "the `#>` comments are spread over lines {}-{}: which code printed \
                         which line is not known",
                        expected.line, expected.end_line
                    ));
                }
                if let Some(n) = got.iter().position(|l| *l != l.trim_end()) {
                    return Err(format!(
                        "printed line {} ends in spaces, which a `#>` comment cannot keep",
                        n + 1
                    ));
                }
                let comment = |l: &str| self.encode(format!("#> {l}").trim_end());
                let want = expected.text.lines().map(comment).collect();
                let written = got
                    .iter()
                    .map(|l| format!("{indent}{}", comment(l)))
                    .collect();
                (want, written)
            }
        };
        let kept = self.verify(expected.line, &want, &indent)?;
        Ok(edit(expected.line, want.len(), written, kept))
    }

    /// Refuses the mismatches that must not be rewritten from what one run printed.
    fn rewritable(&self) -> Result<(), String> {
        let m = self.mismatch;
        if m.exception {
            return Err("it expects an exception: tracebacks are not rewritten".into());
        }
        if m.truncated {
            return Err("the output was cut short in the record".into());
        }
        let loose: Vec<&str> = m
            .options
            .iter()
            .map(String::as_str)
            .filter(|o| !STRICT_OPTIONS.contains(o))
            .collect();
        if !loose.is_empty() {
            return Err(format!(
                "compared with +{}: its expected output is loose on purpose; update it by hand",
                loose.join(", +")
            ));
        }
        let fence = |l: &str| {
            let l = l.trim_start();
            l.starts_with("```") || l.starts_with("~~~")
        };
        if self.format == Format::Markdown && m.got.lines().any(fence) {
            return Err("the output holds a code fence, which would close the block".into());
        }
        let python_string = ["\\", "\"\"\"", "'''"];
        if self.format == Format::Python && python_string.iter().any(|s| m.got.contains(s)) {
            return Err(
                "the output holds a backslash or triple quotes, which the docstring \
                        would read otherwise"
                    .into(),
            );
        }
        if m.got.contains('\t') {
            return Err(
                "the output holds a tab, which doctest expands in the expected output".into(),
            );
        }
        Ok(())
    }

    /// Checks that the document's lines from `line` on read `want` (as the document writes
    /// it), each at `indent`. Gives what stands before the first line's text and after the
    /// last's (an HTML output's `<pre>` and `</pre>`), which the rewrite keeps.
    fn verify(&self, line: u32, want: &[String], indent: &str) -> Result<Kept, String> {
        let mut kept = Kept::default();
        let last = want.len().saturating_sub(1);
        for (n, text) in want.iter().enumerate() {
            let number = line + n as u32;
            let actual = self.line(number)?.trim_end_matches(['\n', '\r']);
            let wanted = format!("{indent}{text}");
            let fits = |at: usize| {
                let (head, tail) = (&actual[..at], &actual[at + wanted.len()..]);
                let head_ok = head.is_empty() || (n == 0 && self.markup_before(head));
                let tail_ok = tail.is_empty() || (n == last && self.markup_after(tail));
                (head_ok && tail_ok).then(|| (head.to_string(), tail.to_string()))
            };
            let found = if text.is_empty() && actual.trim().is_empty() {
                Some((String::new(), String::new()))
            } else {
                actual.match_indices(&wanted).find_map(|(at, _)| fits(at))
            };
            let Some((head, tail)) = found else {
                return Err(format!(
                    "line {number} does not read as the expected output the check compared \
                     (edited since, or written with markup or escapes)"
                ));
            };
            if n == 0 {
                kept.before = head;
            }
            if n == last {
                kept.after = tail;
            }
        }
        Ok(kept)
    }

    /// HTML markup may open an output's first line (`<pre class="output">`).
    fn markup_before(&self, head: &str) -> bool {
        self.format == Format::Html && head.ends_with('>')
    }

    /// HTML markup may close an output's last line (`</pre>`).
    fn markup_after(&self, tail: &str) -> bool {
        self.format == Format::Html && tail.starts_with('<')
    }

    /// Text as the document writes it: with entities in HTML, as is elsewhere.
    fn encode(&self, text: &str) -> String {
        match self.format {
            Format::Html => text
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;"),
            _ => text.to_string(),
        }
    }

    /// Line `number` (1-based) with its line break.
    fn line(&self, number: u32) -> Result<&str, String> {
        number
            .checked_sub(1)
            .and_then(|i| self.lines.get(i as usize))
            .copied()
            .ok_or_else(|| format!("line {number} is past the end of the document; check again"))
    }
}

/// What stands around the expected output on its first and last lines, kept as it is.
#[derive(Default)]
struct Kept {
    before: String,
    after: String,
}

/// The edit that writes `written` over `count` lines from `line`, keeping the markup
/// around the old output.
fn edit(line: u32, count: usize, mut written: Vec<String>, kept: Kept) -> LineEdit {
    if let Some(first) = written.first_mut() {
        first.insert_str(0, &kept.before);
    }
    if let Some(last) = written.last_mut() {
        last.push_str(&kept.after);
    }
    LineEdit {
        line,
        count: count as u32,
        lines: written,
    }
}

/// The spaces before a `>>>` or `...` prompt (`prompt` is `>>>` as the document writes
/// it); `None` when the line has none. In HTML a `<pre>` may stand before the first
/// prompt, which then has no indentation.
fn prompt_indent(line: &str, prompt: &str) -> Option<String> {
    let at = [prompt, "..."].iter().filter_map(|p| line.find(p)).min()?;
    let before = &line[..at];
    if before.trim().is_empty() {
        Some(before.to_string())
    } else if before.ends_with('>') {
        Some(String::new())
    } else {
        None
    }
}

/// The indentation a line's text starts at (an HTML line's markup is not indentation).
fn leading_space(line: &str, format: Format) -> String {
    let space: String = line
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    if format == Format::Html && line[space.len()..].starts_with('<') {
        return String::new();
    }
    space
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::apply_lines;
    use snipcheck_record::{Outcome, Snippet};

    fn mismatch(line: u32, want: &str, got: &str) -> OutputMismatch {
        OutputMismatch {
            line,
            want: want.into(),
            got: got.into(),
            options: Vec::new(),
            exception: false,
            truncated: false,
        }
    }

    fn record(
        kind: SnippetKind,
        expected: Option<ExpectedOutput>,
        m: OutputMismatch,
    ) -> SnippetRecord {
        let mut outcome = Outcome::clean(Category::OutputMismatch, 1.0);
        outcome.mismatches.push(m);
        SnippetRecord {
            snippet: Snippet {
                id: "s".into(),
                kind,
                expected_output: expected,
                ..Snippet::default()
            },
            outcome,
        }
    }

    fn session(m: OutputMismatch) -> SnippetRecord {
        record(SnippetKind::Doctest, None, m)
    }

    fn block(line: u32, end_line: u32, text: &str, form: OutputForm, got: &str) -> SnippetRecord {
        let expected = ExpectedOutput {
            text: text.into(),
            line,
            end_line,
            form,
        };
        record(
            SnippetKind::Python,
            Some(expected),
            mismatch(line, text, got),
        )
    }

    /// The document after the updates, or the first reason one was refused.
    fn update(document: &str, format: Format, records: &[SnippetRecord]) -> Result<String, String> {
        let mut edits = Vec::new();
        for u in updates_for(document, format, records) {
            edits.push(u.change?);
        }
        Ok(apply_lines(document, &edits))
    }

    #[test]
    fn a_session_keeps_its_indentation_and_marks_blank_lines() {
        let doc = "1. List:\n\n   ```pycon\n   >>> f()\n   old\n   >>> g()\n   >>> h()\n   same\n   ```\n";
        let records = [
            session(mismatch(5, "old\n", "new\n\nlines\n")),
            // Expected nothing: the output goes right after the source.
            session(mismatch(7, "", "printed\n")),
        ];
        assert_eq!(
            update(doc, Format::Markdown, &records).unwrap(),
            "1. List:\n\n   ```pycon\n   >>> f()\n   new\n   <BLANKLINE>\n   lines\n   >>> g()\n   printed\n   >>> h()\n   same\n   ```\n"
        );
        // Printing nothing removes the expected output.
        let doc = ">>> f()\nold\n\nProse.\n";
        assert_eq!(
            update(doc, Format::Text, &[session(mismatch(2, "old\n", ""))]).unwrap(),
            ">>> f()\n\nProse.\n"
        );
    }

    #[test]
    fn loose_comparisons_and_tracebacks_are_not_rewritten() {
        let doc = ">>> object()  # doctest: +ELLIPSIS\n<object at 0x...>\n";
        let mut loose = mismatch(2, "<object at 0x...>\n", "<object at 0x7f00>\n");
        loose.options = vec!["ELLIPSIS".into()];
        let why = update(doc, Format::Text, &[session(loose)]).unwrap_err();
        assert!(why.contains("+ELLIPSIS"), "{why}");
        let mut strict = mismatch(2, "<object at 0x...>\n", "x\n\ny\n");
        strict.options = vec!["DONT_ACCEPT_BLANKLINE".into()];
        let why = update(doc, Format::Text, &[session(strict)]).unwrap_err();
        assert!(why.contains("DONT_ACCEPT_BLANKLINE"), "{why}");
        let mut raised = mismatch(2, "Traceback (most recent call last):\n", "1\n");
        raised.exception = true;
        assert!(update(doc, Format::Text, &[session(raised)]).is_err());
    }

    #[test]
    fn output_that_would_not_read_back_is_refused() {
        let doc = ">>> f()\nold\n";
        for got in [">>> x\n", "... x\n", "a\tb\n"] {
            assert!(
                update(doc, Format::Text, &[session(mismatch(2, "old\n", got))]).is_err(),
                "{got:?}"
            );
        }
        let fence = update(
            doc,
            Format::Markdown,
            &[session(mismatch(2, "old\n", "```\n"))],
        );
        assert!(fence.unwrap_err().contains("code fence"));
        let escape = update(
            doc,
            Format::Python,
            &[session(mismatch(2, "old\n", "a\\b\n"))],
        );
        assert!(escape.unwrap_err().contains("backslash"));
        let notebook = update(
            doc,
            Format::Notebook,
            &[session(mismatch(2, "old\n", "new\n"))],
        );
        assert!(notebook.unwrap_err().contains("notebook"));
    }

    #[test]
    fn a_document_edited_since_the_check_is_not_rewritten() {
        let doc = ">>> f()\nedited\n";
        let why = update(doc, Format::Text, &[session(mismatch(2, "old\n", "new\n"))]).unwrap_err();
        assert!(
            why.contains("line 2 does not read as the expected output"),
            "{why}"
        );
        let why = update(doc, Format::Text, &[session(mismatch(9, "old\n", "new\n"))]).unwrap_err();
        assert!(why.contains("past the end"), "{why}");
    }

    #[test]
    fn html_keeps_its_markup_and_writes_entities() {
        let doc =
            "<pre>&gt;&gt;&gt; tag()\n'&lt;a&gt;'</pre>\n<pre class=\"output\">1 &amp; 2</pre>\n";
        let records = [
            session(mismatch(2, "'<a>'\n", "'<b>'\n")),
            block(3, 3, "1 & 2\n", OutputForm::Block, "1 < 2\n"),
        ];
        assert_eq!(
            update(doc, Format::Html, &records).unwrap(),
            "<pre>&gt;&gt;&gt; tag()\n'&lt;b&gt;'</pre>\n<pre class=\"output\">1 &lt; 2</pre>\n"
        );
    }

    #[test]
    fn output_blocks_and_comments() {
        let doc = "```output\n1\n2\n```\n";
        let records = [block(2, 3, "1\n2\n", OutputForm::Block, "\n1\n\n3\n\n")];
        // Blank lines the block would drop at its ends are doctest's markers; inside, blank.
        assert_eq!(
            update(doc, Format::Markdown, &records).unwrap(),
            "```output\n<BLANKLINE>\n1\n\n3\n<BLANKLINE>\n```\n"
        );
        let doc = "print(a)\n    #> old\n    #>\n";
        let records = [block(
            2,
            3,
            "old\n\n",
            OutputForm::Comments,
            "new\n\nmore\n",
        )];
        assert_eq!(
            update(doc, Format::Markdown, &records).unwrap(),
            "print(a)\n    #> new\n    #>\n    #> more\n"
        );
        let spread = "print(1)\n#> 1\nprint(3)\n#> 2\n";
        let records = [block(2, 4, "1\n2\n", OutputForm::Comments, "1\n3\n")];
        let why = update(spread, Format::Markdown, &records).unwrap_err();
        assert!(why.contains("spread over lines 2-4"), "{why}");
        let nothing = [block(2, 3, "1\n2\n", OutputForm::Block, "")];
        assert!(update("```output\n1\n2\n```\n", Format::Markdown, &nothing).is_err());
    }
}

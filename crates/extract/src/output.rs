//! Expected output of plain snippets: an output block right after the example, or
//! `#>` comments in the code (the pytest-examples convention).

use snipcheck_record::{Diagnostic, ExpectedOutput, OutputForm, Severity, SnippetKind};

use crate::ids::Item;

/// Attaches an output block to the example just before it. `follows_example` says
/// whether the previous code block of the document (of any language) is that example;
/// when it is not, the block is reported, since it would otherwise be silently ignored.
/// `lines` is the block's first and last document line.
pub(crate) fn attach(
    items: &mut [Item],
    follows_example: bool,
    text: String,
    (line, end_line): (u32, u32),
    path: &str,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let target = match items.last_mut() {
        Some(Item::Code { meta, .. })
            if follows_example
                && meta.kind == SnippetKind::Python
                && meta.expected_output.is_none() =>
        {
            meta
        }
        _ => {
            diagnostics.push(Diagnostic {
                path: path.to_string(),
                line: Some(line),
                severity: Severity::Warning,
                message: "output block does not follow a Python example; it is not checked".into(),
            });
            return;
        }
    };
    target.expected_output = Some(ExpectedOutput {
        text,
        line,
        end_line,
        form: OutputForm::Block,
    });
}

/// The output `#>` comments say the code prints: each comment line's text after `#>` and
/// one space. `line_of` gives the document line of each (0-based) line of the code.
pub(crate) fn from_comments(code: &str, line_of: impl Fn(usize) -> u32) -> Option<ExpectedOutput> {
    let mut text = String::new();
    let mut span: Option<(u32, u32)> = None;
    for (n, l) in code.lines().enumerate() {
        if let Some(rest) = l.trim_start().strip_prefix("#>") {
            let first = span.map_or(line_of(n), |(first, _)| first);
            span = Some((first, line_of(n)));
            text.push_str(rest.strip_prefix(' ').unwrap_or(rest).trim_end());
            text.push('\n');
        }
    }
    span.map(|(line, end_line)| ExpectedOutput {
        text,
        line,
        end_line,
        form: OutputForm::Comments,
    })
}

/// Fills in the expected output of Python examples that carry `#>` comments.
pub(crate) fn comments_pass(items: &mut [Item]) {
    for item in items {
        if let Item::Code {
            line, code, meta, ..
        } = item
        {
            if meta.kind == SnippetKind::Python && meta.expected_output.is_none() {
                let first = *line;
                let lines = &meta.lines;
                meta.expected_output = from_comments(code, |n| {
                    lines.get(n).copied().unwrap_or_else(|| {
                        first.saturating_add(u32::try_from(n).unwrap_or(u32::MAX))
                    })
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;

    #[test]
    fn comments_give_the_expected_output() {
        let code = "print(1)\n#> 1\nprint('a  b')\n  #>a  b  \nx = 2\n";
        assert_eq!(
            from_comments(code, |n| 10 + n as u32),
            Some(ExpectedOutput {
                text: "1\na  b\n".into(),
                line: 11,
                end_line: 13,
                form: OutputForm::Comments,
            })
        );
        assert_eq!(from_comments("print(1)  # > no\n", |_| 1), None);
    }

    /// The expected output of the first snippet of a document `text` in `format`.
    fn first_output(text: &str, format: Format) -> Option<ExpectedOutput> {
        let doc = crate::Document {
            path: "d".into(),
            text: text.into(),
            format,
        };
        crate::extract(&doc).snippets[0].expected_output.clone()
    }

    /// A `#>` comment's line is the line it is written on, also where code lines are not
    /// document lines one for one: it once landed past the end of the document.
    #[test]
    fn comments_are_placed_where_they_are_written() {
        let output = |text: &str, format| first_output(text, format).map(|o| (o.text, o.line));
        let html = "<p>x</p>\n<pre class=\"language-python\">print(1)&#10;#> 1</pre>";
        assert_eq!(output(html, Format::Html), Some(("1\n".into(), 2)));
        let notebook = "{\"cells\": [\n{\"cell_type\": \"code\", \"metadata\": {},\n\
                        \"source\": \"print(1)\\n#> 1\"}\n]}";
        assert_eq!(output(notebook, Format::Notebook), Some(("1\n".into(), 3)));
        let md = "```python\nprint(1)\n#> 1\n```\n";
        assert_eq!(output(md, Format::Markdown), Some(("1\n".into(), 3)));
    }

    /// Where an expected output ends, which `fix --update-output` rewrites up to.
    #[test]
    fn output_blocks_know_their_last_line() {
        let span =
            |text: &str, format| first_output(text, format).map(|o| (o.line, o.end_line, o.form));
        let md = "```python\nprint(1)\n```\n\n  ```output\n  1\n\n  2\n  ```\n";
        assert_eq!(span(md, Format::Markdown), Some((6, 8, OutputForm::Block)));
        let html =
            "<pre class=\"language-python\">print(1)</pre>\n<pre class=\"output\">\n1\n2</pre>\n";
        assert_eq!(span(html, Format::Html), Some((3, 4, OutputForm::Block)));
        let rst = ".. testcode::\n\n   print(1)\n\n.. testoutput::\n\n   1\n\n   2\n\nProse.\n";
        assert_eq!(span(rst, Format::Rst), Some((7, 9, OutputForm::Block)));
        let comments = "```python\nprint(1)\n#> 1\nprint(2)\n#> 2\n```\n";
        assert_eq!(
            span(comments, Format::Markdown),
            Some((3, 5, OutputForm::Comments))
        );
    }

    #[test]
    fn an_output_block_needs_an_example_before_it() {
        let mut diagnostics = Vec::new();
        let mut items = vec![Item::code(3, 3, "print(1)\n".into())];
        attach(
            &mut items,
            true,
            "1\n".into(),
            (6, 6),
            "d.md",
            &mut diagnostics,
        );
        assert!(diagnostics.is_empty());
        let Item::Code { meta, .. } = &items[0] else {
            unreachable!()
        };
        assert_eq!(meta.expected_output.as_ref().map(|o| o.line), Some(6));
        // A second output block, or one after another language's block, is reported.
        attach(
            &mut items,
            true,
            "2\n".into(),
            (9, 9),
            "d.md",
            &mut diagnostics,
        );
        attach(
            &mut items,
            false,
            "3\n".into(),
            (12, 12),
            "d.md",
            &mut diagnostics,
        );
        let mut empty: Vec<Item> = Vec::new();
        attach(
            &mut empty,
            true,
            "4\n".into(),
            (1, 1),
            "d.md",
            &mut diagnostics,
        );
        let lines: Vec<Option<u32>> = diagnostics.iter().map(|d| d.line).collect();
        assert_eq!(lines, [Some(9), Some(12), Some(1)]);
    }
}

//! Expected output of plain snippets: an output block right after the example, or
//! `#>` comments in the code (the pytest-examples convention).

use snipcheck_record::{Diagnostic, ExpectedOutput, Severity, SnippetKind};

use crate::ids::Item;

/// Attaches an output block to the example just before it. `follows_example` says
/// whether the previous code block of the document (of any language) is that example;
/// when it is not, the block is reported, since it would otherwise be silently ignored.
pub(crate) fn attach(
    items: &mut [Item],
    follows_example: bool,
    text: String,
    line: u32,
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
    target.expected_output = Some(ExpectedOutput { text, line });
}

/// The output `#>` comments say the code prints: each comment line's text after `#>` and
/// one space. `line` is the document line of the code's first line.
pub(crate) fn from_comments(code: &str, line: u32) -> Option<ExpectedOutput> {
    let mut text = String::new();
    let mut first = None;
    for (n, l) in code.lines().enumerate() {
        if let Some(rest) = l.trim_start().strip_prefix("#>") {
            first.get_or_insert(line + n as u32);
            text.push_str(rest.strip_prefix(' ').unwrap_or(rest).trim_end());
            text.push('\n');
        }
    }
    first.map(|line| ExpectedOutput { text, line })
}

/// Fills in the expected output of Python examples that carry `#>` comments.
pub(crate) fn comments_pass(items: &mut [Item]) {
    for item in items {
        if let Item::Code {
            line, code, meta, ..
        } = item
        {
            if meta.kind == SnippetKind::Python && meta.expected_output.is_none() {
                meta.expected_output = from_comments(code, *line);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_give_the_expected_output() {
        let code = "print(1)\n#> 1\nprint('a  b')\n  #>a  b  \nx = 2\n";
        assert_eq!(
            from_comments(code, 10),
            Some(ExpectedOutput {
                text: "1\na  b\n".into(),
                line: 11
            })
        );
        assert_eq!(from_comments("print(1)  # > no\n", 1), None);
    }

    #[test]
    fn an_output_block_needs_an_example_before_it() {
        let mut diagnostics = Vec::new();
        let mut items = vec![Item::code(3, 3, "print(1)\n".into())];
        attach(&mut items, true, "1\n".into(), 6, "d.md", &mut diagnostics);
        assert!(diagnostics.is_empty());
        let Item::Code { meta, .. } = &items[0] else {
            unreachable!()
        };
        assert_eq!(meta.expected_output.as_ref().map(|o| o.line), Some(6));
        // A second output block, or one after another language's block, is reported.
        attach(&mut items, true, "2\n".into(), 9, "d.md", &mut diagnostics);
        attach(
            &mut items,
            false,
            "3\n".into(),
            12,
            "d.md",
            &mut diagnostics,
        );
        let mut empty: Vec<Item> = Vec::new();
        attach(&mut empty, true, "4\n".into(), 1, "d.md", &mut diagnostics);
        let lines: Vec<Option<u32>> = diagnostics.iter().map(|d| d.line).collect();
        assert_eq!(lines, [Some(9), Some(12), Some(1)]);
    }
}

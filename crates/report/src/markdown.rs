//! A Markdown summary for `$GITHUB_STEP_SUMMARY` or a pull-request comment: the counts, a
//! table of failures with their reasons and suggestions, and the unresolved references.

use std::fmt::Write;

use snipcheck_record::{Record, Status};

use crate::facts;

pub fn render_markdown(record: &Record) -> String {
    let s = &record.summary;
    let mut out = String::new();
    let verdict = if s.failed == 0 && !record.has_reference_errors() && s.errors == 0 {
        "all examples work"
    } else {
        "some examples fail"
    };
    let _ = writeln!(out, "## snipcheck: {verdict}\n");
    let _ = writeln!(out, "{}.\n", facts::summary_sentence(record));
    let _ = writeln!(
        out,
        "| snippets | passed | failed | skipped | references | unresolved | input errors |"
    );
    let _ = writeln!(out, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {} |\n",
        s.snippets, s.passed, s.failed, s.skipped, s.references, s.unresolved_references, s.errors
    );

    let by_category = facts::failures_by_category(record);
    if !by_category.is_empty() {
        let parts: Vec<String> = by_category
            .iter()
            .map(|(c, n)| format!("{n} `{c}`"))
            .collect();
        let _ = writeln!(out, "Failures by category: {}.\n", parts.join(", "));
        let _ = writeln!(out, "### Failing examples\n");
        let _ = writeln!(out, "| where | snippet | category | reason | suggestion |");
        let _ = writeln!(out, "| --- | --- | --- | --- | --- |");
        for entry in record
            .snippets
            .iter()
            .filter(|e| e.outcome.status == Status::Failed)
        {
            let _ = writeln!(
                out,
                "| {} | {} | `{}` | {} | {} |",
                cell(&format!(
                    "{}:{}",
                    entry.snippet.path,
                    facts::focus_line(entry)
                )),
                cell(&entry.snippet.id),
                entry.outcome.category,
                code_cell(&facts::reason(entry).unwrap_or_default()),
                entry
                    .outcome
                    .suggestions
                    .first()
                    .map(|s| code_cell(s))
                    .unwrap_or_default(),
            );
        }
        out.push('\n');
    }

    let findings: Vec<_> = record
        .references
        .iter()
        .filter(|r| facts::reference_is_finding(r))
        .collect();
    if !findings.is_empty() {
        let _ = writeln!(out, "### Unresolved references in the prose\n");
        let _ = writeln!(out, "| where | severity | reference | suggestion |");
        let _ = writeln!(out, "| --- | --- | --- | --- |");
        for reference in findings {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(&format!("{}:{}", reference.path, reference.line)),
                facts::severity_name(reference.severity),
                code_cell(&reference.text),
                reference
                    .suggestions
                    .first()
                    .map(|s| code_cell(s))
                    .unwrap_or_default(),
            );
        }
        out.push('\n');
    }

    if !record.diagnostics.is_empty() {
        let _ = writeln!(out, "### Input problems\n");
        for diagnostic in &record.diagnostics {
            let _ = writeln!(
                out,
                "- **{}** {}: {}",
                facts::severity_name(diagnostic.severity),
                cell(&facts::diagnostic_place(diagnostic)),
                cell(&diagnostic.message)
            );
        }
        out.push('\n');
    }
    out
}

/// Table-cell text: one line, pipes and markup characters escaped so the table holds.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '&' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Code in a table cell. A code span cannot escape backticks, so it is fenced with more
/// backticks than the text holds in a row; only `|` needs its backslash inside a table.
fn code_cell(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .filter(|c| !c.is_control())
        .collect::<String>()
        .replace('|', "\\|");
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    // A space keeps a backtick at either end from joining the fence; readers strip it.
    if text.starts_with('`') || text.ends_with('`') {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    #[test]
    fn summary_tables() {
        insta::assert_snapshot!(render_markdown(&fixture::record()));
    }

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        assert_eq!(code_cell("x `y` | z"), "``x `y` \\| z``");
        assert_eq!(code_cell("`y`"), "`` `y` ``");
    }
}

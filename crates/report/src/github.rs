//! GitHub Actions workflow commands: an `::error` annotation per failed snippet, unresolved
//! reference and input error, shown on the pull request's diff at the document line.

use std::fmt::Write;

use snipcheck_record::{Record, Severity, Status};

use crate::facts;

pub fn render_github(record: &Record) -> String {
    let mut out = String::new();
    for diagnostic in &record.diagnostics {
        annotate(
            &mut out,
            level(diagnostic.severity),
            &diagnostic.path,
            diagnostic.line,
            None,
            "snipcheck: input",
            &diagnostic.message,
        );
    }
    for entry in &record.snippets {
        if entry.outcome.status != Status::Failed {
            continue;
        }
        let mut message = facts::reason(entry).unwrap_or_default();
        if let Some(help) = facts::help(&entry.outcome.suggestions) {
            let _ = write!(message, "\nhelp: {help}");
        }
        annotate(
            &mut out,
            "error",
            &entry.snippet.path,
            Some(facts::focus_line(entry)),
            None,
            &format!(
                "snipcheck: {} in {}",
                entry.outcome.category, entry.snippet.id
            ),
            &message,
        );
    }
    for reference in record
        .references
        .iter()
        .filter(|r| facts::reference_is_finding(r))
    {
        let mut message = facts::reference_message(reference);
        if let Some(help) = facts::help(&reference.suggestions) {
            let _ = write!(message, "\nhelp: {help}");
        }
        annotate(
            &mut out,
            level(reference.severity),
            &reference.path,
            Some(reference.line),
            Some(reference.column),
            "snipcheck: unresolved reference",
            &message,
        );
    }
    let _ = writeln!(
        out,
        "{}",
        escape_data(&format!("snipcheck: {}", facts::summary_sentence(record)))
    );
    out
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    }
}

fn annotate(
    out: &mut String,
    level: &str,
    file: &str,
    line: Option<u32>,
    column: Option<u32>,
    title: &str,
    message: &str,
) {
    let _ = write!(out, "::{level} file={}", escape_property(file));
    if let Some(line) = line {
        let _ = write!(out, ",line={line}");
    }
    if let Some(column) = column {
        let _ = write!(out, ",col={column}");
    }
    let _ = writeln!(
        out,
        ",title={}::{}",
        escape_property(title),
        escape_data(message)
    );
}

/// The runner's escaping for a command's message: `%`, CR and LF.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Properties also end at `:` and `,`.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    #[test]
    fn one_annotation_per_finding() {
        insta::assert_snapshot!(render_github(&fixture::record()));
    }

    #[test]
    fn every_command_is_one_line() {
        let mut record = fixture::record();
        record.snippets[1].snippet.path = "docs/a,b:c%.md".into();
        record.snippets[1].outcome.error.as_mut().unwrap().message = "one\r\ntwo %".into();
        let text = render_github(&record);
        let line = text
            .lines()
            .find(|l| l.contains("a%2Cb%3Ac%25.md"))
            .expect("escaped file property");
        assert!(line.contains("ImportError: one"), "{line}");
        assert_eq!(text.lines().filter(|l| l.starts_with("::")).count(), 6);
    }
}

//! JUnit XML for CI test-report views: a test suite per document, a test case per snippet
//! and per checked claim in the prose, and one per input error.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};
use snipcheck_record::{Record, Reference, ReferenceStatus, Severity, SnippetRecord, Status};

use crate::facts;

pub fn render_junit(record: &Record) -> String {
    let mut report = Report::new("snipcheck");
    for path in facts::documents(record) {
        let mut suite = TestSuite::new(path);
        for entry in record.snippets.iter().filter(|e| e.snippet.path == path) {
            suite.add_test_case(snippet_case(entry));
        }
        for reference in record.references.iter().filter(|r| r.path == path) {
            suite.add_test_case(reference_case(reference));
        }
        for diagnostic in record.diagnostics.iter().filter(|d| d.path == path) {
            if diagnostic.severity != Severity::Error {
                continue;
            }
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status
                .set_type("input-error")
                .set_message(diagnostic.message.as_str());
            let mut case = TestCase::new(
                format!("input {}", facts::diagnostic_place(diagnostic)),
                status,
            );
            case.set_classname(path);
            suite.add_test_case(case);
        }
        report.add_test_suite(suite);
    }
    let mut text = report
        .to_string()
        .unwrap_or_else(|err| format!("<!-- snipcheck could not write JUnit XML: {err} -->\n"));
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

fn snippet_case(entry: &SnippetRecord) -> TestCase {
    let (snippet, outcome) = (&entry.snippet, &entry.outcome);
    let status = match outcome.status {
        Status::Passed => TestCaseStatus::success(),
        Status::Skipped => {
            let mut status = TestCaseStatus::skipped();
            status.set_message("not run (skipped by a marker or the configuration)");
            status
        }
        Status::Failed => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let mut message = format!(
                "{}:{}: {}",
                snippet.path,
                facts::focus_line(entry),
                facts::reason(entry).unwrap_or_default()
            );
            if let Some(help) = facts::help(&outcome.suggestions) {
                message.push_str("; ");
                message.push_str(&help);
            }
            let description = outcome
                .error
                .as_ref()
                .and_then(|e| e.traceback.clone())
                .or_else(|| outcome.error.as_ref().map(|e| e.message.clone()))
                .unwrap_or_default();
            status
                .set_type(outcome.category.as_str())
                .set_message(message)
                .set_description(description);
            status
        }
    };
    let mut case = TestCase::new(format!("{} (line {})", snippet.id, snippet.line), status);
    case.set_classname(snippet.path.as_str())
        .set_time(Duration::from_secs_f64(
            (outcome.duration_ms / 1000.0).max(0.0),
        ));
    if !outcome.stdout.text.is_empty() {
        case.set_system_out(outcome.stdout.text.as_str());
    }
    if !outcome.stderr.text.is_empty() {
        case.set_system_err(outcome.stderr.text.as_str());
    }
    case
}

fn reference_case(reference: &Reference) -> TestCase {
    let message = facts::reference_message(reference);
    let status = match reference.status {
        ReferenceStatus::Unresolved if facts::reference_fails(reference) => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let mut full = format!("{}:{}: {message}", reference.path, reference.line);
            if let Some(help) = facts::help(&reference.suggestions) {
                full.push_str("; ");
                full.push_str(&help);
            }
            status.set_type("unresolved-reference").set_message(full);
            status
        }
        ReferenceStatus::Unchecked | ReferenceStatus::Ignored => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(message.as_str());
            status
        }
        // Resolved, or unresolved at a severity that does not fail the run (as the exit code).
        _ => TestCaseStatus::success(),
    };
    let mut case = TestCase::new(
        format!("reference {} (line {})", reference.text, reference.line),
        status,
    );
    case.set_classname(reference.path.as_str());
    if reference.status == ReferenceStatus::Unresolved && !facts::reference_fails(reference) {
        case.set_system_out(format!("warning: {message}"));
    }
    case
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    #[test]
    fn suites_per_document_cases_per_snippet_and_reference() {
        let xml = render_junit(&fixture::record());
        insta::assert_snapshot!(xml);
    }

    #[test]
    fn control_characters_never_reach_the_xml() {
        let xml = render_junit(&fixture::record());
        assert!(!xml.contains('\u{1b}') && !xml.contains('\u{7}'));
        assert!(xml.contains("&lt;/pre&gt;&lt;script&gt;"));
    }
}

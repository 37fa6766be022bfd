//! The findings of a run, in the order a reader should meet them: errors first, then
//! warnings, then notes; within a severity, by document and line. The HTML sidebar, its
//! keyboard navigation and the Markdown summary all walk this one list.

use snipcheck_record::{Diagnostic, Record, Reference, Severity, SnippetRecord, Status};

use crate::facts;

/// What a finding is about.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// A failed example.
    Example(&'a SnippetRecord),
    /// A claim in the prose that does not resolve.
    Claim(&'a Reference),
    /// A problem with the input itself.
    Input(&'a Diagnostic),
}

#[derive(Debug, Clone, Copy)]
pub struct Finding<'a> {
    /// 1-based place in the list; the HTML anchors are named after it.
    pub number: usize,
    pub severity: Severity,
    pub subject: Subject<'a>,
}

impl<'a> Finding<'a> {
    pub fn path(&self) -> &'a str {
        match self.subject {
            Subject::Example(entry) => &entry.snippet.path,
            Subject::Claim(reference) => &reference.path,
            Subject::Input(diagnostic) => &diagnostic.path,
        }
    }

    /// The document line it points at, when there is one.
    pub fn line(&self) -> Option<u32> {
        match self.subject {
            Subject::Example(entry) => Some(facts::focus_line(entry)),
            Subject::Claim(reference) => Some(reference.line),
            Subject::Input(diagnostic) => diagnostic.line,
        }
    }

    /// The anchor of its place in the document view.
    pub fn anchor(&self) -> String {
        format!("finding-{}", self.number)
    }
}

/// Every finding of the record, errors first.
pub fn findings(record: &Record) -> Vec<Finding<'_>> {
    let examples = record
        .snippets
        .iter()
        .filter(|e| e.outcome.status == Status::Failed)
        .map(|e| (Severity::Error, Subject::Example(e)));
    let claims = record
        .references
        .iter()
        .filter(|r| facts::reference_is_finding(r))
        .map(|r| (r.severity, Subject::Claim(r)));
    let inputs = record
        .diagnostics
        .iter()
        .map(|d| (d.severity, Subject::Input(d)));
    let mut list: Vec<Finding> = examples
        .chain(claims)
        .chain(inputs)
        .map(|(severity, subject)| Finding {
            number: 0,
            severity,
            subject,
        })
        .collect();
    let documents = facts::documents(record);
    let document_order = |path: &str| documents.iter().position(|d| *d == path);
    let column = |finding: &Finding| match finding.subject {
        Subject::Claim(reference) => reference.column,
        _ => 0,
    };
    list.sort_by_key(|f| {
        (
            std::cmp::Reverse(f.severity),
            document_order(f.path()),
            f.line(),
            column(f),
        )
    });
    for (index, finding) in list.iter_mut().enumerate() {
        finding.number = index + 1;
    }
    list
}

/// "1 failing example, 8 wrong claims, 1 input problem" (only the kinds present).
pub fn tally(findings: &[Finding]) -> String {
    let (mut examples, mut claims, mut inputs) = (0u32, 0u32, 0u32);
    for finding in findings {
        match finding.subject {
            Subject::Example(_) => examples += 1,
            Subject::Claim(_) => claims += 1,
            Subject::Input(_) => inputs += 1,
        }
    }
    let parts: Vec<String> = [
        (examples, "failing example"),
        (claims, "wrong claim"),
        (inputs, "input problem"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}{}", facts::plural(n)))
    .collect();
    if parts.is_empty() {
        "no findings".into()
    } else {
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    #[test]
    fn errors_come_first_then_document_order() {
        let record = fixture::record();
        let list = findings(&record);
        let seen: Vec<(Severity, &str, Option<u32>)> = list
            .iter()
            .map(|f| (f.severity, f.path(), f.line()))
            .collect();
        assert_eq!(
            seen,
            [
                (Severity::Error, "docs/guide.md", Some(3)),
                (Severity::Error, "docs/guide.md", Some(12)),
                (Severity::Error, "docs/other.txt", Some(20)),
                (Severity::Error, "docs/broken.md", None),
                (Severity::Warning, "docs/guide.md", Some(5)),
                (Severity::Warning, "docs/other.txt", Some(40)),
            ]
        );
        assert_eq!(
            list.iter().map(|f| f.number).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 6]
        );
        assert_eq!(
            tally(&list),
            "2 failing examples, 2 wrong claims, 2 input problems"
        );
    }
}

//! Phrasings and groupings every format shares, read straight from the record.

use std::collections::HashMap;

use snipcheck_record::{
    Category, Diagnostic, Record, Reference, ReferenceStatus, Severity, SnippetRecord, Status,
};

/// The document line a snippet's verdict points at: where the error happened, else where
/// the snippet starts.
pub fn focus_line(entry: &SnippetRecord) -> u32 {
    entry
        .outcome
        .error
        .as_ref()
        .and_then(|e| e.line)
        .unwrap_or(entry.snippet.line)
}

/// Whether the error happened on a line of the snippet's code (not outside it, as a timeout).
pub fn error_line_in_snippet(entry: &SnippetRecord) -> Option<u32> {
    let line = entry.outcome.error.as_ref()?.line?;
    (entry.snippet.line..=entry.snippet.end_line)
        .contains(&line)
        .then_some(line)
}

/// The code line the error happened on, when it happened on one.
pub fn failing_line(entry: &SnippetRecord) -> Option<&str> {
    let line = error_line_in_snippet(entry)?;
    entry
        .snippet
        .code
        .lines()
        .nth((line - entry.snippet.line) as usize)
}

/// One sentence: the exception type and the first line of its message.
pub fn reason(entry: &SnippetRecord) -> Option<String> {
    let error = entry.outcome.error.as_ref()?;
    let message = first_line(&error.message);
    Some(if message.is_empty() {
        error.kind.clone()
    } else {
        format!("{}: {message}", error.kind)
    })
}

/// The best suggestion, phrased as a question.
pub fn help(suggestions: &[String]) -> Option<String> {
    let first = suggestions.first()?;
    // A hint in words (what would define an undefined name) is shown as it is.
    if first.contains(' ') {
        return Some(first.clone());
    }
    Some(format!("did you mean `{first}`?"))
}

/// Whether a reference is a finding (something the author should fix).
pub fn reference_is_finding(reference: &Reference) -> bool {
    reference.status == ReferenceStatus::Unresolved
}

/// Whether a reference fails the run (the same rule the exit code follows).
pub fn reference_fails(reference: &Reference) -> bool {
    reference_is_finding(reference) && reference.severity == Severity::Error
}

/// What became of a reference, in one sentence.
pub fn reference_message(reference: &Reference) -> String {
    format!("`{}` {}", reference.text, reference_verdict(reference))
}

/// What became of a reference, without its name: the note beside it in the document view.
pub fn reference_verdict(reference: &Reference) -> String {
    let within = match &reference.library {
        Some(library) => format!(" in {library}"),
        None => String::new(),
    };
    match reference.status {
        ReferenceStatus::Resolved => match &reference.resolved {
            Some(resolved) => format!("resolves to `{resolved}`"),
            None => format!("resolves{within}"),
        },
        ReferenceStatus::Unresolved => format!("not found{within}"),
        ReferenceStatus::Unchecked => match &reference.reason {
            Some(reason) => format!("not checked: {reason}"),
            None => "not checked".into(),
        },
        ReferenceStatus::Ignored => "ignored as marked".into(),
    }
}

pub fn reference_status_name(status: ReferenceStatus) -> &'static str {
    match status {
        ReferenceStatus::Resolved => "resolved",
        ReferenceStatus::Unresolved => "unresolved",
        ReferenceStatus::Unchecked => "unchecked",
        ReferenceStatus::Ignored => "ignored",
    }
}

pub fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// `path:line` or `path` when the line is unknown.
pub fn diagnostic_place(diagnostic: &Diagnostic) -> String {
    match diagnostic.line {
        Some(line) => format!("{}:{line}", diagnostic.path),
        None => diagnostic.path.clone(),
    }
}

/// Failed snippets per category, most frequent first (ties in category order).
pub fn failures_by_category(record: &Record) -> Vec<(Category, u32)> {
    let mut counts: Vec<(Category, u32)> = Category::ALL
        .iter()
        .map(|&c| {
            let n = record
                .snippets
                .iter()
                .filter(|e| e.outcome.status == Status::Failed && e.outcome.category == c)
                .count() as u32;
            (c, n)
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counts
}

/// Every document the record speaks of, in first-seen order.
pub fn documents(record: &Record) -> Vec<&str> {
    let mut paths: Vec<&str> = Vec::new();
    let all = record
        .snippets
        .iter()
        .map(|s| s.snippet.path.as_str())
        .chain(record.references.iter().map(|r| r.path.as_str()))
        .chain(record.diagnostics.iter().map(|d| d.path.as_str()));
    for path in all {
        if !paths.contains(&path) {
            paths.push(path);
        }
    }
    paths
}

pub fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

pub fn plural(n: u32) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// "17 snippets in 2 documents: 4 passed, 13 failed, 0 skipped"
pub fn summary_sentence(record: &Record) -> String {
    let s = &record.summary;
    format!(
        "{} snippet{} in {} document{}: {} passed, {} failed, {} skipped",
        s.snippets,
        plural(s.snippets),
        s.documents,
        plural(s.documents),
        s.passed,
        s.failed,
        s.skipped
    )
}

/// Each path shortened to its last components, as few as tell it apart from the others
/// (`guide.md`, or `en/guide.md` beside `fr/guide.md`). Keyed by the full path.
pub fn short_paths<'a>(paths: &[&'a str]) -> HashMap<&'a str, String> {
    let parts: Vec<Vec<&str>> = paths
        .iter()
        .map(|p| p.split('/').filter(|c| !c.is_empty()).collect())
        .collect();
    let suffix =
        |components: &[&str], n: usize| components[components.len().saturating_sub(n)..].join("/");
    let mut short = HashMap::new();
    for (path, components) in paths.iter().zip(&parts) {
        let mut n = 1;
        while n < components.len() {
            let mine = suffix(components, n);
            let shared = parts
                .iter()
                .filter(|other| suffix(other, n) == mine)
                .count();
            if shared <= 1 {
                break;
            }
            n += 1;
        }
        let shortened = if n >= components.len() {
            path.to_string()
        } else {
            suffix(components, n)
        };
        short.insert(*path, shortened);
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_paths_keep_what_tells_them_apart() {
        let short = short_paths(&[
            "docs/en/guide.md",
            "docs/fr/guide.md",
            "README.md",
            "a/b/notes.txt",
        ]);
        assert_eq!(short["docs/en/guide.md"], "en/guide.md");
        assert_eq!(short["docs/fr/guide.md"], "fr/guide.md");
        assert_eq!(short["README.md"], "README.md");
        assert_eq!(short["a/b/notes.txt"], "notes.txt");
        // The same name twice in one folder cannot happen; a path that is a suffix of
        // another stays whole.
        let short = short_paths(&["guide.md", "old/guide.md"]);
        assert_eq!(short["guide.md"], "guide.md");
        assert_eq!(short["old/guide.md"], "old/guide.md");
    }
}

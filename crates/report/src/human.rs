//! The terminal summary: one line per snippet, the reason for each failure, a total.

use std::fmt::Write;

use snipcheck_record::{Category, Record, ReferenceStatus, Severity, SnippetRecord, Status};

#[derive(Debug, Clone, Default)]
pub struct HumanOptions {
    /// Only failures, diagnostics and the summary.
    pub quiet: bool,
    /// Captured output and tracebacks too.
    pub verbose: bool,
}

pub fn render_human(record: &Record, options: &HumanOptions) -> String {
    let mut out = String::new();
    for diagnostic in &record.diagnostics {
        let place = match diagnostic.line {
            Some(line) => format!("{}:{line}", diagnostic.path),
            None => diagnostic.path.clone(),
        };
        let level = match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "note",
        };
        let _ = writeln!(out, "{level}: {place}: {}", diagnostic.message);
    }
    for entry in &record.snippets {
        if options.quiet && entry.outcome.status != Status::Failed {
            continue;
        }
        write_snippet(&mut out, entry, options);
    }
    for reference in &record.references {
        if reference.status != ReferenceStatus::Unresolved {
            continue;
        }
        let level = if reference.severity == Severity::Error {
            "error"
        } else {
            "warning"
        };
        let _ = write!(
            out,
            "{level}: {}:{}:{}: `{}` not found",
            reference.path, reference.line, reference.column, reference.text
        );
        if let Some(library) = &reference.library {
            let _ = write!(out, " in {library}");
        }
        out.push('\n');
        if let Some(first) = reference.suggestions.first() {
            let _ = writeln!(out, "     help: did you mean `{first}`?");
        }
    }
    write_summary(&mut out, record);
    out
}

fn write_snippet(out: &mut String, entry: &SnippetRecord, options: &HumanOptions) {
    let (snippet, outcome) = (&entry.snippet, &entry.outcome);
    let label = match outcome.status {
        Status::Passed => "PASS",
        Status::Failed => "FAIL",
        Status::Skipped => "SKIP",
    };
    let line = outcome
        .error
        .as_ref()
        .and_then(|e| e.line)
        .unwrap_or(snippet.line);
    let _ = write!(out, "{label} {}:{line} {}", snippet.path, snippet.id);
    if let Some(error) = &outcome.error {
        let _ = write!(
            out,
            " [{}] {}: {}",
            outcome.category,
            error.kind,
            first_line(&error.message)
        );
    } else if outcome.category == Category::Skipped {
        let _ = write!(out, " [skipped]");
    }
    out.push('\n');
    if let Some(first) = outcome.suggestions.first() {
        let _ = writeln!(out, "     help: did you mean `{first}`?");
    }
    if options.verbose {
        if let Some(traceback) = outcome.error.as_ref().and_then(|e| e.traceback.as_ref()) {
            write_indented(out, "traceback", traceback);
        }
        write_indented(out, "stdout", &outcome.stdout.text);
        write_indented(out, "stderr", &outcome.stderr.text);
    }
}

fn write_indented(out: &mut String, title: &str, text: &str) {
    if text.trim().is_empty() {
        return;
    }
    let _ = writeln!(out, "     {title}:");
    for line in text.lines() {
        let _ = writeln!(out, "       | {line}");
    }
}

fn write_summary(out: &mut String, record: &Record) {
    let s = &record.summary;
    let _ = write!(
        out,
        "\n{} snippet{} in {} document{}: {} passed, {} failed, {} skipped",
        s.snippets,
        plural(s.snippets),
        s.documents,
        plural(s.documents),
        s.passed,
        s.failed,
        s.skipped
    );
    let mut by_category: Vec<(Category, u32)> = Category::ALL
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
    by_category.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    if !by_category.is_empty() {
        let parts: Vec<String> = by_category
            .iter()
            .map(|(c, n)| format!("{n} {c}"))
            .collect();
        let _ = write!(out, " ({})", parts.join(", "));
    }
    out.push('\n');
    if s.references > 0 {
        let _ = writeln!(
            out,
            "{} reference{} in the prose: {} unresolved",
            s.references,
            plural(s.references),
            s.unresolved_references
        );
    }
    if s.errors > 0 {
        let _ = writeln!(
            out,
            "{} input error{} (see above)",
            s.errors,
            plural(s.errors)
        );
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

fn plural(n: u32) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

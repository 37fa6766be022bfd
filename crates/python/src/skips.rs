//! Docstring examples the run did not check, and why, as the record's diagnostics.
//!
//! `runner.py` skips the examples doctest would not run (the object is not the module's own
//! once imported, or has another docstring), and every docstring of a file whose module name
//! already belongs to another file. A verdict carries text only in its `error`, so that is
//! where the reason travels; here it moves to the snippet's notes and to a diagnostic.

use snipcheck_record::{Diagnostic, Severity, SnippetRecord, Status};

/// The error kind of examples doctest would not run: an info diagnostic at the docstring.
pub const NOT_RUN_BY_DOCTEST: &str = "snipcheck.NotRunByDoctest";
/// The error kind of a file whose module name is another file's: one error for the file.
pub const MODULE_NAME_TAKEN: &str = "snipcheck.ModuleNameTaken";

/// Moves the reasons out of such skipped verdicts into the returned diagnostics (each once).
pub fn diagnose(records: &mut [SnippetRecord]) -> Vec<Diagnostic> {
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    for record in records {
        if record.outcome.status != Status::Skipped {
            continue;
        }
        let Some(error) = &record.outcome.error else {
            continue;
        };
        let snippet = &record.snippet;
        let diagnostic = match error.kind.as_str() {
            NOT_RUN_BY_DOCTEST => Diagnostic {
                path: snippet.path.clone(),
                line: Some(snippet.line),
                severity: Severity::Info,
                message: format!(
                    "examples of `{}` not run, since doctest would not run them: {}",
                    snippet.section.as_deref().unwrap_or(&snippet.id),
                    error.message
                ),
            },
            MODULE_NAME_TAKEN => Diagnostic {
                path: snippet.path.clone(),
                line: None,
                severity: Severity::Error,
                message: error.message.clone(),
            },
            _ => continue,
        };
        record.outcome.notes.push(error.message.clone());
        record.outcome.error = None;
        if !diagnostics.contains(&diagnostic) {
            diagnostics.push(diagnostic);
        }
    }
    diagnostics
}

#[cfg(test)]
mod tests {
    use snipcheck_record::{Category, Outcome, Snippet, SnippetError};

    use super::*;

    fn skipped(id: &str, line: u32, kind: &str, message: &str) -> SnippetRecord {
        SnippetRecord {
            snippet: Snippet {
                id: id.into(),
                path: "m.py".into(),
                line,
                section: Some(id.into()),
                ..Snippet::default()
            },
            outcome: Outcome {
                error: Some(SnippetError {
                    kind: kind.into(),
                    message: message.into(),
                    line: None,
                    traceback: None,
                }),
                ..Outcome::clean(Category::Skipped, 0.0)
            },
        }
    }

    #[test]
    fn reasons_become_diagnostics_and_notes() {
        let mut records = vec![
            skipped("date.__repr__", 5, NOT_RUN_BY_DOCTEST, "replaced"),
            skipped("a", 9, MODULE_NAME_TAKEN, "name taken"),
            skipped("b", 12, MODULE_NAME_TAKEN, "name taken"),
            // A skipped verdict of any other kind is left as it is.
            skipped("c", 15, "ValueError", "other"),
        ];
        let diagnostics = diagnose(&mut records);
        let summary: Vec<(Option<u32>, Severity, &str)> = diagnostics
            .iter()
            .map(|d| (d.line, d.severity, d.message.as_str()))
            .collect();
        assert_eq!(
            summary,
            [
                (
                    Some(5),
                    Severity::Info,
                    "examples of `date.__repr__` not run, since doctest would not run them: replaced"
                ),
                (None, Severity::Error, "name taken"),
            ]
        );
        assert!(records[..3].iter().all(|r| r.outcome.error.is_none()));
        assert_eq!(records[0].outcome.notes, ["replaced"]);
        assert!(records[3].outcome.error.is_some());
    }
}

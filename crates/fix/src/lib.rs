//! Fixes a document from its record, in the style of `ruff check --fix`.
//!
//! [`names`] decides which replacement a wrong API name gets and whether it is safe to apply
//! unasked; [`edit`] applies replacements to a document's text, keeping the words around
//! them right ("an Imputer class" becomes "a SimpleImputer class"); [`output`] rewrites the
//! expected output of examples from what they printed (`--update-output`); [`write`] shows
//! the result as a unified diff or writes it atomically, refusing when the document changed
//! since it was read. Nothing here runs a check: the caller gives the check's record.

pub mod edit;
pub mod names;
pub mod output;
pub mod write;

pub use edit::{apply, apply_lines, Applied, LineEdit, Skipped};
pub use names::{fixes_for, Fix, Safety};
pub use output::{updates_for, OutputUpdate};
pub use write::{unified_diff, write_if_unchanged};

use snipcheck_extract::{Document, Format};
use snipcheck_record::Record;

/// What to fix.
#[derive(Debug, Clone, Copy, Default)]
pub struct Request {
    /// Also the name fixes that change what the sentence says.
    pub unsafe_fixes: bool,
    /// Also rewrite expected output that differs from what the examples printed.
    pub update_output: bool,
}

/// One document's fixes: its text before and after, and what was and was not applied.
#[derive(Debug)]
pub struct DocumentFix {
    pub path: String,
    pub before: String,
    pub after: String,
    /// The name fixes (`names.text` is the text with only those applied).
    pub names: Applied,
    /// The expected outputs rewritten, and those that are not (with why).
    pub outputs: Vec<OutputUpdate>,
}

impl DocumentFix {
    pub fn changed(&self) -> bool {
        self.before != self.after
    }

    /// How many fixes the new text holds.
    pub fn applied(&self) -> usize {
        self.names.applied.len() + self.outputs.iter().filter(|u| u.change.is_ok()).count()
    }

    /// What is not applied, one line each (`path:line[:column]: what: why`).
    pub fn remaining(&self) -> Vec<String> {
        let names = self.names.skipped.iter().map(|s| {
            format!(
                "{}:{}:{}: `{}` -> `{}` not applied: {}",
                self.path, s.fix.line, s.fix.column, s.fix.written, s.fix.replacement, s.why
            )
        });
        let outputs = self.outputs.iter().filter_map(|u| {
            let why = u.change.as_ref().err()?;
            Some(format!(
                "{}:{}: expected output of `{}` not updated: {why}",
                self.path, u.line, u.snippet
            ))
        });
        names.chain(outputs).collect()
    }

    /// The name fixes not applied only because they are unsafe.
    pub fn unsafe_left(&self, request: Request) -> usize {
        match request.unsafe_fixes {
            true => 0,
            false => self
                .names
                .skipped
                .iter()
                .filter(|s| !s.fix.is_safe())
                .count(),
        }
    }
}

/// The fixes for every document that has some. A document's name fixes apply where the
/// record's lines and columns are positions in its text (not so for notebooks, whose
/// cells are JSON strings, nor for HTML, whose text is decoded); its expected outputs, when
/// asked, where the run recorded a mismatch.
pub fn plan(documents: &[Document], record: &Record, request: Request) -> Vec<DocumentFix> {
    let fixes = fixes_for(&record.references);
    documents
        .iter()
        .filter_map(|document| {
            let path = document.path.as_str();
            let own: Vec<Fix> = fixes.iter().filter(|f| f.path == path).cloned().collect();
            let outputs = if request.update_output {
                let snippets: Vec<_> = record
                    .snippets
                    .iter()
                    .filter(|s| s.snippet.path == path)
                    .cloned()
                    .collect();
                updates_for(&document.text, document.format, &snippets)
            } else {
                Vec::new()
            };
            if own.is_empty() && outputs.is_empty() {
                return None;
            }
            let positions_are_text = !matches!(document.format, Format::Notebook | Format::Html);
            let names = if positions_are_text {
                apply(&document.text, &own, request.unsafe_fixes)
            } else {
                Applied {
                    text: document.text.clone(),
                    applied: Vec::new(),
                    skipped: own
                        .into_iter()
                        .map(|fix| Skipped {
                            fix,
                            why: "fixes are not applied to this format yet".into(),
                        })
                        .collect(),
                }
            };
            // Name fixes never add or remove a line, so the outputs' lines still hold.
            let edits: Vec<LineEdit> = outputs
                .iter()
                .filter_map(|u| u.change.clone().ok())
                .collect();
            let after = apply_lines(&names.text, &edits);
            Some(DocumentFix {
                path: path.to_string(),
                before: document.text.clone(),
                after,
                names,
                outputs,
            })
        })
        .collect()
}

/// What a `fix` run did, for its last line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub applied: usize,
    pub remaining: usize,
    /// Of the remaining: name fixes `--unsafe-fixes` would apply.
    pub unsafe_left: usize,
    /// Only shown (`--diff`), not written.
    pub dry_run: bool,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = if self.dry_run {
            "would be applied"
        } else {
            "applied"
        };
        let plural = if self.applied == 1 { "" } else { "es" };
        write!(
            f,
            "snipcheck: {} fix{plural} {verb}, {} remaining",
            self.applied, self.remaining
        )?;
        if self.unsafe_left > 0 {
            let them = if self.unsafe_left == 1 { "it" } else { "them" };
            write!(
                f,
                " ({} unsafe: --unsafe-fixes applies {them})",
                self.unsafe_left
            )?;
        }
        Ok(())
    }
}

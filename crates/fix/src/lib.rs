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

/// The fixes for every document that has some: its name fixes, where the record's line and
/// column still hold the name, and its expected outputs, when asked, where the run
/// recorded a mismatch.
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
            let names = apply_names(document, own, request.unsafe_fixes);
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

/// Applies the name fixes of one document. A reference's line and column are positions in
/// the file's own text in every format (in HTML and notebooks only the examples' code
/// has references, found where the file spells the name out, inside a `<pre>` or a cell's
/// JSON string), so a replacement is safe there when the format writes it as it is: an
/// identifier needs no entity nor JSON escape; anything else is skipped, not encoded.
fn apply_names(document: &Document, fixes: Vec<Fix>, unsafe_fixes: bool) -> Applied {
    let needs_escape = |c: char| match document.format {
        Format::Html => matches!(c, '&' | '<' | '>'),
        Format::Notebook => matches!(c, '"' | '\\') || c.is_control(),
        _ => false,
    };
    let (plain, escaped): (Vec<Fix>, Vec<Fix>) = fixes
        .into_iter()
        .partition(|fix| !fix.replacement.chars().any(needs_escape));
    let mut applied = apply(&document.text, &plain, unsafe_fixes);
    applied
        .skipped
        .extend(escaped.into_iter().map(|fix| Skipped {
            fix,
            why: "the replacement would need escaping in this format".into(),
        }));
    applied
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(replacement: &str) -> Fix {
        Fix {
            path: "page".into(),
            line: 1,
            column: 6,
            written: "json.laods".into(),
            replacement: replacement.into(),
            safety: Safety::Safe,
        }
    }

    #[test]
    fn names_are_fixed_in_every_format_unless_the_format_would_escape_them() {
        let document = |format, text: &str| Document {
            path: "page".into(),
            text: text.into(),
            format,
        };
        let html = document(Format::Html, "<pre>json.laods(s)</pre>\n");
        let applied = apply_names(&html, vec![fix("json.loads")], false);
        assert_eq!(applied.text, "<pre>json.loads(s)</pre>\n");
        let applied = apply_names(&html, vec![fix("a<b")], false);
        assert_eq!(applied.text, html.text);
        assert!(applied.skipped[0].why.contains("escaping"));

        let notebook = document(Format::Notebook, "    \"json.laods(s)\"\n");
        let mut in_cell = fix("json.loads");
        in_cell.column = 6;
        let applied = apply_names(&notebook, vec![in_cell.clone()], false);
        assert_eq!(applied.text, "    \"json.loads(s)\"\n");
        in_cell.replacement = "a\"b".into();
        let applied = apply_names(&notebook, vec![in_cell], false);
        assert_eq!(applied.text, notebook.text);
    }
}
